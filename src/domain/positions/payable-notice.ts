import { centsToDecimalString } from '../codes/money';
import { AppError } from '../errors';
import { amountInForce } from './amount-in-force';
import { transfersInForce } from './position-request';
import type {
  OptionStatus,
  Plan,
  PositionKind,
  PositionStatus,
  ScheduleStep,
  Stamp,
} from './types';

/**
 * What the node is told when it asks about a notice (paVerifyPaymentNotice, paGetPayment(V2),
 * paaVerificaRPT, paaAttivaRPT): which option the notice designates, whether it can be paid
 * today, for how much, and into which accounts.
 *
 * Pure: the caller loads the position (with every option, so alternatives can be weighed) and
 * passes today's Rome day; refusals are AppErrors whose codes the SOAP mapper turns into the PAA
 * faults of PAGOPA.md §6.
 *
 * Expiry rule (kept deliberately small):
 * - a debt (DEBT) stays payable after its due date: municipal debts are still owed, and a late
 *   payment still settles them (fees and fines are the ERP's business, not the notice's);
 * - except an ALTERNATIVE whose due date has passed while another unpaid alternative of the same
 *   position is due later: that cheaper way to pay (a road fine's reduced amount on its own notice)
 *   has lapsed, and the payer must use the other notice;
 * - a card top-up (TOP_UP) expires after its due date, which is its creation day plus
 *   `TOP_UP_VALIDITY_DAYS`: a parent who comes back later makes a new top-up, so an old amount
 *   does not reach the card by surprise;
 * - an option before its `validFrom` day does not exist yet for the node (PAA_PAGAMENTO_SCONOSCIUTO).
 */

export type NoticeTransfer = {
  index: number;
  beneficiaryFiscalCode: string;
  amountCents: number;
  iban: string | null;
  postalIban: string | null;
  stamp: Stamp | null;
  taxonomyCode: string;
  remittanceInformation: string;
};

export type NoticeOption = {
  iuv: string;
  noticeNumber: string;
  status: OptionStatus;
  amountCents: number;
  amountSchedule: readonly ScheduleStep[] | null;
  dueDate: string;
  validFrom: string | null;
  transfers: readonly NoticeTransfer[];
};

export type NoticePosition<O extends NoticeOption = NoticeOption> = {
  kind: PositionKind;
  status: PositionStatus;
  plan: Plan;
  options: readonly O[];
};

/** How the node names the option: the notice number (new model) or the IUV (RPT model). */
export type NoticeKey = { noticeNumber: string } | { iuv: string };

/** A transfer as stated to the node: to an account, or a marca da bollo to buy. */
export type StatedTransfer = {
  index: number;
  beneficiaryFiscalCode: string;
  amountCents: number;
  taxonomyCode: string;
  remittanceInformation: string;
} & ({ iban: string; stamp?: never } | { stamp: Stamp; iban?: never });

export type PayableNotice<O extends NoticeOption = NoticeOption> = {
  option: O;
  /** The amount in force today (a road fine's reduced amount while it applies). */
  amountCents: number;
  dueDate: string;
  /** Transfers adding up to `amountCents`, in index order. */
  transfers: StatedTransfer[];
  /** allCCP: every transfer can be credited to a postal account. */
  allPostal: boolean;
  /** Whether a transfer is a marca da bollo (only paGetPaymentV2 can carry it). */
  hasStamp: boolean;
};

const keyText = (key: NoticeKey): string =>
  'noticeNumber' in key ? `notice ${key.noticeNumber}` : `IUV ${key.iuv}`;

/**
 * The option `key` designates, if it can be paid on `today`, with its amount and transfers.
 * `postal` asks for postal IBANs where a transfer has one (paGetPayment `transferType=POSTAL`).
 * @throws AppError('not-found') when no option has the key, or it is not payable yet (validFrom).
 * @throws AppError('position-cancelled') when the position or the option is cancelled.
 * @throws AppError('position-paid') when the option, or another alternative, or the whole
 * position is paid.
 * @throws AppError('position-expired') per the expiry rule above.
 */
export function payableNotice<O extends NoticeOption>(
  position: NoticePosition<O>,
  key: NoticeKey,
  today: string,
  opts: { postal: boolean },
): PayableNotice<O> {
  const option = position.options.find((o) =>
    'noticeNumber' in key ? o.noticeNumber === key.noticeNumber : o.iuv === key.iuv,
  );
  if (option === undefined) throw new AppError('not-found', `${keyText(key)} is unknown`);
  const what = `notice ${option.noticeNumber}`;
  if (position.status === 'CANCELLED' || option.status === 'CANCELLED') {
    throw new AppError('position-cancelled', `${what} was cancelled by the municipality`);
  }
  if (option.status === 'PAID') throw new AppError('position-paid', `${what} is already paid`);
  if (position.plan === 'ALTERNATIVE' && position.options.some((o) => o.status === 'PAID')) {
    throw new AppError('position-paid', `${what}: another payment option of the debt is paid`);
  }
  if (position.status === 'PAID') throw new AppError('position-paid', `${what}: the debt is paid`);
  if (option.validFrom !== null && today < option.validFrom) {
    throw new AppError('not-found', `${what} is payable from ${option.validFrom}`);
  }
  assertNotExpired(position, option, today);

  const amountCents = amountInForce(option, today);
  const transfers = transfersInForce(option.transfers, amountCents)
    .sort((a, b) => a.index - b.index)
    .map((t) => statedTransfer(t, opts.postal, what));
  return {
    option,
    amountCents,
    dueDate: option.dueDate,
    transfers,
    allPostal: option.transfers.every((t) => t.stamp === null && t.postalIban !== null),
    hasStamp: option.transfers.some((t) => t.stamp !== null),
  };
}

function assertNotExpired(position: NoticePosition, option: NoticeOption, today: string): void {
  if (today <= option.dueDate) return;
  if (position.kind === 'TOP_UP') {
    throw new AppError(
      'position-expired',
      `notice ${option.noticeNumber} was a card top-up valid until ${option.dueDate}: start a new top-up`,
    );
  }
  if (position.plan !== 'ALTERNATIVE') return;
  const later = position.options.find(
    (o) => o !== option && o.status === 'UNPAID' && o.dueDate > option.dueDate,
  );
  if (later !== undefined) {
    throw new AppError(
      'position-expired',
      `notice ${option.noticeNumber} could be paid until ${option.dueDate}: pay notice ${later.noticeNumber} instead`,
    );
  }
}

function statedTransfer(t: NoticeTransfer, postal: boolean, what: string): StatedTransfer {
  const head = {
    index: t.index,
    beneficiaryFiscalCode: t.beneficiaryFiscalCode,
    amountCents: t.amountCents,
    taxonomyCode: t.taxonomyCode,
    remittanceInformation: t.remittanceInformation,
  };
  if (t.stamp !== null) return { ...head, stamp: t.stamp };
  const iban = postal && t.postalIban !== null ? t.postalIban : t.iban;
  if (iban === null) {
    throw new AppError('internal', `${what}: transfer ${t.index} has neither IBAN nor stamp`);
  }
  return { ...head, iban };
}

/**
 * The PSP activates an RPT-model payment for an amount (paaAttivaRPT): it must be the amount in
 * force today, or the PSP re-activates with the one we return (PAGOPA.md §6).
 * @throws AppError('amount-mismatch') with `details.amountCents` = the amount in force.
 */
export function checkActivationAmount(requestedCents: number, notice: PayableNotice): void {
  if (requestedCents === notice.amountCents) return;
  throw new AppError(
    'amount-mismatch',
    `importo ${centsToDecimalString(requestedCents)} non valido: l'importo dovuto oggi è ${centsToDecimalString(notice.amountCents)}`,
    { amountCents: notice.amountCents },
  );
}
