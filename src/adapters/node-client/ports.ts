/**
 * What the rest of the service can ask of the upstream (pagoPA, a regional RPT node, MyPay),
 * one interface per capability, in domain terms. Each dialect implements the capabilities its
 * upstream offers; `createNodeClient` picks them from the domain's `dialect`.
 *
 * Errors every method may throw (see transport.ts):
 * - AppError('upstream-error') the upstream refused (details.faultCode carries the PPT_/PAA_ code,
 *   details.status the HTTP status) or a write may have been accepted without an answer
 *   (details.ambiguous = true);
 * - AppError('dependency-down') the upstream is unreachable or its circuit is open;
 * - AppError('invalid-input') the request cannot be sent as given.
 */
import type { PaymentRequest } from '../pagopa/rpt-rt';
import type { RptStatus } from '../pagopa/old-model-soap';
import type { MyPayDues, MyPayDueImport, MyPayPaidReport } from '../mypay/documents';

export type { Dialect } from './transport';

/** Where the citizen goes next, and how to find the payment again. */
export interface StartedPayment {
  /** The page to redirect the citizen to (Checkout, WISP, MyPay). */
  readonly redirectUrl: string;
  /** The upstream's session (`idSession` of WISP and MyPay), when it gives one. */
  readonly sessionId?: string;
  /** The codiceContestoPagamento the RPT(s) were sent with (rpt dialect). */
  readonly ccp?: string;
}

export interface PaymentStarter<Input> {
  /** Not retried: a timeout is reported as ambiguous (details.ambiguous), check before resending. */
  start(input: Input): Promise<StartedPayment>;
}

/** How a receipt is identified: the CCP in the old model, the receipt id (IUR) in the new one. */
export type ReceiptKey =
  | { readonly domainId: string; readonly iuv: string; readonly ccp: string }
  | { readonly domainId: string; readonly iuv?: string; readonly receiptId: string };

export type ReceiptCopy =
  | {
      readonly kind: 'found';
      /** `xml` for an RT (nodoChiediCopiaRT), `json` for a biz-event receipt. */
      readonly format: 'xml' | 'json';
      /** The document exactly as the upstream gave it (decoded from base64 for an RT). */
      readonly raw: string;
      readonly source: 'nodoChiediCopiaRT' | 'bizevents';
    }
  | { readonly kind: 'not-found'; readonly reason: string };

export interface ReceiptCopier {
  copy(key: ReceiptKey): Promise<ReceiptCopy>;
}

/** The receipt id (IUR = paymentToken) of a notice's payment, as pagoPA's biz-events know it. */
export type ReceiptIdLookup =
  | {
      readonly kind: 'found';
      readonly receiptId: string;
      /** The biz-event's own id, for the logs. */
      readonly bizEventId?: string;
    }
  | { readonly kind: 'not-found'; readonly reason: string };

/**
 * New model: finds the receipt id of a notice's payment from the creditor and the IUV, which is
 * all the EC knows before the receipt arrives (the paymentToken is made by the node).
 */
export interface ReceiptIdFinder {
  findReceiptId(key: { readonly domainId: string; readonly iuv: string }): Promise<ReceiptIdLookup>;
}

export interface PendingPayment {
  readonly domainId: string;
  readonly iuv: string;
  readonly ccp: string;
  /** The node's RPT state (RPT_ACCETTATA_PSP...). */
  readonly state: string;
}

export interface PendingQuery {
  readonly domainId?: string;
  /** ISO date-times bounding the RPTs' dates. */
  readonly from?: string;
  readonly to?: string;
  /** At most this many (dimensioneLista). */
  readonly maxResults: number;
}

export interface PendingLister {
  listPending(query: PendingQuery): Promise<readonly PendingPayment[]>;
}

export interface ReportingFlowRef {
  readonly flowId: string;
  /** dataOraFlusso: a later one for the same flowId supersedes the earlier. */
  readonly flowDate: string;
  /** The reporting PSP, read from the flow id (`<date><idPSP>-<n>`); undefined when it does not follow that form. */
  readonly pspId?: string;
}

export interface ReportingFlowSource {
  /** Flows whose dataOraFlusso is at or after `since` (the node keeps 30 days). */
  listFlows(since: Date): Promise<readonly ReportingFlowRef[]>;
  /** The FlussoRiversamento document, decoded. */
  downloadFlow(ref: { readonly flowId: string; readonly pspId?: string }): Promise<string>;
}

/** Old model: an RPT's state at the node (nodoChiediStatoRPT). */
export interface RptStatusReader {
  status(key: { domainId: string; iuv: string; ccp: string }): Promise<RptStatus>;
}

// ------------------------------------------------------------------------------------------------
// Inputs per dialect.

/** One notice in a Checkout cart. */
export interface CheckoutNotice {
  /** 18 digits. */
  readonly noticeNumber: string;
  /** The creditor's 11-digit fiscal code. */
  readonly domainFiscalCode: string;
  /** Integer cents ≥ 1. */
  readonly amountCents: number;
  /** ≤ 140 characters. */
  readonly companyName: string;
  /** ≤ 140 characters. */
  readonly description: string;
}

export interface CheckoutCartInput {
  /** 1..5 notices. */
  readonly notices: readonly CheckoutNotice[];
  readonly returnUrls: {
    readonly ok: string;
    readonly cancel: string;
    readonly error: string;
  };
  /** Our id for the cart; it comes back as paymentNote in paGetPayment. */
  readonly cartId?: string;
  readonly emailNotice?: string;
  readonly allCCP?: boolean;
}

/** The PSP route of an old-model RPT. */
export interface PspRoute {
  readonly pspId: string;
  readonly pspBrokerId: string;
  readonly channelId: string;
}

/** WISP's fixed route for the "universal" RPT (PAGOPA.md §4): the citizen picks the PSP there. */
export const WISP_ROUTE: PspRoute = {
  pspId: 'AGID_01',
  pspBrokerId: '97735020584',
  channelId: '97735020584_02',
};

export interface RptPaymentInput {
  /** 1 (nodoInviaRPT) to 5 (nodoInviaCarrelloRPT) RPTs built by the codes module. */
  readonly rpts: readonly PaymentRequest[];
  /** identificativoCarrello, required with more than one RPT. */
  readonly cartId?: string;
  /** Multi-beneficiary cart (multiBeneficiario). */
  readonly multiBeneficiary?: boolean;
}

/** After paaAttivaRPT: the RPT (tipoVersamento PO, the PSP's CCP) sent with the PSP's route. */
export interface ActivatedRptInput {
  readonly rpt: PaymentRequest;
  readonly psp: PspRoute;
}

export interface ActivatedRptSender {
  /** Not retried; PPT_RPT_DUPLICATA means the node already has it (see PAGOPA.md §4). */
  sendActivated(input: ActivatedRptInput): Promise<void>;
}

export interface MyPayPaymentInput {
  readonly dues: MyPayDues;
  /** Where MyPay sends the citizen back (enteSILInviaRispostaPagamentoUrl). */
  readonly returnUrl?: string;
}

export interface MyPayImporter {
  /** paaSILImportaDovuto: creates, modifies or cancels a debt position (not retried). */
  importDue(input: MyPayDueImport): Promise<{ readonly iuv?: string; readonly noticeUrl?: string }>;
}

export interface MyPayOutcomeReader {
  /** paaSILChiediPagati for a session started with paaSILInviaDovuti. */
  paid(sessionId: string): Promise<MyPayPaidReport>;
}
