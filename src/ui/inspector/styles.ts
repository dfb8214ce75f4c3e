/**
 * The inspector's styles: one constructable stylesheet shared by every
 * instance (`adoptedStyleSheets`), which a strict CSP (`style-src 'self'`)
 * allows where a `<style>` element or a `style="…"` attribute is blocked.
 * A `<style>` element is the fallback only where `adoptedStyleSheets` is
 * missing (engines older than the ones offthread targets).
 */

/** The height of a list row in px: the list lays rows out with it, the stylesheet draws them with it. */
export const ROW_HEIGHT = 28

const CSS = `
:host {
  --ot-fg: #1f2328;
  --ot-muted: #59636e;
  --ot-bg: #ffffff;
  --ot-bg-alt: #f6f8fa;
  --ot-border: #d0d7de;
  --ot-row-border: #eaeef2;
  --ot-hover: #f3f6f9;
  --ot-active: #ddf4ff;
  --ot-focus: #0969da;
  --ot-code-bg: #f6f8fa;
  --ot-waiting: #6e7781;
  --ot-delayed: #8250df;
  --ot-blocked: #9a6700;
  --ot-running: #0969da;
  --ot-completed: #1a7f37;
  --ot-failed: #cf222e;
  --ot-cancelled: #57606a;
  display: block;
  box-sizing: border-box;
  height: 30rem;
  min-height: 16rem;
  overflow: hidden;
  contain: content;
  color: var(--ot-fg);
  background: var(--ot-bg);
  border: 1px solid var(--ot-border);
  border-radius: 8px;
  font: 13px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif;
}
@media (prefers-color-scheme: dark) {
  :host {
    --ot-fg: #e6edf3;
    --ot-muted: #9198a1;
    --ot-bg: #0d1117;
    --ot-bg-alt: #151b23;
    --ot-border: #3d444d;
    --ot-row-border: #212830;
    --ot-hover: #151b23;
    --ot-active: #0c2d6b;
    --ot-focus: #4493f8;
    --ot-code-bg: #151b23;
    --ot-waiting: #9198a1;
    --ot-delayed: #ab7df8;
    --ot-blocked: #d29922;
    --ot-running: #4493f8;
    --ot-completed: #3fb950;
    --ot-failed: #f85149;
    --ot-cancelled: #9198a1;
  }
}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
button, input { font: inherit; color: inherit; }
button {
  cursor: pointer;
  border: 1px solid var(--ot-border);
  background: var(--ot-bg);
  border-radius: 6px;
  padding: 0.15rem 0.6rem;
}
button:hover:not(:disabled) { background: var(--ot-hover); }
button:disabled { cursor: default; opacity: 0.5; }
button:focus-visible, input:focus-visible, .heading:focus-visible { outline: 2px solid var(--ot-focus); outline-offset: 1px; }
.shell { display: flex; flex-direction: column; height: 100%; }
.top {
  display: flex;
  flex-wrap: wrap;
  align-items: baseline;
  gap: 0.25rem 1rem;
  padding: 0.5rem 0.75rem;
  background: var(--ot-bg-alt);
  border-bottom: 1px solid var(--ot-border);
}
.title { font-weight: 600; }
.role, .rate, .total, .announce { color: var(--ot-muted); }
.role::before { content: '\\25CF'; margin-right: 0.35em; color: var(--ot-waiting); }
.role[data-role='runner']::before { color: var(--ot-completed); }
.rate { font-variant-numeric: tabular-nums; }
.announce { margin-left: auto; }
.blocked { color: var(--ot-failed, #b42318); font-weight: 600; }
.bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.35rem; padding: 0.5rem 0.75rem; }
.counts { display: contents; }
.count { display: inline-flex; gap: 0.4em; align-items: baseline; }
.count .n { font-weight: 600; font-variant-numeric: tabular-nums; }
.count[aria-pressed='true'] { border-color: var(--ot-focus); background: var(--ot-active); }
.count[data-status]::before { content: ''; align-self: center; width: 0.55em; height: 0.55em; border-radius: 50%; background: currentColor; }
.count[data-status='waiting']::before, .badge[data-status='waiting'] { color: var(--ot-waiting); }
.count[data-status='delayed']::before, .badge[data-status='delayed'] { color: var(--ot-delayed); }
.count[data-status='blocked']::before, .badge[data-status='blocked'] { color: var(--ot-blocked); }
.count[data-status='running']::before, .badge[data-status='running'] { color: var(--ot-running); }
.count[data-status='completed']::before, .badge[data-status='completed'] { color: var(--ot-completed); }
.count[data-status='failed']::before, .badge[data-status='failed'] { color: var(--ot-failed); }
.count[data-status='cancelled']::before, .badge[data-status='cancelled'] { color: var(--ot-cancelled); }
.task { display: inline-flex; gap: 0.35rem; align-items: baseline; margin-left: auto; }
.task input { width: 10rem; padding: 0.15rem 0.4rem; border: 1px solid var(--ot-border); border-radius: 6px; background: var(--ot-bg); }
.body { flex: 1; min-height: 0; display: flex; border-top: 1px solid var(--ot-border); }
.pane { flex: 1 1 55%; min-width: 0; display: flex; flex-direction: column; }
.columns, .row {
  display: grid;
  grid-template-columns: 6.5rem minmax(4rem, 1fr) minmax(5rem, 1.4fr) 2.2rem 4rem 4.8rem;
  gap: 0.5rem;
  align-items: center;
  padding: 0 0.75rem;
  white-space: nowrap;
}
.columns { height: 1.8rem; color: var(--ot-muted); font-size: 0.85em; border-bottom: 1px solid var(--ot-border); }
.columns > span, .row > span { overflow: hidden; text-overflow: ellipsis; }
.list {
  position: relative;
  flex: 1;
  min-height: 0;
  overflow-x: hidden;
  overflow-y: auto;
  outline: none;
  overscroll-behavior: contain;
  contain: content;
}
.list:focus-visible { box-shadow: inset 0 0 0 2px var(--ot-focus); }
.spacer { width: 1px; height: 0; }
.row {
  position: absolute;
  top: 0;
  left: 0;
  right: 0;
  height: ${ROW_HEIGHT}px;
  border-bottom: 1px solid var(--ot-row-border);
  cursor: pointer;
  contain: layout paint style;
}
.row:hover { background: var(--ot-hover); }
.row[aria-selected='true'] { background: var(--ot-active); }
.list:focus .row[aria-selected='true'] { box-shadow: inset 2px 0 0 var(--ot-focus); }
.row.loading { color: var(--ot-muted); }
.id, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { font-weight: 500; }
.badge::before { content: '\\25CF'; margin-right: 0.35em; }
.row .badge { color: inherit; }
.row .badge::before { color: var(--ot-waiting); }
.row .badge[data-status='delayed']::before { color: var(--ot-delayed); }
.row .badge[data-status='blocked']::before { color: var(--ot-blocked); }
.row .badge[data-status='running']::before { color: var(--ot-running); }
.row .badge[data-status='completed']::before { color: var(--ot-completed); }
.row .badge[data-status='failed']::before { color: var(--ot-failed); }
.row .badge[data-status='cancelled']::before { color: var(--ot-cancelled); }
.empty { position: absolute; top: 0; left: 0; right: 0; padding: 1rem 0.75rem; color: var(--ot-muted); }
.detail { flex: 1 1 45%; min-width: 0; overflow: auto; padding: 0.6rem 0.75rem 1rem; border-left: 1px solid var(--ot-border); }
.detail h2 { font-size: 1rem; margin: 0 0 0.15rem; }
.detail h3 { font-size: 0.8rem; margin: 0.9rem 0 0.25rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--ot-muted); }
.detail .sub { margin: 0; word-break: break-all; }
.actions { display: flex; flex-wrap: wrap; gap: 0.35rem; margin: 0.5rem 0; }
.actions .close { margin-left: auto; }
.fields { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.1rem 0.75rem; margin: 0; }
.fields dt { color: var(--ot-muted); }
.fields dd { margin: 0; overflow-wrap: anywhere; }
pre {
  margin: 0.25rem 0;
  padding: 0.45rem 0.55rem;
  max-height: 14rem;
  overflow: auto;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
  background: var(--ot-code-bg);
  border-radius: 6px;
  font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
.message { margin: 0.25rem 0; font-weight: 500; color: var(--ot-failed); overflow-wrap: anywhere; }
.cause { margin: 0.25rem 0 0; color: var(--ot-muted); overflow-wrap: anywhere; }
.attempts, .logs { list-style: none; margin: 0; padding: 0; }
.attempts > li + li { margin-top: 0.5rem; }
.logs > li { display: grid; grid-template-columns: max-content 3.2rem minmax(0, 1fr); gap: 0.5rem; padding: 0.1rem 0; border-bottom: 1px solid var(--ot-row-border); }
.logs .level[data-level='warn'] { color: var(--ot-blocked); }
.logs .level[data-level='error'] { color: var(--ot-failed); }
.logs .meta { grid-column: 3; color: var(--ot-muted); overflow-wrap: anywhere; }
.note { color: var(--ot-muted); margin: 0.25rem 0; }
`

let shared: CSSStyleSheet | undefined

/** Gives `root` the inspector's styles: the shared constructable sheet, else a `<style>` element. */
export function applyStyles(root: ShadowRoot): void {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
    if (!shared) {
      shared = new CSSStyleSheet()
      shared.replaceSync(CSS)
    }
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, shared]
    return
  }
  const style = document.createElement('style')
  style.textContent = CSS
  root.prepend(style)
}
