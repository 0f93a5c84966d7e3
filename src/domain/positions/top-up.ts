import { AppError } from '../errors';
import { addDays } from './dates';
import { checkDebtor, type DebtorRequest } from './position-request';
import type { CardAccountName, CatalogueService, PositionDraft, Violation } from './types';

/**
 * A top-up ("pagamento spontaneo" onto a card): a TOP_UP debt position with one SINGLE option,
 * whose payment credits the card's account (see `settle`).
 *
 * Why a debt position at all: the node verifies, gets and settles notices; a top-up that is a
 * position like the others gets its notice number, its PDF, its receipt handling and its
 * reconciliation for free, and can be paid at any PSP with the notice alone.
 */

/** How long a top-up notice stays payable: long enough for a parent to reach a PSP. */
export const TOP_UP_VALIDITY_DAYS = 30;

export type TopUpRequest = {
  account: CardAccountName;
  amountCents: number;
  payer: DebtorRequest;
};

export type TopUpContext = {
  domainId: string;
  /** The domain's top-up limits for the account. */
  limits: { topUpMinCents: number; topUpMaxCents: number };
  /** The catalogue service whose `account` is the account topped up. */
  service: CatalogueService;
  /** Today in Rome, `YYYY-MM-DD`. */
  today: string;
};

/**
 * The position of a top-up request. The payer is the debtor (the parent who pays, not the child
 * who holds the card). The causale names the service only: no personal data (PAGOPA.md §9).
 * @throws AppError('amount-invalid') when the amount is outside the domain's limits for the account.
 * @throws AppError('invalid-input') when the payer is malformed.
 */
export function draftTopUp(request: TopUpRequest, context: TopUpContext): PositionDraft {
  const { topUpMinCents, topUpMaxCents } = context.limits;
  if (request.amountCents < topUpMinCents || request.amountCents > topUpMaxCents) {
    throw new AppError(
      'amount-invalid',
      `a ${request.account} top-up is ${topUpMinCents} to ${topUpMaxCents} cents, not ${request.amountCents}`,
      { minCents: topUpMinCents, maxCents: topUpMaxCents },
    );
  }
  const violations: Violation[] = [];
  const debtor = checkDebtor(request.payer, 'body.payer', violations);
  if (violations.length > 0) {
    throw new AppError(
      'invalid-input',
      violations.map((v) => `${v.path}: ${v.message}`).join('; '),
      {
        errors: violations,
      },
    );
  }
  const { service } = context;
  return {
    domainId: context.domainId,
    kind: 'TOP_UP',
    service: service.code,
    account: request.account,
    debtor,
    description: `Ricarica ${service.description}`.slice(0, 140),
    plan: 'SINGLE',
    options: [
      {
        plan: 'SINGLE',
        installment: null,
        amountCents: request.amountCents,
        dueDate: addDays(context.today, TOP_UP_VALIDITY_DAYS),
        validFrom: null,
        amountSchedule: null,
        transfers: [
          {
            index: 1,
            beneficiaryFiscalCode: context.domainId,
            amountCents: request.amountCents,
            iban: service.iban,
            postalIban: service.postalIban ?? null,
            stamp: null,
            taxonomyCode: service.taxonomyCode,
            remittanceInformation: null,
          },
        ],
      },
    ],
  };
}
