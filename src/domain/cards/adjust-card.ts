import type { Account, LedgerEntry } from '../../data-access/ledger-repository';
import { contentHash } from '../../shared/hash';
import { shown } from '../codes/shown';
import { AppError, isAppError } from '../errors';
import type { CardLedger } from './charge-card';
import { DESCRIPTION_LENGTH_MAX } from './charges';
import type { Card } from './types';

/**
 * Manual adjustments by an operator: a credit (a meal charged by mistake, a goodwill credit) or a
 * debit, always with a reason, written to the audit trail in the same transaction as the entry.
 *
 * Why a separate door from charges: only operators may credit a card by hand, and every such
 * credit must say who and why; the ERP's charges stay debits only.
 */

export const ADJUSTMENT_AMOUNT_CENTS_MAX = 99_999_999;
export const REASON_LENGTH_MAX = 500;

export type AdjustmentRequest = {
  account: Account;
  /** Signed: positive credits the account, negative debits it; never 0. */
  amountCents: number;
  reference: string;
  reason: string;
};

export const adjustmentIdempotencyKey = (domainId: string, cardCode: string, reference: string) =>
  `adjustment:${domainId}:${cardCode}:${reference}`;

/**
 * Posts an operator's adjustment once per reference. A debit respects the overdraft limit like a
 * charge: taking a card below it needs a decision outside this route.
 * @throws AppError('insufficient-credit') for a debit the balance and limit do not cover.
 * @throws AppError('idempotency-conflict') when the reference was used for another adjustment.
 */
export async function adjustCard(
  ledger: CardLedger,
  card: Card,
  request: AdjustmentRequest,
  who: { actor: string; requestId: string },
): Promise<{ entry: LedgerEntry; created: boolean; balanceCents: number }> {
  try {
    return await ledger.postToCardAccount(
      card.id,
      request.account,
      {
        amountCents: request.amountCents,
        kind: 'ADJUSTMENT',
        idempotencyKey: adjustmentIdempotencyKey(card.domainId, card.cardCode, request.reference),
        requestHash: contentHash(request),
        reference: request.reference,
        description: shown(request.reason, DESCRIPTION_LENGTH_MAX - 1),
      },
      { enforceOverdraft: true },
      {
        actor: who.actor,
        action: 'card.adjust',
        subjectType: 'card_account',
        subjectId: `${card.cardCode}:${request.account}`,
        reason: request.reason,
        requestId: who.requestId,
      },
    );
  } catch (err) {
    if (isAppError(err) && err.code === 'idempotency-conflict') {
      throw new AppError(
        'idempotency-conflict',
        `reference "${shown(request.reference)}" was already used on card ${card.cardCode} for a different adjustment; a new adjustment needs a new reference`,
        { reference: request.reference },
        { cause: err },
      );
    }
    if (isAppError(err) && err.code === 'insufficient-credit') {
      throw new AppError(
        'insufficient-credit',
        `the ${request.account} balance of card ${card.cardCode} does not cover a debit of ${-request.amountCents} cents within its overdraft limit (${err.message})`,
        { ...err.details, account: request.account },
        { cause: err },
      );
    }
    throw err;
  }
}
