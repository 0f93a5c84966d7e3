import type {
  Account,
  LedgerEntry,
  NewEntry,
  PostOptions,
} from '../../data-access/ledger-repository';
import { centsToDecimalString } from '../codes/money';
import { shown } from '../codes/shown';
import { AppError, isAppError } from '../errors';
import {
  chargeIdempotencyKey,
  chargeLedgerAmount,
  chargeRequestHash,
  type ChargeRequest,
} from './charges';
import type { AuditNote, Card } from './types';

/** What charging needs from storage: one posting on one account of a card, in a transaction. */
export type CardLedger = {
  /**
   * Posts the entry on the card's account and reads the account's balance in the same
   * transaction; with `audit`, a new posting is also written to the audit trail in it.
   * @throws what `postEntry` throws.
   */
  postToCardAccount: (
    cardId: number,
    account: Account,
    entry: Omit<NewEntry, 'cardAccountId'>,
    options: PostOptions,
    audit?: AuditNote,
  ) => Promise<{ entry: LedgerEntry; created: boolean; balanceCents: number }>;
};

/**
 * Debits a card account for a meal or another charge, once per reference.
 * @throws AppError('insufficient-credit') when the balance and overdraft limit do not cover it.
 * @throws AppError('idempotency-conflict') when the reference was used for another charge.
 */
export async function chargeCard(
  ledger: CardLedger,
  card: Card,
  request: ChargeRequest,
): Promise<{ entry: LedgerEntry; created: boolean; balanceCents: number }> {
  try {
    return await ledger.postToCardAccount(
      card.id,
      request.account,
      {
        amountCents: chargeLedgerAmount(request),
        kind: 'CHARGE',
        idempotencyKey: chargeIdempotencyKey(card.domainId, card.cardCode, request.reference),
        requestHash: chargeRequestHash(request),
        reference: request.reference,
        description: request.description,
      },
      { enforceOverdraft: true },
    );
  } catch (err) {
    throw explained(err, card, request);
  }
}

/** Rewrites the ledger's errors in the caller's terms (reference, account), keeping the code. */
function explained(err: unknown, card: Card, request: ChargeRequest): unknown {
  if (!isAppError(err)) return err;
  switch (err.code) {
    case 'idempotency-conflict':
      return new AppError(
        'idempotency-conflict',
        `reference "${shown(request.reference)}" was already used on card ${card.cardCode} for a different charge; a new charge needs a new reference`,
        { reference: request.reference },
        { cause: err },
      );
    case 'insufficient-credit': {
      const balance = Number(err.details['balanceCents']);
      const limit = Number(err.details['overdraftLimitCents']);
      return new AppError(
        'insufficient-credit',
        `the ${request.account} balance of card ${card.cardCode} is ${euros(balance)} EUR` +
          (limit > 0 ? ` with an overdraft limit of ${euros(limit)} EUR` : '') +
          `, which does not cover ${euros(request.amountCents)} EUR; top the card up first`,
        { account: request.account, balanceCents: balance, overdraftLimitCents: limit },
        { cause: err },
      );
    }
    default:
      return err;
  }
}

const euros = (cents: number): string =>
  cents < 0 ? `-${centsToDecimalString(-cents)}` : centsToDecimalString(cents);
