import { parseNoticeNumber } from '../codes/notice-number';
import { AppError } from '../errors';
import type { ReceiptOutcome } from './types';

/**
 * The rules of a receipt that no XSD can express, checked before anything is stored. A receipt
 * that breaks one is refused with PAA_SEMANTICA and the reasons in `description`: the node (or
 * the PSP behind it) has to fix it, and storing it would put nonsense into the ledger's inputs.
 */

/** How far in the future a payment date may be before it is nonsense rather than clock skew. */
export const FUTURE_TOLERANCE_MS = 24 * 60 * 60 * 1000;

/** A new-model receipt (paSendRT/V2) as the checks need it. */
export type NoticeReceiptFacts = {
  /** idPA: the domain the node called for. */
  readonly calledDomainId: string;
  /** fiscalCode: the domain the notice belongs to. */
  readonly noticeDomainId: string;
  readonly noticeNumber: string;
  readonly iuv: string;
  readonly amountCents: number;
  readonly transfers: readonly { readonly domainId: string; readonly amountCents: number }[];
  readonly paidAt?: Date;
};

/** The reasons a new-model receipt is semantically wrong; empty when it is fine. */
export function noticeReceiptProblems(r: NoticeReceiptFacts, now: Date): string[] {
  const problems: string[] = [];
  const sum = r.transfers.reduce((s, t) => s + t.amountCents, 0);
  if (sum !== r.amountCents) {
    problems.push(
      `paymentAmount ${formatCents(r.amountCents)} != sum of transferAmount ${formatCents(sum)}`,
    );
  }
  try {
    const iuv = parseNoticeNumber(r.noticeNumber).iuv;
    if (iuv !== r.iuv) {
      problems.push(`creditorReferenceId ${r.iuv} is not the IUV of noticeNumber (${iuv})`);
    }
  } catch {
    problems.push(`noticeNumber ${r.noticeNumber} has no valid aux digit`);
  }
  // Multi-beneficiary: the node also pushes the receipt to the domains of secondary transfers.
  const concerned =
    r.noticeDomainId === r.calledDomainId ||
    r.transfers.some((t) => t.domainId === r.calledDomainId);
  if (!concerned) {
    problems.push(`neither the notice nor any transfer belongs to idPA ${r.calledDomainId}`);
  }
  problems.push(...futureDateProblems('paymentDateTime', r.paidAt, now));
  return problems;
}

/** An RT (paaInviaRT) as the checks need it, beyond the RT's own rules (rtProblems). */
export type RtReceiptFacts = {
  readonly header: { readonly domainId: string; readonly iuv: string; readonly ccp: string };
  readonly domainId: string;
  readonly iuv: string;
  readonly ccp: string;
  readonly receiptAt?: Date;
};

/** The header of a paaInviaRT must name the RT it carries, and the RT must not come from the future. */
export function rtEnvelopeProblems(r: RtReceiptFacts, now: Date): string[] {
  const problems: string[] = [];
  if (r.header.domainId !== r.domainId) {
    problems.push(
      `header identificativoDominio ${r.header.domainId} != RT identificativoDominio ${r.domainId}`,
    );
  }
  if (r.header.iuv !== r.iuv) {
    problems.push(`header IUV ${r.header.iuv} != RT IUV ${r.iuv}`);
  }
  if (r.header.ccp !== r.ccp) {
    problems.push(`header codiceContestoPagamento ${r.header.ccp} != RT CCP ${r.ccp}`);
  }
  problems.push(...futureDateProblems('dataOraMessaggioRicevuta', r.receiptAt, now));
  return problems;
}

function futureDateProblems(name: string, at: Date | undefined, now: Date): string[] {
  if (at === undefined) return [];
  if (Number.isNaN(at.getTime())) return [`${name} is not a real date`];
  return at.getTime() > now.getTime() + FUTURE_TOLERANCE_MS
    ? [`${name} ${at.toISOString()} is in the future`]
    : [];
}

/**
 * Refuses a receipt with the reasons found.
 * @throws AppError('xml-semantic-invalid') when `problems` is not empty.
 */
export function assertNoProblems(problems: readonly string[]): void {
  if (problems.length > 0) {
    throw new AppError('xml-semantic-invalid', problems.join('; '), { problems });
  }
}

/** The outcome of an RT's codiceEsitoPagamento (0..4), PAGOPA.md §5. */
export function rtOutcome(code: 0 | 1 | 2 | 3 | 4): ReceiptOutcome {
  switch (code) {
    case 0:
      return 'PAID';
    case 1:
      return 'NOT_PAID';
    case 2:
      return 'PARTIAL';
    case 3:
      return 'TIMED_OUT';
    case 4:
      return 'PARTIAL_TIMED_OUT';
  }
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;
const ROME_OFFSET = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Europe/Rome',
  timeZoneName: 'longOffset',
});

/**
 * An xsd:dateTime from the wire as an instant. Without a zone it is Italian local time (the node
 * and PSPs write it that way), so the Europe/Rome offset of that moment applies.
 * Returns an invalid Date for text that is not a date-time (the wire layer already checked the form).
 */
export function wireDateTime(text: string): Date {
  const local = LOCAL_DATE_TIME.exec(text);
  if (local === null) return new Date(text);
  const asUtc = Date.UTC(
    Number(local[1]),
    Number(local[2]) - 1,
    Number(local[3]),
    Number(local[4]),
    Number(local[5]),
    Number(local[6]),
    local[7] === undefined ? 0 : Math.floor(Number(local[7]) * 1000),
  );
  // The offset at the UTC reading is right except within an hour of a DST switch: good enough
  // for a payment timestamp, which is informative (money is keyed by IUV, not by time).
  return new Date(asUtc - romeOffsetMs(new Date(asUtc)));
}

function romeOffsetMs(at: Date): number {
  if (Number.isNaN(at.getTime())) return 0;
  const name = ROME_OFFSET.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (m === null) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return (m[1] === '-' ? -minutes : minutes) * 60_000;
}

function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
