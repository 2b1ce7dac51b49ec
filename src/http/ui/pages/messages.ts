import { html, type Html } from '../html.js';

/** A refusal or failure, said plainly; `requestId` lets an admin find the log line with the real cause. */
export function errorBody(message: string, requestId: string, signIn: boolean): Html {
  return html`<p class="notice" role="alert">${message}</p>
<p class="muted">Request id: <code>${requestId}</code></p>
${signIn ? html`<p><a href="/ui/login">Sign in again</a></p>` : html`<p><a href="/ui">Back to the overview</a></p>`}`;
}

export function signedOutBody(): Html {
  return html`<p>You are signed out of Tether.</p><p><a href="/ui/login">Sign in</a></p>`;
}

export function notConfiguredBody(): Html {
  return html`<p>Dashboard sign-in is not configured. Add <code>admin.saml</code> to tether.yaml and set
<code>TETHER_SESSION_SECRET</code> (see docs/admin.md). The admin API at <code>/api/v1</code> works with API tokens meanwhile.</p>`;
}
