import { centsToDecimalString } from '../codes/money';
import { AppError } from '../errors';
import { NUMERIC_FISCAL_CODE, PERSON_FISCAL_CODE } from '../cards/holder';
import { isIsoDate } from './dates';
import { detectPlan } from './plan';
import type {
  CatalogueService,
  Debtor,
  DebtorType,
  OptionDraft,
  PositionDraft,
  PositionKind,
  RequestedPlan,
  ScheduleStep,
  Stamp,
  TransferDraft,
  Violation,
} from './types';

/**
 * The rules a debt position must follow before it is stored, whoever asks (ERP PUT, top-up,
 * billing run). Pure: the catalogue entry comes in as data, nothing is read or written.
 */

/** pagoPA's `stAmount` tops out at 999999999.99. */
export const AMOUNT_CENTS_MAX = 99_999_999_999;
/** ctPaymentPA's transferList holds 1 to 5 transfers (PAGOPA.md §3). */
export const TRANSFERS_MAX = 5;
export const SCHEDULE_STEPS_MAX = 5;
/** pagoPA's stText140: description, remittance information. */
export const TEXT_MAX = 140;

export type OptionRequest = {
  amountCents: number;
  dueDate: string;
  validFrom?: string | undefined;
  amountSchedule?: ScheduleStep[] | undefined;
  installment?: number | undefined;
};

export type TransferRequest = {
  amountCents: number;
  /** The creditor entity receiving this transfer; the position's domain when absent. */
  beneficiaryFiscalCode?: string | undefined;
  /** Defaults to the service's IBAN (and postal IBAN) when the beneficiary is the domain. */
  iban?: string | undefined;
  postalIban?: string | undefined;
  stamp?: Stamp | undefined;
  /** Defaults to the service's taxonomy code. */
  taxonomyCode?: string | undefined;
  /** Defaults to `/RFB/<IUV>/<amount>/TXT/<description>`. */
  remittanceInformation?: string | undefined;
};

export type DebtorRequest = {
  type: DebtorType;
  fiscalCode: string;
  fullName: string;
  email?: string | undefined;
};

export type PositionRequest = {
  service: string;
  debtor: DebtorRequest;
  description: string;
  plan?: RequestedPlan | undefined;
  paymentOptions: OptionRequest[];
  transfers?: TransferRequest[] | undefined;
};

/** Where a position is stored and what its service is in the domain's catalogue. */
export type PositionContext = {
  domainId: string;
  kind: PositionKind;
  service: CatalogueService;
};

/** Throws the violations as one `invalid-input` error listing each of them. */
function refuse(violations: readonly Violation[]): never {
  throw new AppError('invalid-input', violations.map((v) => `${v.path}: ${v.message}`).join('; '), {
    errors: violations,
  });
}

/**
 * The debtor as stored: fiscal code upper-cased and trimmed, name with single spaces.
 * F (natural person) takes a 16-character personal fiscal code, 11 digits (temporary codes) or
 * `ANONIMO` (pagoPA's anonymous payer); G (legal person) takes 11 digits.
 * Fiscal codes are never repeated in the messages: they stay out of logs.
 */
export function checkDebtor(input: DebtorRequest, path: string, violations: Violation[]): Debtor {
  const fiscalCode = input.fiscalCode.trim().toUpperCase();
  const fits =
    input.type === 'G'
      ? NUMERIC_FISCAL_CODE.test(fiscalCode)
      : PERSON_FISCAL_CODE.test(fiscalCode) ||
        NUMERIC_FISCAL_CODE.test(fiscalCode) ||
        fiscalCode === 'ANONIMO';
  if (!fits) {
    violations.push({
      path: `${path}.fiscalCode`,
      message:
        input.type === 'G'
          ? 'a legal person (G) has an 11-digit fiscal code'
          : 'a natural person (F) has a 16-character fiscal code, 11 digits or ANONIMO',
    });
  }
  const fullName = input.fullName.trim().replace(/\s+/g, ' ');
  if (fullName.length === 0 || fullName.length > 70) {
    violations.push({ path: `${path}.fullName`, message: 'must be 1 to 70 characters' });
  }
  return { type: input.type, fiscalCode, fullName, email: input.email ?? null };
}

function checkOption(option: OptionRequest, path: string, violations: Violation[]): void {
  const { dueDate, validFrom, amountSchedule } = option;
  if (!isIsoDate(dueDate)) violations.push({ path: `${path}.dueDate`, message: 'is not a day' });
  if (validFrom !== undefined) {
    if (!isIsoDate(validFrom)) {
      violations.push({ path: `${path}.validFrom`, message: 'is not a day' });
    } else if (validFrom > dueDate) {
      violations.push({ path: `${path}.validFrom`, message: `is after the due date ${dueDate}` });
    }
  }
  if (amountSchedule === undefined) return;
  if (amountSchedule.length === 0 || amountSchedule.length > SCHEDULE_STEPS_MAX) {
    violations.push({
      path: `${path}.amountSchedule`,
      message: `has 1 to ${SCHEDULE_STEPS_MAX} steps (omit it for a fixed amount)`,
    });
  }
  amountSchedule.forEach((step, i) => {
    const stepPath = `${path}.amountSchedule.${i}.until`;
    const previous = amountSchedule[i - 1];
    if (!isIsoDate(step.until)) {
      violations.push({ path: stepPath, message: 'is not a day' });
    } else if (previous !== undefined && step.until <= previous.until) {
      violations.push({ path: stepPath, message: `must come after ${previous.until}` });
    } else if (step.until >= dueDate) {
      violations.push({
        path: stepPath,
        message: `must come before the due date ${dueDate}: amountCents is the amount after the last step`,
      });
    } else if (validFrom !== undefined && step.until < validFrom) {
      violations.push({ path: stepPath, message: `is before validFrom ${validFrom}` });
    }
  });
}

function draftTransfers(
  request: PositionRequest,
  context: PositionContext,
  violations: Violation[],
): TransferDraft[] {
  const { domainId, service } = context;
  // Without transfers: one transfer per option, its amount set per option below.
  const ownDefault = (index: number): TransferDraft => ({
    index,
    beneficiaryFiscalCode: domainId,
    amountCents: 0,
    iban: service.iban,
    postalIban: service.postalIban ?? null,
    stamp: null,
    taxonomyCode: service.taxonomyCode,
    remittanceInformation: null,
  });
  if (request.transfers === undefined) return [ownDefault(1)];

  const transfers = request.transfers;
  if (transfers.length === 0 || transfers.length > TRANSFERS_MAX) {
    violations.push({
      path: 'body.transfers',
      message: `has 1 to ${TRANSFERS_MAX} transfers (omit it for one transfer to the service's IBAN)`,
    });
  }
  if (request.paymentOptions.some((o) => o.amountSchedule !== undefined)) {
    violations.push({
      path: 'body.transfers',
      message:
        'cannot go with an amountSchedule: the one transfer to the service IBAN follows the amount in force; omit transfers',
    });
  }
  return transfers.map((t, i): TransferDraft => {
    const path = `body.transfers.${i}`;
    const beneficiary = t.beneficiaryFiscalCode ?? domainId;
    const own = beneficiary === domainId;
    if (i === 0 && !own) {
      violations.push({
        path: `${path}.beneficiaryFiscalCode`,
        message: `the first transfer goes to the position's own domain ${domainId}`,
      });
    }
    if (t.stamp !== undefined && (t.iban !== undefined || t.postalIban !== undefined)) {
      violations.push({
        path,
        message: 'a marca da bollo transfer (stamp) has no IBAN or postal IBAN',
      });
    }
    if (t.stamp === undefined && t.iban === undefined && !own) {
      violations.push({
        path: `${path}.iban`,
        message: `is required for a transfer to another creditor (${beneficiary})`,
      });
    }
    const useServiceIbans = t.stamp === undefined && t.iban === undefined && own;
    return {
      index: i + 1,
      beneficiaryFiscalCode: beneficiary,
      amountCents: t.amountCents,
      iban: t.stamp !== undefined ? null : (t.iban ?? service.iban),
      postalIban: useServiceIbans ? (service.postalIban ?? null) : (t.postalIban ?? null),
      stamp: t.stamp ?? null,
      taxonomyCode: t.taxonomyCode ?? service.taxonomyCode,
      remittanceInformation: t.remittanceInformation ?? null,
    };
  });
}

/**
 * Checks a position request against the rules and the catalogue and returns what to store.
 *
 * Rules, beyond the field shapes the route's schema checks:
 * - the plan follows from the options' shape ({@link detectPlan});
 * - instalments fall due in their order; validFrom ≤ dueDate;
 * - an amountSchedule has 1 to 5 steps with increasing `until` days, all before the due date;
 *   `amountCents` is the amount after the last step (see `amountInForce`);
 * - `transfers` (at position level) is the split of every option: 1 to 5 transfers whose amounts
 *   add up to each option's `amountCents`, the first one to the position's own domain. Without
 *   `transfers` each option gets one transfer of its whole amount to the service's IBAN (and
 *   postal IBAN), with the service's taxonomy code. Several options of different amounts with
 *   several beneficiaries therefore need several positions; a municipality rarely splits
 *   instalments, and one split for all options keeps the request readable.
 * - a transfer to another creditor names its IBAN; a marca da bollo transfer has no IBAN.
 * @throws AppError('invalid-input') listing every broken rule (`details.errors`).
 */
export function draftPosition(request: PositionRequest, context: PositionContext): PositionDraft {
  const violations: Violation[] = [];
  const debtor = checkDebtor(request.debtor, 'body.debtor', violations);
  const description = request.description.trim();
  if (description.length === 0 || description.length > TEXT_MAX) {
    violations.push({ path: 'body.description', message: `must be 1 to ${TEXT_MAX} characters` });
  }
  const detected = detectPlan(request.plan, request.paymentOptions);
  if ('error' in detected)
    violations.push({ path: 'body.paymentOptions', message: detected.error });
  request.paymentOptions.forEach((o, i) => checkOption(o, `body.paymentOptions.${i}`, violations));

  if ('plan' in detected && detected.plan === 'INSTALLMENT') {
    const byNumber = [...request.paymentOptions].sort(
      (a, b) => (a.installment ?? 0) - (b.installment ?? 0),
    );
    byNumber.forEach((o, i) => {
      const previous = byNumber[i - 1];
      if (o.installment !== undefined && previous !== undefined && o.dueDate < previous.dueDate) {
        violations.push({
          path: 'body.paymentOptions',
          message: `instalment ${o.installment} falls due (${o.dueDate}) before instalment ${previous.installment ?? 0} (${previous.dueDate})`,
        });
      }
    });
  }

  const transferTemplate = draftTransfers(request, context, violations);
  const options = request.paymentOptions.map((o, i): OptionDraft => {
    const transfers: TransferDraft[] =
      request.transfers === undefined
        ? transferTemplate.map((t) => ({ ...t, amountCents: o.amountCents }))
        : transferTemplate.map((t) => ({ ...t }));
    const sum = transfers.reduce((s, t) => s + t.amountCents, 0);
    if (sum !== o.amountCents) {
      violations.push({
        path: `body.paymentOptions.${i}.amountCents`,
        message: `is ${o.amountCents} but the transfers add up to ${sum}`,
      });
    }
    return {
      plan: 'error' in detected ? 'SINGLE' : detected.plan,
      installment: o.installment ?? null,
      amountCents: o.amountCents,
      dueDate: o.dueDate,
      validFrom: o.validFrom ?? null,
      amountSchedule: o.amountSchedule ?? null,
      transfers,
    };
  });

  if (violations.length > 0 || 'error' in detected) refuse(violations);
  return {
    domainId: context.domainId,
    kind: context.kind,
    service: context.service.code,
    account: context.service.account ?? null,
    debtor,
    description,
    plan: detected.plan,
    options,
  };
}

/**
 * The default causale of a transfer, `/RFB/<IUV>/<amount>/TXT/<text>` cut to 140 characters
 * (PAGOPA.md §9, as GovPay builds it). For an option with an amount schedule the amount is left
 * out (`/RFB/<IUV>/TXT/<text>`): it changes with the day, and a printed causale must stay true.
 */
export function defaultRemittanceInformation(
  iuv: string,
  amountCents: number | null,
  text: string,
): string {
  const amount = amountCents === null ? '' : `/${centsToDecimalString(amountCents)}`;
  return `/RFB/${iuv}${amount}/TXT/${text}`.slice(0, TEXT_MAX);
}

/** The transfers of an option with every default causale filled in, once its IUV is known. */
export function transfersWithRemittance(
  option: OptionDraft,
  iuv: string,
  description: string,
): (TransferDraft & { remittanceInformation: string })[] {
  return option.transfers.map((t) => ({
    ...t,
    remittanceInformation:
      t.remittanceInformation ??
      defaultRemittanceInformation(
        iuv,
        option.amountSchedule === null ? t.amountCents : null,
        description,
      ),
  }));
}

/**
 * The transfers the node is told about on `day`: with an amount schedule the option has exactly
 * one transfer (see {@link draftPosition}), and its amount is the amount in force.
 */
export function transfersInForce<T extends { amountCents: number }>(
  transfers: readonly T[],
  amountInForceCents: number,
): T[] {
  const [only, ...rest] = transfers;
  if (only !== undefined && rest.length === 0)
    return [{ ...only, amountCents: amountInForceCents }];
  return transfers.map((t) => ({ ...t }));
}
