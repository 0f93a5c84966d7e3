import { addWorkingDays } from './calendar';
import { parseCausale } from './causale';

/**
 * Reconciliation as a pure function of stored facts: flow lines × receipts, treasury movements ×
 * flows and receipts, and the D+4 rule. No I/O, no clock (asOf is an input), no memory of past
 * runs: running it again after a late receipt or a late flow simply gives the new answer
 * (GovPay memoises failed matches, #521; we do not).
 */

/** A stored reporting flow revision (only the latest revision of a flow id is matched). */
export interface FlowFact {
  readonly id: number;
  readonly domainId: string;
  readonly flowId: string;
  readonly pspId: string;
  readonly settlementDate: string;
  readonly totalCount: number;
  readonly totalCents: number;
  readonly computedCount: number;
  readonly computedCents: number;
  readonly status: 'OK' | 'ANOMALOUS';
  readonly statusReason?: string;
}

export interface FlowLineFact {
  readonly id: number;
  readonly flowRowId: number;
  readonly lineNo: number;
  readonly iuv: string;
  readonly iur: string;
  readonly transferIndex?: number;
  readonly amountCents: number;
  /** codiceEsitoSingoloPagamento: 0, 3, 4, 8, 9. */
  readonly outcomeCode: number;
  readonly paidDate: string;
}

/** One transfer of a receipt, as a flow line reports it: (IUV, IUR, index). */
export interface ReceiptTransfer {
  readonly index: number;
  readonly iur: string;
  readonly amountCents: number;
}

export interface ReceiptFact {
  readonly id: number;
  readonly domainId: string;
  readonly iuv: string;
  readonly receiptKey: string;
  readonly outcome: string;
  readonly amountCents: number;
  /** The Italian calendar day of payment; undefined when the receipt does not say. */
  readonly paidDate?: string;
  readonly transfers: readonly ReceiptTransfer[];
}

export interface MovementFact {
  readonly id: number;
  readonly domainId: string;
  readonly lineNo: number;
  readonly bookedOn: string;
  readonly amountCents: number;
  readonly causale: string;
}

export type LineOutcome = 'MATCHED' | 'AMOUNT_MISMATCH' | 'NO_RECEIPT' | 'REVOKED';

export interface LineMatch {
  readonly lineId: number;
  readonly flowRowId: number;
  readonly outcome: LineOutcome;
  readonly receiptId?: number;
  /** What the receipt says for that transfer (AMOUNT_MISMATCH). */
  readonly expectedCents?: number;
}

export type MovementOutcome =
  'MATCHED' | 'AMOUNT_MISMATCH' | 'FLOW_ANOMALOUS' | 'NO_FLOW' | 'NO_RECEIPT' | 'UNRECOGNISED';

export interface MovementMatch {
  readonly movementId: number;
  readonly outcome: MovementOutcome;
  readonly flowRowId?: number;
  readonly receiptId?: number;
  readonly expectedCents?: number;
}

/**
 * The transfers of a stored receipt in reporting-flow terms (PAGOPA.md §11): new model
 * (`transfers[]`): IUR = receiptId, index = idTransfer; RT model (`lines[]`): IUR and index of the
 * RT's datiSingoloPagamento. A receipt with neither is one transfer of its whole amount.
 */
export function receiptTransfers(
  parsed: unknown,
  receiptKey: string,
  amountCents: number,
): ReceiptTransfer[] {
  const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
    transfers?: unknown;
    lines?: unknown;
  };
  if (Array.isArray(o.transfers)) {
    return (o.transfers as { transferId?: unknown; amountCents?: unknown }[]).map((t, i) => ({
      index: typeof t.transferId === 'number' ? t.transferId : i + 1,
      iur: receiptKey,
      amountCents: typeof t.amountCents === 'number' ? t.amountCents : 0,
    }));
  }
  if (Array.isArray(o.lines)) {
    return (o.lines as { iur?: unknown; paidCents?: unknown }[]).map((l, i) => ({
      index: i + 1,
      iur: typeof l.iur === 'string' ? l.iur : receiptKey,
      amountCents: typeof l.paidCents === 'number' ? l.paidCents : 0,
    }));
  }
  return [{ index: 1, iur: receiptKey, amountCents }];
}

const transferKey = (iuv: string, iur: string, index: number): string =>
  `${iuv}\u0000${iur}\u0000${index}`;

/** Matches every line to a receipt transfer by IUV + IUR + index (index 1 when the line has none). */
export function matchLines(
  lines: readonly FlowLineFact[],
  receipts: readonly ReceiptFact[],
): LineMatch[] {
  const byKey = new Map<string, { receipt: ReceiptFact; transfer: ReceiptTransfer }>();
  for (const receipt of receipts) {
    for (const transfer of receipt.transfers) {
      byKey.set(transferKey(receipt.iuv, transfer.iur, transfer.index), { receipt, transfer });
    }
  }
  return lines.map((line): LineMatch => {
    const hit = byKey.get(transferKey(line.iuv, line.iur, line.transferIndex ?? 1));
    const base = { lineId: line.id, flowRowId: line.flowRowId };
    if (line.outcomeCode === 3) {
      return { ...base, outcome: 'REVOKED', ...(hit ? { receiptId: hit.receipt.id } : {}) };
    }
    if (hit === undefined) return { ...base, outcome: 'NO_RECEIPT' };
    if (hit.transfer.amountCents !== line.amountCents) {
      return {
        ...base,
        outcome: 'AMOUNT_MISMATCH',
        receiptId: hit.receipt.id,
        expectedCents: hit.transfer.amountCents,
      };
    }
    return { ...base, outcome: 'MATCHED', receiptId: hit.receipt.id };
  });
}

const PAID_OUTCOMES = new Set(['PAID', 'PARTIAL', 'PARTIAL_TIMED_OUT']);

/** A receipt that moved money to us and should therefore appear in some flow. */
export const isPaidReceipt = (r: ReceiptFact): boolean =>
  PAID_OUTCOMES.has(r.outcome) && r.amountCents > 0;

/**
 * Receipts paid on D with no line of any flow by D+4 working days (exclusive: on D+4 the PSP may
 * still send or overwrite it), as of `asOf` (YYYY-MM-DD).
 */
export function lateReceipts(
  receipts: readonly ReceiptFact[],
  matches: readonly LineMatch[],
  asOf: string,
): ReceiptFact[] {
  const reported = new Set<number>();
  for (const m of matches) if (m.receiptId !== undefined) reported.add(m.receiptId);
  return receipts.filter(
    (r) =>
      isPaidReceipt(r) &&
      !reported.has(r.id) &&
      r.paidDate !== undefined &&
      addWorkingDays(r.paidDate, 4) < asOf,
  );
}

/**
 * Matches treasury movements by causale: a flow's cumulative transfer to the latest revision of
 * that flow (same domain), a single payment's transfer to its receipts by IUV; amounts must agree.
 * An ANOMALOUS flow is never a MATCHED transfer: its totals cannot be trusted.
 */
export function matchMovements(
  movements: readonly MovementFact[],
  flows: readonly FlowFact[],
  receipts: readonly ReceiptFact[],
): MovementMatch[] {
  const flowById = new Map(flows.map((f) => [`${f.domainId}\u0000${f.flowId}`, f]));
  const receiptsByIuv = new Map<string, ReceiptFact[]>();
  for (const r of receipts) {
    if (!isPaidReceipt(r)) continue;
    const key = `${r.domainId}\u0000${r.iuv}`;
    receiptsByIuv.set(key, [...(receiptsByIuv.get(key) ?? []), r]);
  }
  return movements.map((m): MovementMatch => {
    const ref = parseCausale(m.causale);
    switch (ref.kind) {
      case 'none':
        return { movementId: m.id, outcome: 'UNRECOGNISED' };
      case 'flow': {
        const flow = flowById.get(`${m.domainId}\u0000${ref.flowId}`);
        if (flow === undefined) return { movementId: m.id, outcome: 'NO_FLOW' };
        const base = { movementId: m.id, flowRowId: flow.id, expectedCents: flow.totalCents };
        if (flow.status === 'ANOMALOUS') return { ...base, outcome: 'FLOW_ANOMALOUS' };
        return {
          ...base,
          outcome: flow.totalCents === m.amountCents ? 'MATCHED' : 'AMOUNT_MISMATCH',
        };
      }
      case 'single': {
        const found = receiptsByIuv.get(`${m.domainId}\u0000${ref.iuv}`);
        const first = found?.[0];
        if (found === undefined || first === undefined) {
          return { movementId: m.id, outcome: 'NO_RECEIPT' };
        }
        const expectedCents = found.reduce((s, r) => s + r.amountCents, 0);
        return {
          movementId: m.id,
          receiptId: first.id,
          expectedCents,
          outcome: expectedCents === m.amountCents ? 'MATCHED' : 'AMOUNT_MISMATCH',
        };
      }
    }
  });
}
