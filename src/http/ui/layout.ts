import type { AdminSessionUser } from '../auth/session.js';
import { CSRF_FIELD } from '../auth/csrf.js';
import { html, type Html } from './html.js';

export type NavItem = 'overview' | 'agents' | 'people' | 'sources' | 'targets' | 'what-if' | 'audit' | 'queues';

const NAV: readonly { id: NavItem; href: string; label: string }[] = [
  { id: 'overview', href: '/ui', label: 'Overview' },
  { id: 'agents', href: '/ui/agents', label: 'Agents' },
  { id: 'people', href: '/ui/people', label: 'People' },
  { id: 'sources', href: '/ui/sources', label: 'Sources' },
  { id: 'targets', href: '/ui/targets', label: 'Targets' },
  { id: 'what-if', href: '/ui/what-if', label: 'What-if' },
  { id: 'audit', href: '/ui/audit', label: 'Audit log' },
  // bull-board's own page (read-only), not rendered with this layout.
  { id: 'queues', href: '/ui/queues', label: 'Queues' },
];

export interface PageContext {
  readonly user: AdminSessionUser;
  readonly csrf: string;
}

function shell(title: string, header: Html, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Tether</title>
<link rel="stylesheet" href="/ui/static/app.css">
<script src="/ui/static/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${header}
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>`;
}

/** A signed-in page: navigation, who is signed in with which role, sign-out (a CSRF-protected POST). */
export function page(context: PageContext, title: string, active: NavItem | null, body: Html): Html {
  const header = html`<header class="top">
  <span class="brand">Tether</span>
  <nav aria-label="Main">
    <ul>${NAV.map((item) => html`<li><a href="${item.href}"${item.id === active ? html` aria-current="page"` : ''}>${item.label}</a></li>`)}</ul>
  </nav>
  <div class="who">
    <span>${context.user.nameId}</span> ${html`<span class="badge badge-neutral" title="Your Tether role">${context.user.role}</span>`}
    <form method="post" action="/ui/logout" class="inline">
      <input type="hidden" name="${CSRF_FIELD}" value="${context.csrf}">
      <button type="submit">Sign out</button>
    </form>
  </div>
</header>`;
  return shell(title, header, html`<h1>${title}</h1>\n${body}`);
}

/** A page for someone not (or no longer) signed in: errors, signed-out notice. */
export function publicPage(title: string, body: Html): Html {
  return shell(title, html`<header class="top"><span class="brand">Tether</span></header>`, html`<h1>${title}</h1>\n${body}`);
}
