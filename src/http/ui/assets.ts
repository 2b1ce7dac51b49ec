/**
 * The dashboard's only static files, kept as strings so the TypeScript build ships them with no bundler.
 * Colours meet WCAG AA contrast on their backgrounds; focus is always visible.
 */
export const STYLESHEET = `
:root { --fg: #1b1f24; --muted: #57606a; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de; --link: #0550ae;
  --ok-bg: #dafbe1; --ok-fg: #116329; --warn-bg: #fff8c5; --warn-fg: #6c4400; --bad-bg: #ffebe9; --bad-fg: #a40e26;
  --focus: #0969da; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
body { margin: 0; line-height: 1.45; font-size: 15px; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, main:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--fg); color: #fff; padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: 0; }
header.top { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #24292f; color: #fff; flex-wrap: wrap; }
header.top a { color: #fff; text-decoration: none; padding: .3rem .5rem; border-radius: 4px; }
header.top a[aria-current="page"] { background: #57606a; }
header.top a:hover { text-decoration: underline; }
.brand { font-weight: 700; font-size: 1.15rem; letter-spacing: .02em; }
header.top nav ul { display: flex; gap: .25rem; list-style: none; margin: 0; padding: 0; }
.who { margin-left: auto; display: flex; align-items: center; gap: .5rem; }
.who button { background: transparent; color: #fff; border: 1px solid #8c959f; }
main { padding: 1rem 1.5rem 3rem; max-width: 1280px; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
section.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin-bottom: 1rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 1rem; }
.stat { font-size: 1.6rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; background: var(--bg); }
caption { text-align: left; font-weight: 600; padding: .4rem 0; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; font-weight: 600; border: 1px solid transparent; }
.badge-ok { background: var(--ok-bg); color: var(--ok-fg); border-color: var(--ok-fg); }
.badge-warn { background: var(--warn-bg); color: var(--warn-fg); border-color: var(--warn-fg); }
.badge-bad { background: var(--bad-bg); color: var(--bad-fg); border-color: var(--bad-fg); }
.badge-neutral { background: #eaeef2; color: var(--fg); border-color: var(--muted); }
form.filters { display: flex; gap: .75rem; flex-wrap: wrap; align-items: flex-end; margin-bottom: 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: .85rem; font-weight: 600; gap: .2rem; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid var(--muted); border-radius: 4px; }
button { background: #f3f4f6; color: var(--fg); cursor: pointer; }
button.primary { background: #1f883d; color: #fff; border-color: #1a7f37; }
button.danger { background: #fff; color: var(--bad-fg); border-color: var(--bad-fg); }
form.inline { display: inline; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
.live-status { font-size: .8rem; color: var(--muted); }
.notice { padding: .6rem 1rem; border-radius: 6px; border: 1px solid var(--bad-fg); background: var(--bad-bg); color: var(--bad-fg); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; }
summary:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.notice-ok { border-color: var(--ok-fg); background: var(--ok-bg); color: var(--ok-fg); }
.notice-bad { border-color: var(--bad-fg); background: var(--bad-bg); color: var(--bad-fg); }
h3 { font-size: 1rem; margin: .25rem 0 .5rem; }
section.held { border-color: var(--warn-fg); background: var(--warn-bg); }
figure.chart { margin: 0 0 1rem; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; }
figure.chart figcaption { font-weight: 600; margin-bottom: .4rem; }
figure.chart svg { display: block; max-width: 100%; height: auto; background: var(--bg); }
figure.chart .grid-line { stroke: var(--line); stroke-width: 1; }
figure.chart .axis { fill: var(--muted); font-size: 11px; }
figure.chart path { fill: none; stroke-width: 2; }
figure.chart path.p50 { stroke: #0550ae; }
figure.chart path.p99 { stroke: #a40e26; stroke-dasharray: 6 4; }
figure.chart circle.p50 { fill: #0550ae; }
figure.chart circle.p99 { fill: #a40e26; }
.legend { font-size: .85rem; margin: .4rem 0; }
.swatch { display: inline-block; width: 1.5rem; height: 0; vertical-align: middle; margin: 0 .25rem 0 .5rem; border-top: 3px solid #0550ae; }
.swatch-p99 { border-top: 3px dashed #a40e26; }
form.what-if fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 1rem; padding: .5rem 1rem .75rem; }
form.what-if legend { font-weight: 600; padding: 0 .25rem; }
form.what-if .choice { margin: .2rem 0; }
form.what-if .fields { display: grid; grid-template-columns: max-content minmax(12rem, 28rem) 1fr; gap: .4rem .75rem; align-items: center; }
form.what-if .fields label { font-weight: 600; }
.hint { font-size: .85rem; color: var(--muted); }
input[type="radio"]:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
`;

/**
 * Live updates by polling: each element with data-live="<url>" is refreshed from that HTML fragment every
 * data-interval ms while the tab is visible. Polls carry X-Tether-Poll so they do not count as activity
 * (the idle timeout still applies); a 401 means the session ended, so the page reloads into sign-in. A
 * region holding keyboard focus is left alone until focus moves on.
 */
export const SCRIPT = `
(() => {
  'use strict';
  const regions = document.querySelectorAll('[data-live]');
  for (const region of regions) {
    const url = region.getAttribute('data-live');
    const every = Number(region.getAttribute('data-interval') || '3000');
    const status = document.getElementById(region.getAttribute('data-status') || '');
    let busy = false;
    let last = null;
    const refresh = async () => {
      if (busy || document.hidden) return;
      busy = true;
      try {
        const response = await fetch(url, { headers: { 'x-tether-poll': '1', accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' });
        if (response.status === 401) { window.location.reload(); return; }
        if (!response.ok) { if (status) status.textContent = 'Live updates paused (' + response.status + ')'; return; }
        const markup = await response.text();
        // Never pull a focused control (a Retry button, an open summary) out from under a keyboard user:
        // the region catches up on the first poll after focus leaves it.
        if (region.contains(document.activeElement) && document.activeElement !== document.body) return;
        if (markup !== last) { last = markup; region.innerHTML = markup; }
        if (status) status.textContent = 'Updated ' + new Date().toLocaleTimeString();
      } catch {
        if (status) status.textContent = 'Live updates paused (offline)';
      } finally {
        busy = false;
      }
    };
    setInterval(refresh, every);
  }
})();
`;
