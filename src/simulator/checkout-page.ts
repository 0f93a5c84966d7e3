/**
 * The simulator's checkout page: the notices of a cart and two buttons. Server-rendered, no
 * script; every value is escaped.
 */
import type { Session } from './index';

const escapeHtml = (v: string): string =>
  v.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const euros = (cents: number): string =>
  `€ ${Math.floor(cents / 100)},${String(cents % 100).padStart(2, '0')}`;

const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#17324d}
h1{font-size:1.4rem}.badge{background:#0066cc;color:#fff;border-radius:4px;padding:2px 8px;font-size:.8rem}
table{width:100%;border-collapse:collapse;margin:1rem 0}td,th{border-bottom:1px solid #ccd;padding:.5rem;text-align:left}
td.amount,th.amount{text-align:right}form{display:inline}button{font-size:1rem;padding:.6rem 1.4rem;margin-right:1rem;border-radius:4px;border:1px solid #0066cc;cursor:pointer}
button.pay{background:#0066cc;color:#fff}button.cancel{background:#fff;color:#0066cc}.state{margin-top:1rem;font-weight:bold}`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

export function checkoutPage(s: Session): string {
  const notices = s.cart.paymentNotices;
  const total = notices.reduce((sum, n) => sum + n.amount, 0);
  const rows = notices
    .map(
      (n) =>
        `<tr><td>${escapeHtml(n.companyName)}<br><small>${escapeHtml(n.description)}</small></td><td><code>${escapeHtml(n.noticeNumber)}</code></td><td class="amount">${euros(n.amount)}</td></tr>`,
    )
    .join('');
  const buttons =
    s.state === 'OPEN'
      ? `<form method="post" action="/checkout/${escapeHtml(s.id)}/pay"><button class="pay" id="pay" type="submit">Pay ${euros(total)}</button></form>` +
        `<form method="post" action="/checkout/${escapeHtml(s.id)}/cancel"><button class="cancel" id="cancel" type="submit">Cancel</button></form>`
      : `<p class="state" id="state">This payment is ${escapeHtml(s.state)}.</p>`;
  return layout(
    'Checkout (simulator)',
    `<h1>Checkout <span class="badge">pagoPA simulator</span></h1>
<p>A simulated PSP will collect the payment and send the receipt to the creditor.</p>
<table><thead><tr><th>Creditor / reason</th><th>Notice number</th><th class="amount">Amount</th></tr></thead>
<tbody>${rows}</tbody><tfoot><tr><th colspan="2">Total</th><th class="amount">${euros(total)}</th></tr></tfoot></table>
${buttons}`,
  );
}

export function donePage(outcome: string): string {
  return layout(
    'Back from checkout (simulator)',
    `<h1>Back from checkout</h1><p id="outcome">Outcome reported to the creditor's page: <strong>${escapeHtml(outcome)}</strong>.</p>
<p>This is only a hint: the card is credited when the receipt arrives. Check the balance through the ERP API.</p>`,
  );
}
