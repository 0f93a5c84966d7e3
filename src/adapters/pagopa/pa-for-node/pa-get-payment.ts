/**
 * paGetPayment (V1) and paGetPaymentV2: the Node asks the EC for the payable position of a notice,
 * with its transfers (at most 5), just before the payment.
 *
 * V2 adds a per-transfer companyName, the marca da bollo transfer (richiestaMarcaDaBollo instead of
 * an IBAN) and makes the payment companyName mandatory. The station configuration decides which
 * version the Node calls, so one type serves both and the builder refuses V2-only content in V1.
 */
import { AppError } from '../../../domain/errors';
import {
  type XmlObject,
  child,
  el,
  invalidElement,
  leaf,
  listObjects,
  optText,
  soapEnvelope,
  text,
} from '../xml';
import {
  type KoResponse,
  type MetadataEntry,
  type NoticeRef,
  type StationRef,
  type Subject,
  amountCents,
  amountLeaf,
  base64Leaf,
  base64Text,
  bodyOf,
  boundedText,
  date,
  dateLeaf,
  enumText,
  fiscalCodeLeaf,
  fiscalCodePA,
  metadataXml,
  optAmountCents,
  optAmountLeaf,
  optBoolean,
  optBoundedText,
  optDate,
  optDateLeaf,
  optDateTime,
  optDateTimeLeaf,
  optTextLeaf,
  pafnWrapper,
  patternLeaf,
  patternText,
  qrCodeXml,
  readKo,
  readMetadata,
  readOutcome,
  readQrCode,
  readStation,
  readSubject,
  responseHeadXml,
  stationXml,
  subjectXml,
  textLeaf,
} from './common';

export type PaGetPaymentVersion = 1 | 2;
export const TRANSFER_TYPES = ['POSTAL', 'PAGOPA'] as const;
export type TransferType = (typeof TRANSFER_TYPES)[number];

export interface PaGetPaymentRequest {
  /** 1 = paGetPaymentReq, 2 = paGetPaymentV2Request (same content). */
  readonly version: PaGetPaymentVersion;
  readonly station: StationRef;
  readonly notice: NoticeRef;
  /** The amount the payer saw; may be stale, the EC answers with today's amount. */
  readonly amountCents?: number;
  /** Up to 210 chars; carries the idCart for payments started from the EC front end. */
  readonly paymentNote?: string;
  /** POSTAL: give postal accounts where available. */
  readonly transferType?: TransferType;
  readonly dueDate?: string;
}

/** richiestaMarcaDaBollo: a request to buy a digital revenue stamp (@e.bollo). */
export interface StampRequest {
  /** hashDocumento: base64 SHA-256 of the document the stamp is for (4..72 chars). */
  readonly hashDocument: string;
  /** tipoBollo: only "01" exists. */
  readonly stampType: '01';
  /** provinciaResidenza: the payer's province, 2 upper-case letters. */
  readonly provincialResidence: string;
}

interface TransferFields {
  /** idTransfer: 1..5, the index the reporting flow refers to. */
  readonly transferId: number;
  readonly amountCents: number;
  /** fiscalCodePA: the beneficiary EC (another EC for multi-beneficiary payments). */
  readonly domainFiscalCode: string;
  /** V2 only. */
  readonly companyName?: string;
}
interface TransferTail {
  readonly remittanceInformation: string;
  /** Taxonomy code (tassonomia), e.g. `0107101TS`. */
  readonly transferCategory: string;
  readonly metadata?: readonly MetadataEntry[];
}
/** A transfer goes to an IBAN or, in V2 only, buys a revenue stamp. */
export type PaymentTransfer = TransferFields &
  (
    | { readonly iban: string; readonly stamp?: never }
    | { readonly stamp: StampRequest; readonly iban?: never }
  ) &
  TransferTail;

/** ctPaymentPA / ctPaymentPAV2. */
export interface PaymentData {
  /** creditorReferenceId */
  readonly iuv: string;
  readonly amountCents: number;
  readonly dueDate: string;
  readonly retentionDate?: string;
  readonly lastPayment?: boolean;
  readonly description: string;
  /** Mandatory in V2. */
  readonly companyName?: string;
  readonly officeName?: string;
  readonly debtor: Subject;
  readonly transfers: readonly PaymentTransfer[];
  readonly metadata?: readonly MetadataEntry[];
}

export interface PaGetPaymentOk {
  readonly outcome: 'OK';
  readonly payment: PaymentData;
}

export type PaGetPaymentResponse = PaGetPaymentOk | KoResponse;

const REQUEST_ELEMENT = { 1: 'paGetPaymentReq', 2: 'paGetPaymentV2Request' } as const;
const RESPONSE_ELEMENT = { 1: 'paGetPaymentRes', 2: 'paGetPaymentV2Response' } as const;
const PROVINCE = /^[A-Z]{2}$/;

// ------------------------------------------------------------------------------------------------
// Request.

export function paGetPaymentRequestBody(r: PaGetPaymentRequest): string {
  return pafnWrapper(
    REQUEST_ELEMENT[r.version],
    stationXml(r.station),
    qrCodeXml(r.notice),
    optAmountLeaf('amount', r.amountCents, { notZero: false }),
    optTextLeaf('paymentNote', r.paymentNote, 210),
    r.transferType === undefined ? '' : leaf('transferType', r.transferType),
    optDateLeaf('dueDate', r.dueDate),
  );
}

export function buildPaGetPaymentRequest(r: PaGetPaymentRequest): string {
  return soapEnvelope(paGetPaymentRequestBody(r));
}

export function readPaGetPaymentRequest(
  version: PaGetPaymentVersion,
  body: XmlObject,
): PaGetPaymentRequest {
  const amount = optAmountCents(body, 'amount', { notZero: false });
  const paymentNote = optBoundedText(body, 'paymentNote', 210);
  const transferType =
    optText(body, 'transferType') === undefined
      ? undefined
      : enumText(body, 'transferType', TRANSFER_TYPES);
  const dueDate = optDate(body, 'dueDate');
  return {
    version,
    station: readStation(body),
    notice: readQrCode(body),
    ...(amount === undefined ? {} : { amountCents: amount }),
    ...(paymentNote === undefined ? {} : { paymentNote }),
    ...(transferType === undefined ? {} : { transferType }),
    ...(dueDate === undefined ? {} : { dueDate }),
  };
}

/**
 * Parses a paGetPayment or paGetPaymentV2 request envelope; the version comes from the element.
 * @throws AppError('xml-forbidden-construct' | 'xml-malformed' | 'xml-schema-invalid' | 'unknown-operation')
 */
export function parsePaGetPaymentRequest(xml: string): PaGetPaymentRequest {
  const { name, payload } = bodyOf(xml, REQUEST_ELEMENT[1], REQUEST_ELEMENT[2]);
  return readPaGetPaymentRequest(name === REQUEST_ELEMENT[2] ? 2 : 1, payload);
}

// ------------------------------------------------------------------------------------------------
// Transfers.

function fail(what: string, message: string): never {
  throw new AppError('invalid-input', `${what}: ${message}`);
}

function transferIdOk(id: number): boolean {
  return Number.isInteger(id) && id >= 1 && id <= 5;
}

/** Checks a transfer list (1..5 entries, ids 1..5 and distinct); shared with receipts. */
export function checkTransferIds(ids: readonly number[], what: string): void {
  if (ids.length < 1 || ids.length > 5) fail(what, `1..5 transfers expected, found ${ids.length}`);
  if (!ids.every(transferIdOk)) fail(what, 'idTransfer must be 1..5');
  if (new Set(ids).size !== ids.length) fail(what, 'idTransfer values must be distinct');
}

function transferXml(version: PaGetPaymentVersion, t: PaymentTransfer): string {
  if (version === 1 && t.stamp !== undefined)
    fail('transfer', 'marca da bollo needs paGetPaymentV2');
  if (version === 1 && t.companyName !== undefined) {
    fail('transfer', 'per-transfer companyName needs paGetPaymentV2');
  }
  return el(
    'transfer',
    leaf('idTransfer', t.transferId),
    amountLeaf('transferAmount', t.amountCents, { notZero: true }),
    fiscalCodeLeaf('fiscalCodePA', t.domainFiscalCode),
    optTextLeaf('companyName', t.companyName, 140),
    t.stamp === undefined
      ? textLeaf('IBAN', t.iban, 35)
      : el(
          'richiestaMarcaDaBollo',
          base64Leaf('hashDocumento', t.stamp.hashDocument, 72),
          leaf('tipoBollo', t.stamp.stampType),
          patternLeaf('provinciaResidenza', t.stamp.provincialResidence, PROVINCE, 'province code'),
        ),
    textLeaf('remittanceInformation', t.remittanceInformation, 140),
    textLeaf('transferCategory', t.transferCategory, 140),
    metadataXml(t.metadata),
  );
}

/** idTransfer as a number; xsd:int allows a sign and leading zeros. */
export function readTransferId(t: XmlObject): number {
  const raw = text(t, 'idTransfer');
  const n = /^\s*\+?0*([1-5])\s*$/.exec(raw);
  if (!n) throw invalidElement(t, 'idTransfer', `1..5 expected, found '${raw}'`);
  return Number(n[1]);
}

function readPaymentTransfer(version: PaGetPaymentVersion, t: XmlObject): PaymentTransfer {
  const companyName = version === 2 ? optBoundedText(t, 'companyName', 140) : undefined;
  const metadata = readMetadata(t);
  const head = {
    transferId: readTransferId(t),
    amountCents: amountCents(t, 'transferAmount', { notZero: true }),
    domainFiscalCode: fiscalCodePA(t, 'fiscalCodePA'),
    ...(companyName === undefined ? {} : { companyName }),
  };
  const tail = {
    remittanceInformation: boundedText(t, 'remittanceInformation', 140),
    transferCategory: boundedText(t, 'transferCategory', 140),
    ...(metadata === undefined ? {} : { metadata }),
  };
  const hasIban = optText(t, 'IBAN') !== undefined;
  if (version === 2 && !hasIban && t['richiestaMarcaDaBollo'] !== undefined) {
    const mb = child(t, 'richiestaMarcaDaBollo');
    const stamp: StampRequest = {
      hashDocument: base64Text(mb, 'hashDocumento', 72),
      stampType: enumText(mb, 'tipoBollo', ['01'] as const),
      provincialResidence: patternText(mb, 'provinciaResidenza', PROVINCE, 'province code'),
    };
    return { ...head, stamp, ...tail };
  }
  return { ...head, iban: boundedText(t, 'IBAN', 35), ...tail };
}

function readTransfers(version: PaGetPaymentVersion, data: XmlObject): PaymentTransfer[] {
  const list = child(data, 'transferList');
  const items = listObjects(list, 'transfer');
  if (items.length < 1 || items.length > 5) {
    throw invalidElement(list, 'transfer', `1..5 transfers expected, found ${items.length}`);
  }
  return items.map((t) => readPaymentTransfer(version, t));
}

// ------------------------------------------------------------------------------------------------
// Response.

function paymentDataXml(version: PaGetPaymentVersion, p: PaymentData): string {
  checkTransferIds(
    p.transfers.map((t) => t.transferId),
    'transferList',
  );
  const total = p.transfers.reduce((sum, t) => sum + t.amountCents, 0);
  if (total !== p.amountCents) {
    fail('paymentAmount', `must equal the sum of the transfers (${total} cents)`);
  }
  if (version === 2 && p.companyName === undefined) fail('companyName', 'mandatory in V2');
  return el(
    'data',
    textLeaf('creditorReferenceId', p.iuv, 35),
    amountLeaf('paymentAmount', p.amountCents, { notZero: true }),
    dateLeaf('dueDate', p.dueDate),
    optDateTimeLeaf('retentionDate', p.retentionDate),
    p.lastPayment === undefined ? '' : leaf('lastPayment', p.lastPayment),
    textLeaf('description', p.description, 140),
    optTextLeaf('companyName', p.companyName, 140),
    optTextLeaf('officeName', p.officeName, 140),
    subjectXml('debtor', p.debtor),
    el(
      'transferList',
      p.transfers.map((t) => transferXml(version, t)),
    ),
    metadataXml(p.metadata),
  );
}

/**
 * The body of our answer.
 * @throws AppError('invalid-input') when the payment would not validate (amount sum, V2-only
 * content in V1, bounds).
 */
export function paGetPaymentResponseBody(
  version: PaGetPaymentVersion,
  r: PaGetPaymentResponse,
): string {
  const name = RESPONSE_ELEMENT[version];
  if (r.outcome === 'KO') return pafnWrapper(name, responseHeadXml(r));
  return pafnWrapper(name, responseHeadXml(r), paymentDataXml(version, r.payment));
}

export function buildPaGetPaymentResponse(
  version: PaGetPaymentVersion,
  r: PaGetPaymentResponse,
): string {
  return soapEnvelope(paGetPaymentResponseBody(version, r));
}

function readPaymentData(version: PaGetPaymentVersion, d: XmlObject): PaymentData {
  const retentionDate = optDateTime(d, 'retentionDate');
  const lastPayment = optBoolean(d, 'lastPayment');
  const companyName =
    version === 2 ? boundedText(d, 'companyName', 140) : optBoundedText(d, 'companyName', 140);
  const officeName = optBoundedText(d, 'officeName', 140);
  const metadata = readMetadata(d);
  return {
    iuv: boundedText(d, 'creditorReferenceId', 35),
    amountCents: amountCents(d, 'paymentAmount', { notZero: true }),
    dueDate: date(d, 'dueDate'),
    ...(retentionDate === undefined ? {} : { retentionDate }),
    ...(lastPayment === undefined ? {} : { lastPayment }),
    description: boundedText(d, 'description', 140),
    ...(companyName === undefined ? {} : { companyName }),
    ...(officeName === undefined ? {} : { officeName }),
    debtor: readSubject(d, 'debtor'),
    transfers: readTransfers(version, d),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

/**
 * Parses a paGetPayment / paGetPaymentV2 answer (simulator side).
 * @throws AppError('xml-semantic-invalid') for an OK answer without data.
 */
export function parsePaGetPaymentResponse(
  xml: string,
): { readonly version: PaGetPaymentVersion } & PaGetPaymentResponse {
  const { name, payload } = bodyOf(xml, RESPONSE_ELEMENT[1], RESPONSE_ELEMENT[2]);
  const version: PaGetPaymentVersion = name === RESPONSE_ELEMENT[2] ? 2 : 1;
  if (readOutcome(payload) === 'KO') return { version, ...readKo(payload) };
  if (payload['data'] === undefined) {
    throw new AppError('xml-semantic-invalid', `${name} OK without data`);
  }
  return { version, outcome: 'OK', payment: readPaymentData(version, child(payload, 'data')) };
}
