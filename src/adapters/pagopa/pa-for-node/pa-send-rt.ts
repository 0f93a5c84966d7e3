/**
 * paSendRT (V1) and paSendRTV2: the Node pushes the receipt of a successful payment to the EC.
 *
 * The parsed {@link Receipt} is the canonical content form of a receipt: a plain object whose keys
 * always come in the same order (the order of the fields below, absent optional fields omitted),
 * with amounts in integer cents, so `JSON.stringify` of two parses of the same receipt is
 * byte-identical whatever prefixes or spellings the sender used. Hash that to detect a modified
 * resend (the Node retries paSendRT until it gets a final answer).
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
  optTextCaseInsensitive,
  soapEnvelope,
} from '../xml';
import {
  type KoResponse,
  type MetadataEntry,
  type StationRef,
  type Subject,
  amountCents,
  amountLeaf,
  base64Leaf,
  base64Text,
  bodyOf,
  boundedText,
  enumText,
  fiscalCodeLeaf,
  fiscalCodePA,
  metadataXml,
  noticeNumber,
  noticeNumberLeaf,
  optAmountCents,
  optAmountLeaf,
  optBoundedText,
  optDate,
  optDateLeaf,
  optDateTime,
  optDateTimeLeaf,
  optTextLeaf,
  pafnWrapper,
  readBoolean,
  readKo,
  readMetadata,
  readOutcome,
  readStation,
  readSubject,
  responseHeadXml,
  stationXml,
  subjectXml,
  textLeaf,
} from './common';
import { checkTransferIds, readTransferId } from './pa-get-payment';

export type PaSendRtVersion = 1 | 2;

/** A receipt transfer goes to an IBAN or, in V2, carries the bought stamp. */
export type ReceiptTransferTarget =
  | { readonly iban: string; readonly stamp?: never }
  | { readonly stamp: { readonly documentBase64: string }; readonly iban?: never };

export type ReceiptTransfer = {
  /** idTransfer 1..5: indiceDatiSingoloPagamento in the reporting flow. */
  readonly transferId: number;
  readonly amountCents: number;
  /** fiscalCodePA: the beneficiary EC of this transfer. */
  readonly domainFiscalCode: string;
  /** V2 only. */
  readonly companyName?: string;
} & ReceiptTransferTarget & {
    readonly remittanceInformation: string;
    /** Taxonomy code (tassonomia). */
    readonly transferCategory: string;
    readonly metadata?: readonly MetadataEntry[];
  };

/** The PSP and channel that collected the payment. */
export interface ReceiptPsp {
  /** idPSP */
  readonly id: string;
  /** pspFiscalCode */
  readonly fiscalCode?: string;
  /** pspPartitaIVA */
  readonly vatNumber?: string;
  /** PSPCompanyName */
  readonly companyName: string;
  /** idChannel */
  readonly channelId: string;
  readonly channelDescription: string;
}

/** ctReceipt / ctReceiptV2 in canonical form (see the module comment). */
export interface Receipt {
  /** receiptId: the Node's paymentToken; identificativoUnivocoRiscossione in reporting flows. */
  readonly receiptId: string;
  readonly noticeNumber: string;
  /** fiscalCode: the EC the notice belongs to. */
  readonly domainFiscalCode: string;
  readonly outcome: 'OK' | 'KO';
  /** creditorReferenceId */
  readonly iuv: string;
  readonly amountCents: number;
  readonly description: string;
  readonly companyName: string;
  readonly officeName?: string;
  readonly debtor: Subject;
  readonly transfers: readonly ReceiptTransfer[];
  readonly psp: ReceiptPsp;
  readonly payer?: Subject;
  readonly paymentMethod?: string;
  /** V2 only. */
  readonly paymentNote?: string;
  readonly feeCents?: number;
  /** primaryCiIncurredFee, V2 only. */
  readonly primaryCreditorFeeCents?: number;
  /** idBundle, V2 only. */
  readonly bundleId?: string;
  /** idCiBundle, V2 only. */
  readonly creditorBundleId?: string;
  /** As sent: ISO date-time, with or without zone (no zone means Italian local time). */
  readonly paymentDateTime?: string;
  readonly applicationDate?: string;
  readonly transferDate?: string;
  readonly metadata?: readonly MetadataEntry[];
  /** True when the Node took the payment in stand-in (from ACA data) while the EC was down. */
  readonly standIn?: boolean;
}

export interface PaSendRtRequest {
  /** 1 = paSendRTReq, 2 = paSendRTV2Request. */
  readonly version: PaSendRtVersion;
  readonly station: StationRef;
  readonly receipt: Receipt;
}

export type PaSendRtResponse = { readonly outcome: 'OK' } | KoResponse;

const REQUEST_ELEMENT = { 1: 'paSendRTReq', 2: 'paSendRTV2Request' } as const;
const RESPONSE_ELEMENT = { 1: 'paSendRTRes', 2: 'paSendRTV2Response' } as const;

function fail(what: string, message: string): never {
  throw new AppError('invalid-input', `${what}: ${message}`);
}

// ------------------------------------------------------------------------------------------------
// Request: building (simulator side).

function receiptTransferXml(version: PaSendRtVersion, t: ReceiptTransfer): string {
  if (version === 1 && t.stamp !== undefined) fail('transfer', 'marca da bollo needs paSendRTV2');
  if (version === 1 && t.companyName !== undefined) {
    fail('transfer', 'per-transfer companyName needs paSendRTV2');
  }
  return el(
    'transfer',
    leaf('idTransfer', t.transferId),
    amountLeaf('transferAmount', t.amountCents, { notZero: true }),
    fiscalCodeLeaf('fiscalCodePA', t.domainFiscalCode),
    optTextLeaf('companyName', t.companyName, 140),
    t.stamp === undefined
      ? textLeaf('IBAN', t.iban, 35)
      : base64Leaf('MBDAttachment', t.stamp.documentBase64),
    textLeaf('remittanceInformation', t.remittanceInformation, 140),
    textLeaf('transferCategory', t.transferCategory, 140),
    metadataXml(t.metadata),
  );
}

function receiptXml(version: PaSendRtVersion, r: Receipt): string {
  if (version === 1) {
    const v2Only = (
      ['paymentNote', 'primaryCreditorFeeCents', 'bundleId', 'creditorBundleId'] as const
    ).find((k) => r[k] !== undefined);
    if (v2Only !== undefined) fail(v2Only, 'needs paSendRTV2');
  }
  if (r.receiptId.length < 1 || r.receiptId.length > 35) fail('receiptId', 'must be 1..35 chars');
  checkTransferIds(
    r.transfers.map((t) => t.transferId),
    'transferList',
  );
  return el(
    'receipt',
    leaf('receiptId', r.receiptId),
    noticeNumberLeaf('noticeNumber', r.noticeNumber),
    fiscalCodeLeaf('fiscalCode', r.domainFiscalCode),
    leaf('outcome', r.outcome),
    textLeaf('creditorReferenceId', r.iuv, 35),
    amountLeaf('paymentAmount', r.amountCents, { notZero: false }),
    textLeaf('description', r.description, 140),
    textLeaf('companyName', r.companyName, 140),
    optTextLeaf('officeName', r.officeName, 140),
    subjectXml('debtor', r.debtor),
    el(
      'transferList',
      r.transfers.map((t) => receiptTransferXml(version, t)),
    ),
    textLeaf('idPSP', r.psp.id, 35),
    optTextLeaf('pspFiscalCode', r.psp.fiscalCode, 70),
    optTextLeaf('pspPartitaIVA', r.psp.vatNumber, 20),
    textLeaf('PSPCompanyName', r.psp.companyName, 70),
    textLeaf('idChannel', r.psp.channelId, 35),
    textLeaf('channelDescription', r.psp.channelDescription, 35),
    r.payer === undefined ? '' : subjectXml('payer', r.payer),
    optTextLeaf('paymentMethod', r.paymentMethod, 35),
    optTextLeaf('paymentNote', r.paymentNote, 210),
    optAmountLeaf('fee', r.feeCents, { notZero: false }),
    optAmountLeaf('primaryCiIncurredFee', r.primaryCreditorFeeCents, { notZero: false }),
    optTextLeaf('idBundle', r.bundleId, 70),
    optTextLeaf('idCiBundle', r.creditorBundleId, 70),
    optDateTimeLeaf('paymentDateTime', r.paymentDateTime),
    optDateLeaf('applicationDate', r.applicationDate),
    optDateLeaf('transferDate', r.transferDate),
    metadataXml(r.metadata),
    r.standIn === undefined ? '' : leaf('standIn', r.standIn),
  );
}

/**
 * The body element of a paSendRT / paSendRTV2 request.
 * @throws AppError('invalid-input') when the receipt would not validate, or has V2-only content in V1.
 */
export function paSendRtRequestBody(r: PaSendRtRequest): string {
  return pafnWrapper(
    REQUEST_ELEMENT[r.version],
    stationXml(r.station),
    receiptXml(r.version, r.receipt),
  );
}

export function buildPaSendRtRequest(r: PaSendRtRequest): string {
  return soapEnvelope(paSendRtRequestBody(r));
}

// ------------------------------------------------------------------------------------------------
// Request: parsing (our SOAP server).

function readReceiptTransfer(version: PaSendRtVersion, t: XmlObject): ReceiptTransfer {
  const companyName = version === 2 ? optBoundedText(t, 'companyName', 140) : undefined;
  const metadata = readMetadata(t);
  const head = {
    transferId: readTransferId(t),
    amountCents: amountCents(t, 'transferAmount', { notZero: true }),
    domainFiscalCode: fiscalCodePA(t, 'fiscalCodePA'),
    ...(companyName === undefined ? {} : { companyName }),
  };
  const target: ReceiptTransferTarget =
    version === 2 && optText(t, 'IBAN') === undefined && t['MBDAttachment'] !== undefined
      ? { stamp: { documentBase64: base64Text(t, 'MBDAttachment') } }
      : { iban: boundedText(t, 'IBAN', 35) };
  return {
    ...head,
    ...target,
    remittanceInformation: boundedText(t, 'remittanceInformation', 140),
    transferCategory: boundedText(t, 'transferCategory', 140),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

/**
 * Reads a ctReceipt / ctReceiptV2 element into its canonical form.
 *
 * Lenient: `standIn` in any letter case (`standin` is seen in the wild), dates with zones.
 * Strict: amounts (`\d+\.\d{2}`), notice number (18 digits), fiscal codes (11 digits), idTransfer
 * (1..5, distinct), receiptId and IUV (1..35 chars).
 * @throws AppError('xml-schema-invalid') naming the offending element.
 */
export function readReceipt(version: PaSendRtVersion, r: XmlObject): Receipt {
  const receiptId = boundedText(r, 'receiptId', 35);
  const officeName = optBoundedText(r, 'officeName', 140);
  const list = child(r, 'transferList');
  const items = listObjects(list, 'transfer');
  if (items.length < 1 || items.length > 5) {
    throw invalidElement(list, 'transfer', `1..5 transfers expected, found ${items.length}`);
  }
  const transfers = items.map((t) => readReceiptTransfer(version, t));
  if (new Set(transfers.map((t) => t.transferId)).size !== transfers.length) {
    throw invalidElement(list, 'transfer', 'idTransfer values must be distinct');
  }
  const pspFiscalCode = optBoundedText(r, 'pspFiscalCode', 70);
  const pspVat = optBoundedText(r, 'pspPartitaIVA', 20);
  const payer = r['payer'] === undefined ? undefined : readSubject(r, 'payer');
  const paymentMethod = optBoundedText(r, 'paymentMethod', 35);
  const paymentNote = version === 2 ? optBoundedText(r, 'paymentNote', 210) : undefined;
  const feeCents = optAmountCents(r, 'fee', { notZero: false });
  const primaryFee =
    version === 2 ? optAmountCents(r, 'primaryCiIncurredFee', { notZero: false }) : undefined;
  const bundleId = version === 2 ? optBoundedText(r, 'idBundle', 70) : undefined;
  const creditorBundleId = version === 2 ? optBoundedText(r, 'idCiBundle', 70) : undefined;
  const paymentDateTime = optDateTime(r, 'paymentDateTime');
  const applicationDate = optDate(r, 'applicationDate');
  const transferDate = optDate(r, 'transferDate');
  const metadata = readMetadata(r);
  const standInText = optTextCaseInsensitive(r, 'standIn', 'standin');
  const standIn = standInText === undefined ? undefined : readBoolean(r, 'standIn', standInText);
  return {
    receiptId,
    noticeNumber: noticeNumber(r, 'noticeNumber'),
    domainFiscalCode: fiscalCodePA(r, 'fiscalCode'),
    outcome: enumText(r, 'outcome', ['OK', 'KO'] as const),
    iuv: boundedText(r, 'creditorReferenceId', 35),
    amountCents: amountCents(r, 'paymentAmount', { notZero: false }),
    description: boundedText(r, 'description', 140),
    companyName: boundedText(r, 'companyName', 140),
    ...(officeName === undefined ? {} : { officeName }),
    debtor: readSubject(r, 'debtor'),
    transfers,
    psp: {
      id: boundedText(r, 'idPSP', 35),
      ...(pspFiscalCode === undefined ? {} : { fiscalCode: pspFiscalCode }),
      ...(pspVat === undefined ? {} : { vatNumber: pspVat }),
      companyName: boundedText(r, 'PSPCompanyName', 70),
      channelId: boundedText(r, 'idChannel', 35),
      channelDescription: boundedText(r, 'channelDescription', 35),
    },
    ...(payer === undefined ? {} : { payer }),
    ...(paymentMethod === undefined ? {} : { paymentMethod }),
    ...(paymentNote === undefined ? {} : { paymentNote }),
    ...(feeCents === undefined ? {} : { feeCents }),
    ...(primaryFee === undefined ? {} : { primaryCreditorFeeCents: primaryFee }),
    ...(bundleId === undefined ? {} : { bundleId }),
    ...(creditorBundleId === undefined ? {} : { creditorBundleId }),
    ...(paymentDateTime === undefined ? {} : { paymentDateTime }),
    ...(applicationDate === undefined ? {} : { applicationDate }),
    ...(transferDate === undefined ? {} : { transferDate }),
    ...(metadata === undefined ? {} : { metadata }),
    ...(standIn === undefined ? {} : { standIn }),
  };
}

export function readPaSendRtRequest(version: PaSendRtVersion, body: XmlObject): PaSendRtRequest {
  return {
    version,
    station: readStation(body),
    receipt: readReceipt(version, child(body, 'receipt')),
  };
}

/**
 * Parses a paSendRT or paSendRTV2 request envelope; the version comes from the element name.
 * @throws AppError('xml-forbidden-construct' | 'xml-malformed' | 'xml-schema-invalid' | 'unknown-operation')
 */
export function parsePaSendRtRequest(xml: string): PaSendRtRequest {
  const { name, payload } = bodyOf(xml, REQUEST_ELEMENT[1], REQUEST_ELEMENT[2]);
  return readPaSendRtRequest(name === REQUEST_ELEMENT[2] ? 2 : 1, payload);
}

// ------------------------------------------------------------------------------------------------
// Response.

export function paSendRtResponseBody(version: PaSendRtVersion, r: PaSendRtResponse): string {
  return pafnWrapper(RESPONSE_ELEMENT[version], responseHeadXml(r));
}

/** Our answer: OK, or KO with a faultBean (e.g. PAA_RECEIPT_DUPLICATA, PAA_SYSTEM_ERROR). */
export function buildPaSendRtResponse(version: PaSendRtVersion, r: PaSendRtResponse): string {
  return soapEnvelope(paSendRtResponseBody(version, r));
}

export function parsePaSendRtResponse(
  xml: string,
): { readonly version: PaSendRtVersion } & PaSendRtResponse {
  const { name, payload } = bodyOf(xml, RESPONSE_ELEMENT[1], RESPONSE_ELEMENT[2]);
  const version: PaSendRtVersion = name === RESPONSE_ELEMENT[2] ? 2 : 1;
  if (readOutcome(payload) === 'KO') return { version, ...readKo(payload) };
  return { version, outcome: 'OK' };
}
