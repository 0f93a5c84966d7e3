/**
 * A tiny HTML templating helper for the server-rendered console: every interpolated value is
 * escaped unless it is already `Html` (built by `html` itself), so user data (reasons, XML, IUVs)
 * can never become markup. No build step, no client-side script.
 */
export class Html {
  constructor(readonly value: string) {}
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return escapeHtml(JSON.stringify(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#0b3d91;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#fff;text-decoration:none} header a.on{text-decoration:underline}
header form{margin-left:auto} main{padding:16px;max-width:1400px}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0}
th,td{border:1px solid #d6d9de;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eef0f3} td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#fff;border:1px solid #d6d9de;padding:8px;overflow:auto;max-height:480px}
.state{font-weight:600;padding:1px 6px;border-radius:3px}
.FAILED{background:#fde2e1;color:#8a1c15}.RECONCILED{background:#dff3e4;color:#14532d}
.QUARANTINED{background:#fff1c2;color:#6b4a00}.RECEIVED{background:#e3ecfb;color:#1e3a8a}
.flash{padding:8px 12px;margin:8px 0;border-radius:4px}.ok{background:#dff3e4}.error{background:#fde2e1}
form.inline{display:inline} fieldset{background:#fff;border:1px solid #d6d9de;margin:8px 0}
input,select,button{font:inherit;padding:3px 6px} .tabs a{margin-right:12px}
`;

export type NavItem =
  'receipts' | 'jobs' | 'webhooks' | 'awaiting' | 'activated-rpts' | 'audit' | 'reconciliation';

/** The page frame: navigation, the session's flash message, and a logout form (CSRF-protected). */
export function page(
  title: string,
  body: Html,
  options: {
    nav?: NavItem;
    csrfToken?: string;
    operator?: string;
    flash?: { kind: 'ok' | 'error'; text: string } | undefined;
  } = {},
): string {
  const link = (href: string, label: string, item: NavItem | 'queues') =>
    html`<a href="${href}" class="${options.nav === item ? 'on' : ''}">${label}</a>`;
  const nav =
    options.csrfToken === undefined
      ? html``
      : html`${link('/ops/receipts', 'Receipts', 'receipts')} ${link('/ops/jobs', 'Jobs', 'jobs')}
          ${link('/ops/queues', 'Queues', 'queues')}
          ${link('/ops/webhooks', 'Webhooks', 'webhooks')}
          ${link('/ops/awaiting', 'Awaiting receipts', 'awaiting')}
          ${link('/ops/activated-rpts', 'Activated RPTs', 'activated-rpts')}
          ${link('/ops/audit', 'Audit', 'audit')}
          ${link('/ops/reconciliation', 'Reconciliation', 'reconciliation')}
          <form method="post" action="/ops/logout">
            <input type="hidden" name="_csrf" value="${options.csrfToken}" />
            <span>${options.operator ?? ''}</span> <button type="submit">Log out</button>
          </form>`;
  const flash =
    options.flash === undefined
      ? html``
      : html`<div class="flash ${options.flash.kind}" role="status">${options.flash.text}</div>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>${title} · pagopa-adapter operations</title>
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <header><strong>pagopa-adapter operations</strong> ${nav}</header>
        <main>
          <h1>${title}</h1>
          ${flash} ${body}
        </main>
      </body>
    </html>`.value;
}
