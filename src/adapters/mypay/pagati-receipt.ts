/**
 * A MyPay Pagati document as a receipt for the inbox: the same `IncomingReceipt` the SOAP doors
 * build from a paaInviaRT, so MyPay outcomes are stored, deduplicated, quarantined and reconciled
 * exactly like pushed pagoPA receipts, whether MyPay pushed the document or we read it with
 * paaSILChiediPagati.
 *
 * Business key: (identificativoDominio, IUV, receipt key). The receipt key is the
 * identificativoUnivocoRiscossione (IUR) of the first line: the PSP's id of the collection, in the
 * document itself, so a push and a later read of the same outcome land on the same key whoever
 * delivered them first. A document whose lines carry no usable IUR (a "not paid" outcome may have
 * none, or `n/a`) is keyed by identificativoMessaggioRicevuta, MyPay's id of that document.
 * Content hash: the parsed document (deterministic object), not the transport wrapper.
 */
import { AppError, isAppError } from '../../domain/errors';
import {
  FUTURE_TOLERANCE_MS,
  assertNoProblems,
  rtOutcome,
  wireDateTime,
} from '../../domain/receipts/semantics';
import type { IncomingReceipt } from '../../domain/receipts/types';
import { centsToDecimal } from '../pagopa/rpt-rt';
import { base64XmlDecode } from '../pagopa/xml';
import { parsePagati, type MyPayPaid } from './documents';

/** Who delivered the document: the broker and station the domain is configured with. */
export interface PagatiDelivery {
  readonly brokerId: string;
  readonly stationId: string;
  /** MyPay's idSession (poll: the attempt's; push: the one MyPay names): links the attempt. */
  readonly sessionId?: string;
  /** Set when the document names a domain that is not ours as a MyPay domain (held, see types). */
  readonly misdirected?: string;
}

const UNUSABLE_IUR = new Set(['', 'n/a', 'N/A', 'NA']);

/** The receipt key of a Pagati document (see the module comment). */
export function pagatiReceiptKey(paid: MyPayPaid): string {
  const iur = paid.lines[0]?.iur;
  return iur !== undefined && !UNUSABLE_IUR.has(iur.trim()) ? iur : paid.receiptMessageId;
}

/** Cents the creditor actually received: nothing for outcomes 1 and 3, else the lines paid. */
export function pagatiCreditedCents(paid: MyPayPaid): number {
  if (paid.outcome === 1 || paid.outcome === 3) return 0;
  return paid.lines.reduce((s, l) => s + l.paidCents, 0);
}

/**
 * The rules the XSD cannot express (those of an RT, which a Pagati mirrors): lines required for
 * outcomes 0, 2, 4; nothing paid for 1 and 3; lines adding up to importoTotalePagato; no receipt
 * from the future.
 */
export function pagatiProblems(paid: MyPayPaid, now: Date): string[] {
  const problems: string[] = [];
  if (!/^\d{11}$/.test(paid.domainId)) {
    problems.push(`identificativoDominio ${paid.domainId} is not a fiscal code of 11 digits`);
  }
  if ((paid.outcome === 0 || paid.outcome === 2 || paid.outcome === 4) && paid.lines.length === 0) {
    problems.push(`codiceEsitoPagamento ${paid.outcome} requires datiSingoloPagamento`);
  }
  if ((paid.outcome === 1 || paid.outcome === 3) && paid.totalPaidCents !== 0) {
    problems.push(`codiceEsitoPagamento ${paid.outcome} requires importoTotalePagato 0.00`);
  }
  if (paid.lines.length > 0) {
    const sum = paid.lines.reduce((s, l) => s + l.paidCents, 0);
    if (sum !== paid.totalPaidCents) {
      problems.push(
        `importoTotalePagato ${centsToDecimal(paid.totalPaidCents)} != sum of lines ${centsToDecimal(sum)}`,
      );
    }
  }
  if (paid.outcome === 0 && paid.lines.some((l) => l.paidCents === 0)) {
    problems.push('codiceEsitoPagamento 0 with a line of singoloImportoPagato 0.00');
  }
  const at = wireDateTime(paid.receiptDateTime);
  if (Number.isNaN(at.getTime())) {
    problems.push('dataOraMessaggioRicevuta is not a real date');
  } else if (at.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    problems.push(`dataOraMessaggioRicevuta ${at.toISOString()} is in the future`);
  }
  return problems;
}

/**
 * Decodes a base64 Pagati document and parses it.
 * @throws AppError('xml-embedded-invalid') for anything that is not base64 of a schema-valid Pagati.
 */
export function decodePagati(base64: string): { xml: string; paid: MyPayPaid } {
  try {
    const xml = base64XmlDecode(base64);
    return { xml, paid: parsePagati(xml) };
  } catch (err) {
    if (!isAppError(err)) throw err;
    throw new AppError('xml-embedded-invalid', `pagati: ${err.message}`, {}, { cause: err });
  }
}

/**
 * The receipt of a parsed Pagati document.
 * @throws AppError('xml-semantic-invalid') when it breaks a rule of {@link pagatiProblems}.
 */
export function pagatiToReceipt(
  paid: MyPayPaid,
  xml: string,
  delivery: PagatiDelivery,
  now: Date = new Date(),
): IncomingReceipt {
  assertNoProblems(pagatiProblems(paid, now));
  return {
    key: { domainId: paid.domainId, iuv: paid.iuv, receiptKey: pagatiReceiptKey(paid) },
    source: 'MYPAY',
    brokerId: delivery.brokerId,
    stationId: paid.stationId ?? delivery.stationId,
    outcome: rtOutcome(paid.outcome),
    amountCents: pagatiCreditedCents(paid),
    paidAt: wireDateTime(paid.receiptDateTime),
    rawXml: xml,
    parsed: paid,
    ...(delivery.sessionId === undefined ? {} : { attemptSessionId: delivery.sessionId }),
    ...(delivery.misdirected === undefined ? {} : { misdirected: delivery.misdirected }),
  };
}
