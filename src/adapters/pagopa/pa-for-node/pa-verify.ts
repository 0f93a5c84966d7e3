/**
 * paVerifyPaymentNotice: the Node asks the EC what a notice costs today.
 *
 * Our SOAP server parses the request and builds the response; the simulator does the opposite.
 * The EC must answer with exactly one payment option carrying today's amount (PAGOPA.md §2, §3).
 */
import { type XmlObject, el, leaf, optChild, optText, soapEnvelope, text } from '../xml';
import {
  type KoResponse,
  type NoticeRef,
  type StationRef,
  amountCents,
  amountLeaf,
  bodyOf,
  enumText,
  fiscalCodeLeaf,
  fiscalCodePA,
  optBoundedText,
  optDate,
  optDateLeaf,
  optTextLeaf,
  pafnWrapper,
  qrCodeXml,
  readBoolean,
  readKo,
  readOutcome,
  readQrCode,
  readStation,
  responseHeadXml,
  stationXml,
} from './common';
import { AppError } from '../../../domain/errors';

export const AMOUNT_OPTIONS = ['EQ', 'LS', 'GT', 'ANY'] as const;
export type AmountOption = (typeof AMOUNT_OPTIONS)[number];

export interface PaVerifyPaymentNoticeRequest {
  readonly station: StationRef;
  readonly notice: NoticeRef;
}

/** paymentOptionDescription: the one way the notice can be paid today. */
export interface PaymentOption {
  readonly amountCents: number;
  /** How the PSP may vary the amount; pagoPA uses EQ only for now. */
  readonly amountOption: AmountOption;
  readonly dueDate?: string;
  readonly detailDescription?: string;
  /** allCCP: every transfer can be credited to a postal account. */
  readonly allPostal: boolean;
}

/** The descriptive fields shared by the verify and demand answers. */
export interface PaymentDescriptionFields {
  readonly paymentDescription?: string;
  /** fiscalCodePA */
  readonly domainFiscalCode?: string;
  readonly companyName?: string;
  readonly officeName?: string;
}

export interface PaVerifyPaymentNoticeOk extends PaymentDescriptionFields {
  readonly outcome: 'OK';
  readonly paymentOption: PaymentOption;
}

export type PaVerifyPaymentNoticeResponse = PaVerifyPaymentNoticeOk | KoResponse;

// ------------------------------------------------------------------------------------------------
// Request.

export function paVerifyPaymentNoticeRequestBody(r: PaVerifyPaymentNoticeRequest): string {
  return pafnWrapper('paVerifyPaymentNoticeReq', stationXml(r.station), qrCodeXml(r.notice));
}

/** Builds the SOAP envelope the Node sends (used by the simulator and tests). */
export function buildPaVerifyPaymentNoticeRequest(r: PaVerifyPaymentNoticeRequest): string {
  return soapEnvelope(paVerifyPaymentNoticeRequestBody(r));
}

export function readPaVerifyPaymentNoticeRequest(body: XmlObject): PaVerifyPaymentNoticeRequest {
  return { station: readStation(body), notice: readQrCode(body) };
}

/**
 * Parses a paVerifyPaymentNotice request envelope.
 * @throws AppError('xml-forbidden-construct' | 'xml-malformed' | 'xml-schema-invalid' | 'unknown-operation')
 */
export function parsePaVerifyPaymentNoticeRequest(xml: string): PaVerifyPaymentNoticeRequest {
  return readPaVerifyPaymentNoticeRequest(bodyOf(xml, 'paVerifyPaymentNoticeReq').payload);
}

// ------------------------------------------------------------------------------------------------
// Payment option list and descriptive fields (shared with paDemandPaymentNotice).

export function paymentListXml(o: PaymentOption): string {
  return el(
    'paymentList',
    el(
      'paymentOptionDescription',
      amountLeaf('amount', o.amountCents, { notZero: true }),
      leaf('options', o.amountOption),
      optDateLeaf('dueDate', o.dueDate),
      optTextLeaf('detailDescription', o.detailDescription, 140),
      leaf('allCCP', o.allPostal),
    ),
  );
}

export function readPaymentList(res: XmlObject): PaymentOption | undefined {
  const list = optChild(res, 'paymentList');
  if (list === undefined) return undefined;
  const o = optChild(list, 'paymentOptionDescription');
  if (o === undefined) return undefined;
  const dueDate = optDate(o, 'dueDate');
  const detailDescription = optBoundedText(o, 'detailDescription', 140);
  return {
    amountCents: amountCents(o, 'amount', { notZero: true }),
    amountOption: enumText(o, 'options', AMOUNT_OPTIONS),
    ...(dueDate === undefined ? {} : { dueDate }),
    ...(detailDescription === undefined ? {} : { detailDescription }),
    allPostal: readBoolean(o, 'allCCP', text(o, 'allCCP')),
  };
}

export function descriptionFieldsXml(d: PaymentDescriptionFields): string {
  return (
    optTextLeaf('paymentDescription', d.paymentDescription, 140) +
    (d.domainFiscalCode === undefined ? '' : fiscalCodeLeaf('fiscalCodePA', d.domainFiscalCode)) +
    optTextLeaf('companyName', d.companyName, 140) +
    optTextLeaf('officeName', d.officeName, 140)
  );
}

export function readDescriptionFields(res: XmlObject): PaymentDescriptionFields {
  const paymentDescription = optBoundedText(res, 'paymentDescription', 140);
  const domainFiscalCode =
    optText(res, 'fiscalCodePA') === undefined ? undefined : fiscalCodePA(res, 'fiscalCodePA');
  const companyName = optBoundedText(res, 'companyName', 140);
  const officeName = optBoundedText(res, 'officeName', 140);
  return {
    ...(paymentDescription === undefined ? {} : { paymentDescription }),
    ...(domainFiscalCode === undefined ? {} : { domainFiscalCode }),
    ...(companyName === undefined ? {} : { companyName }),
    ...(officeName === undefined ? {} : { officeName }),
  };
}

// ------------------------------------------------------------------------------------------------
// Response.

export function paVerifyPaymentNoticeResponseBody(r: PaVerifyPaymentNoticeResponse): string {
  if (r.outcome === 'KO') return pafnWrapper('paVerifyPaymentNoticeRes', responseHeadXml(r));
  return pafnWrapper(
    'paVerifyPaymentNoticeRes',
    responseHeadXml(r),
    paymentListXml(r.paymentOption),
    descriptionFieldsXml(r),
  );
}

/** Builds the SOAP envelope our server answers with (OK with one option, or KO with a faultBean). */
export function buildPaVerifyPaymentNoticeResponse(r: PaVerifyPaymentNoticeResponse): string {
  return soapEnvelope(paVerifyPaymentNoticeResponseBody(r));
}

/**
 * Parses a paVerifyPaymentNotice answer (simulator side).
 * @throws AppError('xml-semantic-invalid') for an OK answer without a payment option.
 */
export function parsePaVerifyPaymentNoticeResponse(xml: string): PaVerifyPaymentNoticeResponse {
  const res = bodyOf(xml, 'paVerifyPaymentNoticeRes').payload;
  if (readOutcome(res) === 'KO') return readKo(res);
  const paymentOption = readPaymentList(res);
  if (paymentOption === undefined) {
    throw new AppError('xml-semantic-invalid', 'paVerifyPaymentNoticeRes OK without paymentList');
  }
  return { outcome: 'OK', paymentOption, ...readDescriptionFields(res) };
}
