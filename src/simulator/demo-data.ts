/**
 * Demo cards for `npm start` (role `all`, NODE_ENV=development): registered through the same
 * domain rule and repository as `POST /api/v1/cards`, so starting twice changes nothing.
 * Card numbers start with 9 so they stay clear of the numbers used by tests and fixtures.
 */
import { cardRegistry } from '../data-access/cards-repository';
import type { Db } from '../data-access/db';
import { registerCard } from '../domain/cards/register-card';
import type { Domains } from '../shared/domains-config';
import type { Logger } from '../shared/logger';

export const DEMO_CARDS = [
  { cardNumber: '9000000001', holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' } },
  {
    cardNumber: '9000000002',
    holder: { fiscalCode: 'BNCLRA90A41H501X', fullName: 'Bianchi Laura' },
  },
  {
    cardNumber: '9000000003',
    holder: { fiscalCode: 'VRDGPP80C15F205Z', fullName: 'Verdi Giuseppe' },
  },
] as const;

/** One card in the first domain of the `rpt` dialect, so the demo shows payments through WISP. */
export const DEMO_RPT_CARD = {
  cardNumber: '9000000101',
  holder: { fiscalCode: 'FRRLCU82D12D612K', fullName: 'Ferri Luca' },
} as const;

/** One card in the first domain of the `mypay` dialect, so the demo shows payments through MyPay. */
export const DEMO_MYPAY_CARD = {
  cardNumber: '9000000201',
  holder: { fiscalCode: 'GLLNNA88E50L049M', fullName: 'Galli Anna' },
} as const;

/**
 * Registers the demo cards (idempotent) and answers their card codes: those of the default
 * domain first, then the `rpt` and `mypay` domains' ones (when the domains file has them).
 * @throws AppError('conflict') when a demo number is already someone else's card.
 */
export async function ensureDemoCards(db: Db, domains: Domains, logger: Logger): Promise<string[]> {
  const domain = domains.resolve(undefined);
  if (domain === undefined) return [];
  const rpt = domains.all.find((d) => d.dialect === 'rpt' && d !== domain);
  const mypay = domains.all.find((d) => d.dialect === 'mypay' && d !== domain);
  const wanted = [
    ...DEMO_CARDS.map((demo) => ({ domain, demo })),
    ...(rpt === undefined ? [] : [{ domain: rpt, demo: DEMO_RPT_CARD }]),
    ...(mypay === undefined ? [] : [{ domain: mypay, demo: DEMO_MYPAY_CARD }]),
  ];
  const codes: string[] = [];
  for (const { domain: where, demo } of wanted) {
    const { card, created } = await registerCard(cardRegistry(db), where, {
      cardNumber: demo.cardNumber,
      holder: { ...demo.holder },
    });
    if (created)
      logger.info({ cardCode: card.cardCode, domain: where.fiscalCode }, 'demo card registered');
    codes.push(card.cardCode);
  }
  return codes;
}
