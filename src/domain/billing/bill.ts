import { centsToDecimalString } from '../codes/money';
import { AppError, isAppError } from '../errors';
import { draftPosition } from '../positions/position-request';
import type { CardAccountName, CatalogueService, PositionDraft } from '../positions/types';

/**
 * What one billing line does: a debt position for the card's holder and a debit of the card's
 * account, once per (domain, service, period, card), whatever the number of runs that carry it.
 *
 * Why the keys are derived from the business key and not from the run: a municipality that
 * imports October twice (a retry, a corrected file) must not bill October twice. The position's
 * externalId and the ledger entry's idempotency key are both functions of (service, period,
 * card), and the unique indexes on them are the final arbiters.
 */

export const BILLING_RUN_STATUSES = ['PENDING', 'RUNNING', 'FINISHED', 'FAILED'] as const;
export type BillingRunStatus = (typeof BILLING_RUN_STATUSES)[number];

export const BILLING_ITEM_STATUSES = ['PENDING', 'DONE', 'FAILED', 'SKIPPED_DUPLICATE'] as const;
export type BillingItemStatus = (typeof BILLING_ITEM_STATUSES)[number];

export const BILLING_SOURCES = ['API', 'CLI'] as const;
export type BillingSource = (typeof BILLING_SOURCES)[number];

/** What the run bills: one domain's catalogue service, for one month. */
export type BillingContext = {
  domainId: string;
  service: CatalogueService & { account: CardAccountName };
  period: string;
};

/** The ERP id of the position billing a card for a period (fits the 100-character column). */
export const billingExternalId = (service: string, period: string, cardCode: string): string =>
  `BILL-${service}-${period}-${cardCode}`;

/** The ledger key of the debit: the same (domain, service, period, card) is debited once. */
export const billingLedgerKey = (
  domainId: string,
  service: string,
  period: string,
  cardCode: string,
): string => `billing:${domainId}:${service}:${period}:${cardCode}`;

const MONTHS_IT = [
  'gennaio',
  'febbraio',
  'marzo',
  'aprile',
  'maggio',
  'giugno',
  'luglio',
  'agosto',
  'settembre',
  'ottobre',
  'novembre',
  'dicembre',
];

/** `Trasporto scolastico ottobre 2026`: the causale when the line has no description. */
export function defaultBillingDescription(service: CatalogueService, period: string): string {
  const [year = '', month = '1'] = period.split('-');
  return `${service.description} ${MONTHS_IT[Number(month) - 1] ?? month} ${year}`.slice(0, 140);
}

/**
 * The due date of a period's bill: the last day of the following month (2026-10 → 2026-11-30).
 * A due date is what the notice prints; a later payment is still accepted and settled.
 */
export function billingDueDate(period: string): string {
  const [year = 0, month = 1] = period.split('-').map(Number);
  // Day 0 of the month after next is the last day of the next month.
  return new Date(Date.UTC(year, month + 1, 0)).toISOString().slice(0, 10);
}

/** The card a line names, with its account for the service, locked by the caller. */
export type BillingCard = {
  cardId: number;
  domainId: string;
  holderFiscalCode: string;
  holderFullName: string;
  account: { id: number; balanceCents: number; overdraftLimitCents: number } | null;
};

/** A position already billing this card for this period (an earlier run, or the ERP's PUT). */
export type ExistingBill = { positionId: number; amountCents: number };

export type BillingLineToProcess = {
  cardCode: string;
  amountCents: number;
  description: string | null;
};

export type BillDecision =
  | { kind: 'create'; externalId: string; draft: PositionDraft; debitCents: number }
  | { kind: 'skip'; positionId: number }
  | { kind: 'fail'; reason: string };

const euros = (cents: number): string =>
  `${cents < 0 ? '-' : ''}${centsToDecimalString(Math.abs(cents))} €`;

/**
 * Decides what a line does. Refusals name what a person can do about them.
 * - no card with the code in the domain: FAILED;
 * - already billed for the period with the same amount: SKIPPED_DUPLICATE (nothing new);
 *   with another amount: FAILED (cancel the position first, then import the line again);
 * - the debit would take the account past its overdraft limit: FAILED;
 * - otherwise: a DEBT position with one SINGLE option for the holder, due at the end of the next
 *   month, and a debit of the same amount.
 * Pure: the caller passes the balance as it stands after the lines already decided.
 */
export function decideBill(
  line: BillingLineToProcess,
  card: BillingCard | undefined,
  existing: ExistingBill | undefined,
  context: BillingContext,
): BillDecision {
  const { domainId, service, period } = context;
  const externalId = billingExternalId(service.code, period, line.cardCode);
  if (card === undefined || card.domainId !== domainId) {
    return {
      kind: 'fail',
      reason: `no card ${line.cardCode} in domain ${domainId}: check the code or register the card, then import the line again`,
    };
  }
  if (existing !== undefined) {
    if (existing.amountCents === line.amountCents) {
      return { kind: 'skip', positionId: existing.positionId };
    }
    return {
      kind: 'fail',
      reason: `card ${line.cardCode} is already billed for ${period} with ${euros(existing.amountCents)} (debt position ${externalId}); to bill ${euros(line.amountCents)} instead, cancel that position and import the line again`,
    };
  }
  const account = card.account;
  if (account === null) {
    return {
      kind: 'fail',
      reason: `card ${line.cardCode} has no ${service.account} account; ask an operator to check the card`,
    };
  }
  const after = account.balanceCents - line.amountCents;
  if (after < -account.overdraftLimitCents) {
    return {
      kind: 'fail',
      reason: `billing ${euros(line.amountCents)} would take card ${line.cardCode}'s ${service.account} balance to ${euros(after)}, past its overdraft limit of ${euros(account.overdraftLimitCents)}: collect what is owed or raise the limit, then import the line again`,
    };
  }
  try {
    const draft = draftPosition(
      {
        service: service.code,
        debtor: { type: 'F', fiscalCode: card.holderFiscalCode, fullName: card.holderFullName },
        description: line.description ?? defaultBillingDescription(service, period),
        paymentOptions: [{ amountCents: line.amountCents, dueDate: billingDueDate(period) }],
      },
      { domainId, kind: 'DEBT', service },
    );
    return { kind: 'create', externalId, draft, debitCents: line.amountCents };
  } catch (err) {
    if (!isAppError(err) || err.code !== 'invalid-input') throw err;
    return {
      kind: 'fail',
      reason: `card ${line.cardCode}: ${err.message.replace(/body\./g, '')}; correct the card's holder, then import the line again`,
    };
  }
}

/** How a finished run is told to the ERP (the billing-run.finished event). */
export function runOutcome(failed: number): 'COMPLETED' | 'COMPLETED_WITH_ERRORS' {
  return failed === 0 ? 'COMPLETED' : 'COMPLETED_WITH_ERRORS';
}

/**
 * The service a run bills: it must be in the domain's catalogue and debit a card account.
 * @throws AppError('invalid-input') otherwise.
 */
export function billableService(
  services: readonly CatalogueService[],
  code: string,
  domainId: string,
  path: string,
): CatalogueService & { account: CardAccountName } {
  const service = services.find((s) => s.code === code);
  const billable = services.filter((s) => s.account !== undefined).map((s) => s.code);
  if (service?.account === undefined) {
    const message = `${code.slice(0, 50)} is not a card service of domain ${domainId} (billable: ${billable.join(', ')})`;
    throw new AppError('invalid-input', `${path}: ${message}`, { errors: [{ path, message }] });
  }
  return { ...service, account: service.account };
}
