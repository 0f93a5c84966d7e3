/**
 * What makes two deliveries of a new-model receipt "the same receipt": the content whose hash
 * the inbox compares when a receipt arrives again with a business key it already holds.
 *
 * Why not the whole receipt: a receipt reaches us by two doors. The node pushes it with paSendRT
 * or paSendRTV2 (the full ctReceipt), and missing-receipt recovery reads it back from pagoPA's
 * biz-events service (`CtReceiptModelResponse`, JSON). Both describe the same payment, but the
 * JSON drops fields (paymentNote, standIn, the transfers' companyName), gives `paymentDateTime` as
 * a date only, and re-spells names and addresses as the biz-events store kept them. Hashing the
 * whole receipt would make a pushed receipt that follows a recovered one a "modified resend":
 * a false conflict for operators and PAA_RECEIPT_DUPLICATA to the node.
 *
 * So identity is who paid how much to whom, by which PSP: the receipt id, notice, creditor, IUV,
 * outcome and total, and per transfer its index, amount, beneficiary, account (IBAN, or the stamp
 * document) and taxonomy; the PSP and its channel. Names, addresses, descriptions, fees, payment
 * method and dates are left out: a difference there does not change where money went, and both
 * doors keep the full document (raw and parsed) for audits anyway. A receipt that differs in any
 * identity field is still a conflict, recorded and never applied.
 */
import type { Receipt } from './pa-send-rt';

/** The identity of a receipt in canonical form (fixed key order, transfers by index). */
export interface ReceiptIdentity {
  readonly receiptId: string;
  readonly noticeNumber: string;
  readonly domainFiscalCode: string;
  readonly outcome: 'OK' | 'KO';
  readonly iuv: string;
  readonly amountCents: number;
  readonly transfers: readonly {
    readonly transferId: number;
    readonly amountCents: number;
    readonly domainFiscalCode: string;
    readonly iban?: string;
    readonly stampDocumentBase64?: string;
    readonly transferCategory: string;
  }[];
  readonly pspId: string;
  readonly channelId: string;
}

/** The identity of a receipt (see the module comment); hash it, not the whole receipt. */
export function receiptIdentity(r: Receipt): ReceiptIdentity {
  return {
    receiptId: r.receiptId,
    noticeNumber: r.noticeNumber,
    domainFiscalCode: r.domainFiscalCode,
    outcome: r.outcome,
    iuv: r.iuv,
    amountCents: r.amountCents,
    transfers: [...r.transfers]
      .sort((a, b) => a.transferId - b.transferId)
      .map((t) => ({
        transferId: t.transferId,
        amountCents: t.amountCents,
        domainFiscalCode: t.domainFiscalCode,
        ...(t.iban === undefined ? {} : { iban: t.iban.trim().toUpperCase() }),
        ...(t.stamp === undefined ? {} : { stampDocumentBase64: t.stamp.documentBase64 }),
        transferCategory: t.transferCategory,
      })),
    pspId: r.psp.id,
    channelId: r.psp.channelId,
  };
}
