/**
 * paDemandPaymentNotice: a PSP (through the Node) asks the EC to create a notice on demand for a
 * service of the pagoPA service catalogue (spontaneous payments), e.g. a card top-up.
 *
 * The service-specific request travels as a base64 XML document (datiSpecificiServizioRequest,
 * xs:base64Binary); ours is the card top-up of wsdl/xsd/demand-card-top-up.xsd. The EC answers
 * with the new notice (qrCode) and its single payment option, like paVerifyPaymentNotice.
 */
import { AppError } from '../../../domain/errors';
import {
  type XmlObject,
  base64XmlDecode,
  base64XmlEncode,
  buildXml,
  elAttrs,
  leaf,
  parseXml,
  rootElement,
  soapEnvelope,
  text,
} from '../xml';
import {
  type KoResponse,
  type NoticeRef,
  type StationRef,
  amountCents,
  bodyOf,
  enumText,
  formatCents,
  patternText,
  pafnWrapper,
  qrCodeXml,
  readKo,
  readOutcome,
  readQrCode,
  readStation,
  responseHeadXml,
  stationXml,
} from './common';
import {
  type PaymentDescriptionFields,
  type PaymentOption,
  descriptionFieldsXml,
  paymentListXml,
  readDescriptionFields,
  readPaymentList,
} from './pa-verify';

export interface PaDemandPaymentNoticeRequest {
  readonly station: StationRef;
  /** idServizio: 5 characters, the service in the pagoPA catalogue. */
  readonly serviceId: string;
  /** idSoggettoServizio: 5 characters, the EC's subscription to that service. */
  readonly serviceSubjectId: string;
  /** datiSpecificiServizioRequest, decoded: the service's own XML document. */
  readonly serviceDataXml: string;
}

export interface PaDemandPaymentNoticeOk extends PaymentDescriptionFields {
  readonly outcome: 'OK';
  /** qrCode: the notice created for the request. */
  readonly notice: NoticeRef;
  readonly paymentOption: PaymentOption;
}

export type PaDemandPaymentNoticeResponse = PaDemandPaymentNoticeOk | KoResponse;

const SERVICE_CODE = /^.{5}$/u;

// ------------------------------------------------------------------------------------------------
// Request.

export function paDemandPaymentNoticeRequestBody(r: PaDemandPaymentNoticeRequest): string {
  for (const [what, v] of [
    ['idServizio', r.serviceId],
    ['idSoggettoServizio', r.serviceSubjectId],
  ] as const) {
    if (!SERVICE_CODE.test(v))
      throw new AppError('invalid-input', `${what}: 5 characters expected`);
  }
  if (r.serviceDataXml.trim() === '') {
    throw new AppError('invalid-input', 'datiSpecificiServizioRequest: empty document');
  }
  return pafnWrapper(
    'paDemandPaymentNoticeRequest',
    stationXml(r.station),
    leaf('idServizio', r.serviceId),
    leaf('idSoggettoServizio', r.serviceSubjectId),
    leaf('datiSpecificiServizioRequest', base64XmlEncode(r.serviceDataXml)),
  );
}

export function buildPaDemandPaymentNoticeRequest(r: PaDemandPaymentNoticeRequest): string {
  return soapEnvelope(paDemandPaymentNoticeRequestBody(r));
}

export function readPaDemandPaymentNoticeRequest(body: XmlObject): PaDemandPaymentNoticeRequest {
  return {
    station: readStation(body),
    serviceId: patternText(body, 'idServizio', SERVICE_CODE, '5-character service id'),
    serviceSubjectId: patternText(
      body,
      'idSoggettoServizio',
      SERVICE_CODE,
      '5-character service subject id',
    ),
    serviceDataXml: base64XmlDecode(text(body, 'datiSpecificiServizioRequest')),
  };
}

/**
 * Parses a paDemandPaymentNotice request envelope; the service document is decoded but not read
 * (see {@link parseCardTopUpDocument}).
 * @throws AppError('xml-forbidden-construct' | 'xml-malformed' | 'xml-schema-invalid' | 'unknown-operation')
 */
export function parsePaDemandPaymentNoticeRequest(xml: string): PaDemandPaymentNoticeRequest {
  return readPaDemandPaymentNoticeRequest(bodyOf(xml, 'paDemandPaymentNoticeRequest').payload);
}

// ------------------------------------------------------------------------------------------------
// Response.

export function paDemandPaymentNoticeResponseBody(r: PaDemandPaymentNoticeResponse): string {
  if (r.outcome === 'KO') return pafnWrapper('paDemandPaymentNoticeResponse', responseHeadXml(r));
  return pafnWrapper(
    'paDemandPaymentNoticeResponse',
    responseHeadXml(r),
    qrCodeXml(r.notice),
    paymentListXml(r.paymentOption),
    descriptionFieldsXml(r),
  );
}

export function buildPaDemandPaymentNoticeResponse(r: PaDemandPaymentNoticeResponse): string {
  return soapEnvelope(paDemandPaymentNoticeResponseBody(r));
}

/**
 * Parses a paDemandPaymentNotice answer (simulator side).
 * @throws AppError('xml-semantic-invalid') for an OK answer without qrCode or payment option.
 */
export function parsePaDemandPaymentNoticeResponse(xml: string): PaDemandPaymentNoticeResponse {
  const res = bodyOf(xml, 'paDemandPaymentNoticeResponse').payload;
  if (readOutcome(res) === 'KO') return readKo(res);
  const paymentOption = readPaymentList(res);
  if (res['qrCode'] === undefined || paymentOption === undefined) {
    throw new AppError(
      'xml-semantic-invalid',
      'paDemandPaymentNoticeResponse OK without qrCode or paymentList',
    );
  }
  return { outcome: 'OK', notice: readQrCode(res), paymentOption, ...readDescriptionFields(res) };
}

// ------------------------------------------------------------------------------------------------
// Our service document: card top-up (wsdl/xsd/demand-card-top-up.xsd).

export const CARD_TOP_UP_NS = 'urn:pagopa-adapter:demand:card-top-up:1.0';
export const CARD_ACCOUNTS = ['CANTEEN', 'NURSERY_MEALS', 'SCHOOL_TRANSPORT'] as const;
export type CardAccount = (typeof CARD_ACCOUNTS)[number];

export interface CardTopUp {
  /** Card number followed by 2 check digits; the check digits are verified by the domain. */
  readonly cardCode: string;
  readonly account: CardAccount;
  readonly amountCents: number;
}

const CARD_CODE = /^[0-9]{3,35}$/;

/**
 * Builds the card top-up document (to be passed as `serviceDataXml`).
 * @throws AppError('invalid-input') for a malformed card code or an amount out of range.
 */
export function buildCardTopUpDocument(t: CardTopUp): string {
  if (!CARD_CODE.test(t.cardCode)) throw new AppError('invalid-input', 'cardCode: 3..35 digits');
  return buildXml(
    elAttrs(
      'ctu:cardTopUpRequest',
      { 'xmlns:ctu': CARD_TOP_UP_NS },
      leaf('ctu:cardCode', t.cardCode),
      leaf('ctu:account', t.account),
      leaf('ctu:amount', formatCents(t.amountCents, 'amount', { notZero: true })),
    ),
  );
}

/**
 * Reads a card top-up document (already base64-decoded).
 * @throws AppError('xml-forbidden-construct' | 'xml-malformed') for unsafe or broken XML.
 * @throws AppError('xml-schema-invalid') for a wrong root, card code, account or amount.
 */
export function parseCardTopUpDocument(xml: string): CardTopUp {
  const { element } = rootElement(parseXml(xml), 'cardTopUpRequest');
  return {
    cardCode: patternText(element, 'cardCode', CARD_CODE, '3..35 digit card code'),
    account: enumText(element, 'account', CARD_ACCOUNTS),
    amountCents: amountCents(element, 'amount', { notZero: true }),
  };
}
