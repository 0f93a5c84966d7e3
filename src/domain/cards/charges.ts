import { contentHash } from '../../shared/hash';
import type { Account } from '../../data-access/ledger-repository';

/**
 * Charges: meals consumed and other debits the ERP records on a card account.
 *
 * Why the ERP's reference is the idempotency key: the ERP retries on timeouts and cannot know
 * whether its first call was applied; the same reference with the same content answers the entry
 * already posted, and the same reference with other content is refused (409) instead of being
 * charged twice or silently ignored.
 */

export const CHARGE_AMOUNT_CENTS_MAX = 99_999_999;
export const REFERENCE_LENGTH_MAX = 140;
export const DESCRIPTION_LENGTH_MAX = 140;

export type ChargeRequest = {
  account: Account;
  /** Positive: the amount taken from the account. */
  amountCents: number;
  reference: string;
  description: string;
};

/**
 * The ledger key of a charge. Scoped to the domain and the card so two cards, or two
 * municipalities, may use the same reference. The reference comes last so a ':' inside it
 * cannot make two different charges share a key.
 */
export const chargeIdempotencyKey = (domainId: string, cardCode: string, reference: string) =>
  `charge:${domainId}:${cardCode}:${reference}`;

/** The hash of what was asked, over the normalised request (key order does not matter). */
export const chargeRequestHash = (request: ChargeRequest): string =>
  contentHash({
    account: request.account,
    amountCents: request.amountCents,
    reference: request.reference,
    description: request.description,
  });

/** The signed ledger amount of a charge: a debit. */
export const chargeLedgerAmount = (request: ChargeRequest): number => -request.amountCents;
