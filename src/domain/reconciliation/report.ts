import { centsToDecimalString } from '../codes/money';
import { addWorkingDays } from './calendar';
import {
  isPaidReceipt,
  lateReceipts,
  matchLines,
  matchMovements,
  type FlowFact,
  type FlowLineFact,
  type LineMatch,
  type MovementFact,
  type MovementMatch,
  type ReceiptFact,
} from './match';

export type MismatchKind =
  | 'FLOW_ANOMALOUS'
  | 'LINE_AMOUNT_MISMATCH'
  | 'LINE_NO_RECEIPT'
  | 'LINE_REVOKED'
  | 'RECEIPT_LATE'
  | 'TRANSFER_AMOUNT_MISMATCH'
  | 'TRANSFER_FLOW_ANOMALOUS'
  | 'TRANSFER_NO_FLOW'
  | 'TRANSFER_NO_RECEIPT'
  | 'TRANSFER_UNRECOGNISED'
  | 'FLOW_NOT_CREDITED';

/** What an operator does about each kind of mismatch (also in README's runbook). */
export const ACTIONS: Record<MismatchKind, string> = {
  FLOW_ANOMALOUS:
    'declared count/total disagree with the lines: do not book it; ask the PSP to resend the flow (a later revision replaces it)',
  LINE_AMOUNT_MISMATCH:
    'the PSP reported another amount than the receipt: check the receipt and ask the PSP; book the amount actually credited',
  LINE_NO_RECEIPT:
    'paid without a receipt here (codes 8/9: without RPT or in stand-in): it is queued for receipt recovery; if the node has none, record the payment by hand',
  LINE_REVOKED: 'payment revoked by the PSP: reverse its booking and tell the ERP',
  RECEIPT_LATE:
    'no flow line after D+4 working days: run `reports fetch`; if still missing, ask the PSP for the flow',
  TRANSFER_AMOUNT_MISMATCH:
    'the bank credited another amount than the flow/receipt: check the statement and ask the PSP',
  TRANSFER_FLOW_ANOMALOUS:
    'money for an ANOMALOUS flow: keep it unallocated until the PSP resends a consistent flow',
  TRANSFER_NO_FLOW:
    'transfer for a flow not downloaded yet: run `reports fetch`; the next report matches it',
  TRANSFER_NO_RECEIPT:
    'single-payment transfer (/RFB, /RFS) with no receipt here: recover the receipt or record it by hand',
  TRANSFER_UNRECOGNISED:
    'causale names no flow or payment: not a pagoPA transfer, or allocate it by hand',
  FLOW_NOT_CREDITED:
    'the statement covers the settlement date but no transfer names this flow: ask the treasury/PSP',
};

export interface Mismatch {
  readonly date: string;
  readonly kind: MismatchKind;
  /** The flow id, IUV or causale concerned. */
  readonly ref: string;
  readonly detail: string;
  readonly action: string;
  readonly amountCents?: number;
  readonly expectedCents?: number;
}

interface Tally {
  count: number;
  cents: number;
}

export interface DayReport {
  readonly date: string;
  readonly receipts: Tally;
  readonly flows: Tally;
  readonly bankTransfers: Tally;
  readonly mismatches: Mismatch[];
}

export interface ReconciliationInput {
  /** YYYY-MM-DD, inclusive. */
  readonly from: string;
  readonly to: string;
  /** Today (YYYY-MM-DD): the D+4 rule is checked against it. */
  readonly asOf: string;
  /** The latest revision of every flow loaded (superseded revisions are left out). */
  readonly flows: readonly FlowFact[];
  readonly lines: readonly FlowLineFact[];
  readonly receipts: readonly ReceiptFact[];
  readonly movements: readonly MovementFact[];
}

export interface ReconciliationReport {
  readonly from: string;
  readonly to: string;
  readonly asOf: string;
  readonly days: DayReport[];
  readonly lineMatches: LineMatch[];
  readonly movementMatches: MovementMatch[];
}

const euro = (cents: number): string => `${centsToDecimalString(cents)} EUR`;

/** Builds the per-day report: pure, see match.ts. Days outside [from, to] are left out. */
export function reconcile(input: ReconciliationInput): ReconciliationReport {
  const days = new Map<string, DayReport>();
  const day = (date: string): DayReport | undefined => {
    if (date < input.from || date > input.to) return undefined;
    let d = days.get(date);
    if (d === undefined) {
      d = {
        date,
        receipts: { count: 0, cents: 0 },
        flows: { count: 0, cents: 0 },
        bankTransfers: { count: 0, cents: 0 },
        mismatches: [],
      };
      days.set(date, d);
    }
    return d;
  };
  const flag = (date: string, m: Omit<Mismatch, 'date' | 'action'>): void => {
    day(date)?.mismatches.push({ date, ...m, action: ACTIONS[m.kind] });
  };

  const flowsById = new Map(input.flows.map((f) => [f.id, f]));
  const linesById = new Map(input.lines.map((l) => [l.id, l]));
  for (const r of input.receipts) {
    if (!isPaidReceipt(r) || r.paidDate === undefined) continue;
    const d = day(r.paidDate);
    if (d === undefined) continue;
    d.receipts.count += 1;
    d.receipts.cents += r.amountCents;
  }
  for (const f of input.flows) {
    const d = day(f.settlementDate);
    if (d === undefined) continue;
    d.flows.count += 1;
    d.flows.cents += f.totalCents;
    if (f.status === 'ANOMALOUS') {
      flag(f.settlementDate, {
        kind: 'FLOW_ANOMALOUS',
        ref: f.flowId,
        detail: `${f.pspId}: declared ${f.totalCount} lines / ${euro(f.totalCents)}, lines add up to ${f.computedCount} / ${euro(f.computedCents)}`,
        amountCents: f.computedCents,
        expectedCents: f.totalCents,
      });
    }
  }

  const lineMatches = matchLines(input.lines, input.receipts);
  for (const m of lineMatches) {
    if (m.outcome === 'MATCHED') continue;
    const line = linesById.get(m.lineId);
    const flow = flowsById.get(m.flowRowId);
    if (line === undefined || flow === undefined) continue;
    const where = `flow ${flow.flowId} line ${line.lineNo}: IUV ${line.iuv}, IUR ${line.iur}, index ${line.transferIndex ?? 1}, code ${line.outcomeCode}`;
    const kind =
      m.outcome === 'AMOUNT_MISMATCH'
        ? 'LINE_AMOUNT_MISMATCH'
        : m.outcome === 'REVOKED'
          ? 'LINE_REVOKED'
          : 'LINE_NO_RECEIPT';
    flag(flow.settlementDate, {
      kind,
      ref: line.iuv,
      detail: where,
      amountCents: line.amountCents,
      ...(m.expectedCents === undefined ? {} : { expectedCents: m.expectedCents }),
    });
  }

  for (const r of lateReceipts(input.receipts, lineMatches, input.asOf)) {
    flag(r.paidDate ?? input.asOf, {
      kind: 'RECEIPT_LATE',
      ref: r.iuv,
      detail: `receipt ${r.receiptKey} paid ${r.paidDate ?? '?'} not in any flow by ${addWorkingDays(r.paidDate ?? input.asOf, 4)}`,
      amountCents: r.amountCents,
    });
  }

  const movementMatches = matchMovements(input.movements, input.flows, input.receipts);
  const movementsById = new Map(input.movements.map((m) => [m.id, m]));
  const credited = new Set<number>();
  let lastBooked = '';
  for (const mm of movementMatches) {
    const m = movementsById.get(mm.movementId);
    if (m === undefined) continue;
    if (m.bookedOn > lastBooked) lastBooked = m.bookedOn;
    if (mm.flowRowId !== undefined) credited.add(mm.flowRowId);
    const d = day(m.bookedOn);
    if (d !== undefined) {
      d.bankTransfers.count += 1;
      d.bankTransfers.cents += m.amountCents;
    }
    if (mm.outcome === 'MATCHED') continue;
    flag(m.bookedOn, {
      kind: `TRANSFER_${mm.outcome}`,
      ref: m.causale,
      detail: `statement line ${m.lineNo}: ${euro(m.amountCents)}${mm.expectedCents === undefined ? '' : `, expected ${euro(mm.expectedCents)}`}`,
      amountCents: m.amountCents,
      ...(mm.expectedCents === undefined ? {} : { expectedCents: mm.expectedCents }),
    });
  }
  // A flow is only "not credited" when a statement imported covers its settlement date.
  for (const f of input.flows) {
    if (credited.has(f.id) || lastBooked === '' || lastBooked < f.settlementDate) continue;
    flag(f.settlementDate, {
      kind: 'FLOW_NOT_CREDITED',
      ref: f.flowId,
      detail: `${f.pspId}: ${euro(f.totalCents)} settled ${f.settlementDate}`,
      expectedCents: f.totalCents,
    });
  }

  return {
    from: input.from,
    to: input.to,
    asOf: input.asOf,
    days: [...days.values()].sort((a, b) => a.date.localeCompare(b.date)),
    lineMatches,
    movementMatches,
  };
}

const csvField = (v: string | number | undefined): string => {
  const s = v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The report as CSV: one row per day, then one row per mismatch. */
export function reportToCsv(report: ReconciliationReport): string {
  const rows: (string | number | undefined)[][] = [
    ['date', 'kind', 'ref', 'count', 'amount', 'expected', 'detail', 'action'],
  ];
  const amount = (c: number | undefined): string | undefined =>
    c === undefined ? undefined : centsToDecimalString(c);
  for (const d of report.days) {
    rows.push([d.date, 'RECEIPTS', '', d.receipts.count, amount(d.receipts.cents)]);
    rows.push([d.date, 'FLOWS', '', d.flows.count, amount(d.flows.cents)]);
    rows.push([d.date, 'BANK_TRANSFERS', '', d.bankTransfers.count, amount(d.bankTransfers.cents)]);
    for (const m of d.mismatches) {
      rows.push([
        m.date,
        m.kind,
        m.ref,
        1,
        amount(m.amountCents),
        amount(m.expectedCents),
        m.detail,
        m.action,
      ]);
    }
  }
  const width = rows[0]?.length ?? 0;
  const padded = rows.map((r) => [...r, ...Array<undefined>(width - r.length).fill(undefined)]);
  return padded.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}
