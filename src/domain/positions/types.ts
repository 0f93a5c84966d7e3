/**
 * The vocabulary of debt positions, as the pure rules see it (no storage, no transport).
 *
 * A debt position is something a citizen owes; it has one or more payment options, each with its
 * own IUV and notice number, and each option is split into 1 to 5 transfers (IBAN or marca da
 * bollo). See docs/PRODUCT.md and PAGOPA.md §3.
 */

/** How the options of a position relate to each other (stored per option). */
export type Plan = 'SINGLE' | 'INSTALLMENT' | 'ALTERNATIVE';

/** What the ERP may say at position level; when absent the plan is inferred (see `detectPlan`). */
export const REQUESTED_PLANS = ['SINGLE', 'INSTALLMENTS', 'ALTERNATIVES'] as const;
export type RequestedPlan = (typeof REQUESTED_PLANS)[number];

export const POSITION_KINDS = ['DEBT', 'TOP_UP'] as const;
export type PositionKind = (typeof POSITION_KINDS)[number];

export const POSITION_STATUSES = ['OPEN', 'PARTIALLY_PAID', 'PAID', 'CANCELLED'] as const;
export type PositionStatus = (typeof POSITION_STATUSES)[number];

export const OPTION_STATUSES = ['UNPAID', 'PAID', 'CANCELLED'] as const;
export type OptionStatus = (typeof OPTION_STATUSES)[number];

/** The card accounts a position may credit when it is paid. */
export type CardAccountName = 'CANTEEN' | 'NURSERY_MEALS' | 'SCHOOL_TRANSPORT';

/** One step of an amount schedule: `amountCents` is in force up to and including `until`. */
export type ScheduleStep = { until: string; amountCents: number };

/** F: natural person (persona fisica); G: legal person (persona giuridica), as pagoPA names them. */
export type DebtorType = 'F' | 'G';

export type Debtor = {
  type: DebtorType;
  fiscalCode: string;
  fullName: string;
  email: string | null;
};

/** A marca da bollo digitale requested instead of a transfer to an IBAN (PAGOPA.md §10). */
export type Stamp = { documentHash: string; type: '01'; province: string };

/** A transfer as it will be stored: exactly one of `iban` and `stamp` is set. */
export type TransferDraft = {
  index: number;
  beneficiaryFiscalCode: string;
  amountCents: number;
  iban: string | null;
  postalIban: string | null;
  stamp: Stamp | null;
  taxonomyCode: string;
  /** The ERP's own causale; `null` means the default `/RFB/...` built once the IUV is known. */
  remittanceInformation: string | null;
};

export type OptionDraft = {
  plan: Plan;
  installment: number | null;
  /** The amount after the schedule (the full amount); the amount in force may be lower today. */
  amountCents: number;
  dueDate: string;
  validFrom: string | null;
  amountSchedule: ScheduleStep[] | null;
  transfers: TransferDraft[];
};

/** A position checked against the rules and the catalogue, ready to be stored. */
export type PositionDraft = {
  domainId: string;
  kind: PositionKind;
  service: string;
  account: CardAccountName | null;
  debtor: Debtor;
  description: string;
  plan: Plan;
  options: OptionDraft[];
};

/** What the rules need from the domain's service catalogue (see shared/domains-config.ts). */
export type CatalogueService = {
  code: string;
  description: string;
  taxonomyCode: string;
  iban: string;
  postalIban?: string | undefined;
  account?: CardAccountName | undefined;
};

/** One broken rule, with the path of the offending field in the request. */
export type Violation = { path: string; message: string };
