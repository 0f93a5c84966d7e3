/**
 * Wire vocabulary shared by the paForNode messages (new model): namespaces, the station triple,
 * amounts, identifiers, dates, subjects, metadata and the faultBean.
 *
 * Reading rules (why lenient here, strict there): the Node and the converters in front of it vary
 * in namespace prefixes, in the spelling of `standIn` and in time zones on dates, so those are
 * accepted in every form the XSD allows and a few it does not. Amounts and identifiers decide where
 * money goes, so they are checked against the XSD patterns exactly and never go through floats.
 *
 * Building rules: every builder emits elements in XSD sequence order and refuses (AppError
 * 'invalid-input') a value that would make the document invalid, so what we send always validates.
 */
import { centsFromDecimalString, centsToDecimalString } from '../../../domain/codes/money';
import { AppError } from '../../../domain/errors';
import {
  type XmlObject,
  child,
  el,
  invalidElement,
  leaf,
  listObjects,
  optChild,
  optText,
  parseSoapEnvelope,
  text,
} from '../xml';

export const PA_FOR_NODE_NS = 'http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd';
/** Prefix we use for paForNode wrapper elements; their children are unqualified. */
export const PAFN = 'pafn';

// ------------------------------------------------------------------------------------------------
// Shared types.

/** Who the Node is talking to: idPA, idBrokerPA, idStation on the wire. */
export interface StationRef {
  /** idPA: fiscal code of the creditor entity (domain) the message is for. */
  readonly domainId: string;
  /** idBrokerPA: fiscal code of the technology intermediary. */
  readonly brokerId: string;
  /** idStation: the intermediary's station, e.g. `77777777777_01`. */
  readonly stationId: string;
}

/** The two identifiers printed on a notice (qrCode on the wire). */
export interface NoticeRef {
  /** fiscalCode: 11 digits. */
  readonly domainFiscalCode: string;
  /** noticeNumber (NAV): 18 digits. */
  readonly noticeNumber: string;
}

export interface MetadataEntry {
  readonly key: string;
  readonly value: string;
}

/** ctSubject: debtor or payer. */
export interface Subject {
  /** entityUniqueIdentifierType: F natural person, G legal person. */
  readonly idType: 'F' | 'G';
  /** entityUniqueIdentifierValue: fiscal code or VAT number, 2..16 chars. */
  readonly idValue: string;
  readonly fullName: string;
  readonly streetName?: string;
  readonly civicNumber?: string;
  readonly postalCode?: string;
  readonly city?: string;
  /** stateProvinceRegion */
  readonly province?: string;
  /** Two upper-case letters. */
  readonly country?: string;
  /** e-mail */
  readonly email?: string;
}

/** ctFaultBean. `domainId` goes in `id` when we (the EC) answer. */
export interface Fault {
  readonly faultCode: string;
  readonly faultString: string;
  readonly id: string;
  readonly description?: string;
  readonly serial?: number;
  readonly originalFaultCode?: string;
  readonly originalFaultString?: string;
  readonly originalDescription?: string;
}

/** A KO answer. The XSD allows KO without a faultBean; we always send one. */
export interface KoResponse {
  readonly outcome: 'KO';
  readonly fault?: Fault;
}

// ------------------------------------------------------------------------------------------------
// Amounts: `\d+\.\d{2}` on the wire, integer cents inside.

export const AMOUNT_CENTS_MAX = 99_999_999_999; // 999999999.99, the XSD maxInclusive

/**
 * Converts a wire amount (`12.30`) to integer cents without floating point (domain money codec).
 * @throws AppError('xml-schema-invalid') naming the element when the text is not `\d+\.\d{2}`,
 * exceeds 999999999.99, or is zero where the XSD says stAmountNotZero.
 */
export function readCents(
  obj: XmlObject,
  name: string,
  raw: string,
  opts: { notZero: boolean },
): number {
  let cents: number;
  try {
    cents = centsFromDecimalString(raw);
  } catch {
    throw invalidElement(obj, name, `amount must be digits, a dot and 2 decimals: '${raw}'`);
  }
  if (cents > AMOUNT_CENTS_MAX) throw invalidElement(obj, name, 'amount above 999999999.99');
  if (opts.notZero && cents === 0) throw invalidElement(obj, name, 'amount must be at least 0.01');
  return cents;
}

export function amountCents(obj: XmlObject, name: string, opts: { notZero: boolean }): number {
  return readCents(obj, name, text(obj, name), opts);
}

export function optAmountCents(
  obj: XmlObject,
  name: string,
  opts: { notZero: boolean },
): number | undefined {
  const raw = optText(obj, name);
  return raw === undefined ? undefined : readCents(obj, name, raw, opts);
}

/**
 * Formats integer cents as a wire amount (1230 -> `12.30`).
 * @throws AppError('invalid-input') for non-integers, negatives, values above 999999999.99, or 0
 * when `notZero`.
 */
export function formatCents(cents: number, what: string, opts: { notZero: boolean }): string {
  if (!Number.isSafeInteger(cents) || cents < 0 || cents > AMOUNT_CENTS_MAX) {
    throw new AppError('invalid-input', `${what}: amount in cents out of range: ${cents}`);
  }
  if (opts.notZero && cents === 0) throw new AppError('invalid-input', `${what}: amount is zero`);
  return centsToDecimalString(cents);
}

// ------------------------------------------------------------------------------------------------
// Identifiers and texts.

const FISCAL_CODE_PA = /^[0-9]{11}$/;
const NOTICE_NUMBER = /^[0-9]{18}$/;
const COUNTRY = /^[A-Z]{2}$/;
const EMAIL = /^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A required text of 1..max characters (stText35/70/140/210). */
export function boundedText(obj: XmlObject, name: string, max: number): string {
  const t = text(obj, name);
  if (t.length < 1 || t.length > max) {
    throw invalidElement(obj, name, `must be 1..${max} characters, found ${t.length}`);
  }
  return t;
}

export function optBoundedText(obj: XmlObject, name: string, max: number): string | undefined {
  return optText(obj, name) === undefined ? undefined : boundedText(obj, name, max);
}

export function patternText(obj: XmlObject, name: string, re: RegExp, what: string): string {
  const t = text(obj, name);
  if (!re.test(t)) throw invalidElement(obj, name, `${what} expected, found '${t}'`);
  return t;
}

export const fiscalCodePA = (obj: XmlObject, name: string): string =>
  patternText(obj, name, FISCAL_CODE_PA, '11-digit fiscal code');

export const noticeNumber = (obj: XmlObject, name: string): string =>
  patternText(obj, name, NOTICE_NUMBER, '18-digit notice number');

/** An element from a closed list of values. */
export function enumText<T extends string>(obj: XmlObject, name: string, values: readonly T[]): T {
  const t = text(obj, name);
  const found = values.find((v) => v === t);
  if (found === undefined) {
    throw invalidElement(obj, name, `one of ${values.join('|')} expected, found '${t}'`);
  }
  return found;
}

/** xsd:boolean: true/false/1/0. */
export function readBoolean(obj: XmlObject, name: string, raw: string): boolean {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw invalidElement(obj, name, `boolean expected, found '${raw}'`);
}

export function optBoolean(obj: XmlObject, name: string): boolean | undefined {
  const raw = optText(obj, name);
  return raw === undefined ? undefined : readBoolean(obj, name, raw);
}

/** A base64Binary value, whitespace removed; `length` bounds apply to the compact form. */
export function base64Text(obj: XmlObject, name: string, max?: number): string {
  const compact = text(obj, name).replace(/\s+/g, '');
  if (compact.length < 4 || !BASE64.test(compact)) {
    throw invalidElement(obj, name, 'base64 expected');
  }
  if (max !== undefined && compact.length > max) {
    throw invalidElement(obj, name, `at most ${max} base64 characters expected`);
  }
  return compact;
}

// ------------------------------------------------------------------------------------------------
// Dates. We keep dates as `YYYY-MM-DD` and date-times as the wire text (validated), because a
// zoneless date-time means Italian local time and only the domain may decide how to read it.

const DATE = /^(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;

function validDay(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30];
  const all = [...days, 31, 31, 30, 31, 30, 31];
  return d <= (all[m - 1] ?? 0);
}

/**
 * An xsd:date, returned as `YYYY-MM-DD`. A time zone suffix (`2024-05-31+02:00`, `...Z`), which
 * xsd:date allows and some senders add, is accepted and dropped: a calendar day has no instant.
 */
export function readDate(obj: XmlObject, name: string, raw: string): string {
  const m = DATE.exec(raw);
  if (!m || !validDay(Number(m[1]), Number(m[2]), Number(m[3]))) {
    throw invalidElement(obj, name, `date YYYY-MM-DD expected, found '${raw}'`);
  }
  return `${m[1]}-${m[2]}-${m[3]}`;
}

export const date = (obj: XmlObject, name: string): string => readDate(obj, name, text(obj, name));

export function optDate(obj: XmlObject, name: string): string | undefined {
  const raw = optText(obj, name);
  return raw === undefined ? undefined : readDate(obj, name, raw);
}

/** An xsd:dateTime, with or without fractional seconds and zone; returned as received. */
export function optDateTime(obj: XmlObject, name: string): string | undefined {
  const raw = optText(obj, name);
  return raw === undefined ? undefined : readDateTime(obj, name, raw);
}

export const dateTime = (obj: XmlObject, name: string): string =>
  readDateTime(obj, name, text(obj, name));

function readDateTime(obj: XmlObject, name: string, raw: string): string {
  const m = DATE_TIME.exec(raw);
  if (
    !m ||
    !validDay(Number(m[1]), Number(m[2]), Number(m[3])) ||
    Number(m[4]) > 24 ||
    Number(m[5]) > 59 ||
    Number(m[6]) > 60
  ) {
    throw invalidElement(obj, name, `date-time expected, found '${raw}'`);
  }
  return raw;
}

// ------------------------------------------------------------------------------------------------
// Output checks (builders).

function fail(what: string, message: string): never {
  throw new AppError('invalid-input', `${what}: ${message}`);
}

/** A text leaf of 1..max characters. */
export function textLeaf(name: string, value: string, max: number, what = name): string {
  if (value.length < 1 || value.length > max) fail(what, `must be 1..${max} characters`);
  return leaf(name, value);
}

export function optTextLeaf(
  name: string,
  value: string | undefined,
  max: number,
  what = name,
): string {
  return value === undefined ? '' : textLeaf(name, value, max, what);
}

export function patternLeaf(name: string, value: string, re: RegExp, what: string): string {
  if (!re.test(value)) fail(name, `${what} expected, found '${value}'`);
  return leaf(name, value);
}

export const fiscalCodeLeaf = (name: string, value: string): string =>
  patternLeaf(name, value, FISCAL_CODE_PA, '11-digit fiscal code');

export const noticeNumberLeaf = (name: string, value: string): string =>
  patternLeaf(name, value, NOTICE_NUMBER, '18-digit notice number');

export function amountLeaf(name: string, cents: number, opts: { notZero: boolean }): string {
  return leaf(name, formatCents(cents, name, opts));
}

export function optAmountLeaf(
  name: string,
  cents: number | undefined,
  opts: { notZero: boolean },
): string {
  return cents === undefined ? '' : amountLeaf(name, cents, opts);
}

export function dateLeaf(name: string, value: string): string {
  const m = DATE.exec(value);
  if (!m || m[4] !== undefined || !validDay(Number(m[1]), Number(m[2]), Number(m[3]))) {
    fail(name, `date YYYY-MM-DD expected, found '${value}'`);
  }
  return leaf(name, value);
}

export const optDateLeaf = (name: string, value: string | undefined): string =>
  value === undefined ? '' : dateLeaf(name, value);

export function optDateTimeLeaf(name: string, value: string | undefined): string {
  if (value === undefined) return '';
  if (!DATE_TIME.test(value)) fail(name, `date-time expected, found '${value}'`);
  return leaf(name, value);
}

export function base64Leaf(name: string, value: string, max?: number): string {
  if (value.length < 4 || !BASE64.test(value)) fail(name, 'base64 expected');
  if (max !== undefined && value.length > max) fail(name, `at most ${max} characters`);
  return leaf(name, value);
}

// ------------------------------------------------------------------------------------------------
// Station triple.

export function readStation(req: XmlObject): StationRef {
  return {
    domainId: boundedText(req, 'idPA', 35),
    brokerId: boundedText(req, 'idBrokerPA', 35),
    stationId: boundedText(req, 'idStation', 35),
  };
}

export function stationXml(s: StationRef): string {
  return (
    textLeaf('idPA', s.domainId, 35) +
    textLeaf('idBrokerPA', s.brokerId, 35) +
    textLeaf('idStation', s.stationId, 35)
  );
}

export function readQrCode(obj: XmlObject, name = 'qrCode'): NoticeRef {
  const qr = child(obj, name);
  return {
    domainFiscalCode: fiscalCodePA(qr, 'fiscalCode'),
    noticeNumber: noticeNumber(qr, 'noticeNumber'),
  };
}

export function qrCodeXml(n: NoticeRef, name = 'qrCode'): string {
  return el(
    name,
    fiscalCodeLeaf('fiscalCode', n.domainFiscalCode),
    noticeNumberLeaf('noticeNumber', n.noticeNumber),
  );
}

// ------------------------------------------------------------------------------------------------
// Metadata.

export function readMetadata(obj: XmlObject, name = 'metadata'): MetadataEntry[] | undefined {
  const md = optChild(obj, name);
  if (md === undefined) return undefined;
  const entries = listObjects(md, 'mapEntry');
  if (entries.length < 1 || entries.length > 15) {
    throw invalidElement(obj, name, `1..15 mapEntry expected, found ${entries.length}`);
  }
  return entries.map((e) => ({
    key: boundedText(e, 'key', 140),
    value: boundedText(e, 'value', 140),
  }));
}

export function metadataXml(entries: readonly MetadataEntry[] | undefined): string {
  if (entries === undefined) return '';
  if (entries.length < 1 || entries.length > 15) fail('metadata', '1..15 entries expected');
  return el(
    'metadata',
    entries.map((e) =>
      el('mapEntry', textLeaf('key', e.key, 140, 'metadata key'), textLeaf('value', e.value, 140)),
    ),
  );
}

// ------------------------------------------------------------------------------------------------
// Subject.

export function readSubject(obj: XmlObject, name: string): Subject {
  const s = child(obj, name);
  const id = child(s, 'uniqueIdentifier');
  const idValue = boundedText(id, 'entityUniqueIdentifierValue', 16);
  if (idValue.length < 2) {
    throw invalidElement(id, 'entityUniqueIdentifierValue', 'must be 2..16 characters');
  }
  const streetName = optBoundedText(s, 'streetName', 70);
  const civicNumber = optBoundedText(s, 'civicNumber', 16);
  const postalCode = optBoundedText(s, 'postalCode', 16);
  const city = optBoundedText(s, 'city', 35);
  const province = optBoundedText(s, 'stateProvinceRegion', 35);
  const country = optText(s, 'country');
  const email = optText(s, 'e-mail');
  return {
    idType: enumText(id, 'entityUniqueIdentifierType', ['F', 'G'] as const),
    idValue,
    fullName: boundedText(s, 'fullName', 70),
    ...(streetName === undefined ? {} : { streetName }),
    ...(civicNumber === undefined ? {} : { civicNumber }),
    ...(postalCode === undefined ? {} : { postalCode }),
    ...(city === undefined ? {} : { city }),
    ...(province === undefined ? {} : { province }),
    // Country and e-mail are contact data, not money: kept as sent even when off-pattern.
    ...(country === undefined || country === '' ? {} : { country }),
    ...(email === undefined || email === '' ? {} : { email }),
  };
}

function emailLeaf(email: string): string {
  if (email.length > 256) fail('e-mail', 'at most 256 characters');
  return patternLeaf('e-mail', email, EMAIL, 'e-mail address');
}

export function subjectXml(name: string, s: Subject): string {
  if (s.idValue.length < 2 || s.idValue.length > 16) fail(`${name} id`, 'must be 2..16 characters');
  return el(
    name,
    el(
      'uniqueIdentifier',
      leaf('entityUniqueIdentifierType', s.idType === 'F' ? 'F' : 'G'),
      leaf('entityUniqueIdentifierValue', s.idValue),
    ),
    textLeaf('fullName', s.fullName, 70),
    optTextLeaf('streetName', s.streetName, 70),
    optTextLeaf('civicNumber', s.civicNumber, 16),
    optTextLeaf('postalCode', s.postalCode, 16),
    optTextLeaf('city', s.city, 35),
    optTextLeaf('stateProvinceRegion', s.province, 35),
    s.country === undefined ? '' : patternLeaf('country', s.country, COUNTRY, 'ISO country code'),
    s.email === undefined ? '' : emailLeaf(s.email),
  );
}

// ------------------------------------------------------------------------------------------------
// Outcome and faultBean (ctResponse).

export function readFault(obj: XmlObject): Fault | undefined {
  const f = optChild(obj, 'fault');
  if (f === undefined) return undefined;
  const description = optText(f, 'description');
  const serialText = optText(f, 'serial');
  const originalFaultCode = optText(f, 'originalFaultCode');
  const originalFaultString = optText(f, 'originalFaultString');
  const originalDescription = optText(f, 'originalDescription');
  let serial: number | undefined;
  if (serialText !== undefined) {
    if (!/^[+-]?\d{1,10}$/.test(serialText)) throw invalidElement(f, 'serial', 'integer expected');
    serial = Number(serialText);
  }
  return {
    faultCode: text(f, 'faultCode'),
    faultString: text(f, 'faultString'),
    id: text(f, 'id'),
    ...(description === undefined ? {} : { description }),
    ...(serial === undefined ? {} : { serial }),
    ...(originalFaultCode === undefined ? {} : { originalFaultCode }),
    ...(originalFaultString === undefined ? {} : { originalFaultString }),
    ...(originalDescription === undefined ? {} : { originalDescription }),
  };
}

export function faultXml(f: Fault | undefined): string {
  if (f === undefined) return '';
  if (f.serial !== undefined && !Number.isInteger(f.serial))
    fail('fault serial', 'integer expected');
  return el(
    'fault',
    leaf('faultCode', f.faultCode),
    leaf('faultString', f.faultString),
    leaf('id', f.id),
    f.description === undefined ? '' : leaf('description', f.description),
    f.serial === undefined ? '' : leaf('serial', f.serial),
    f.originalFaultCode === undefined ? '' : leaf('originalFaultCode', f.originalFaultCode),
    f.originalFaultString === undefined ? '' : leaf('originalFaultString', f.originalFaultString),
    f.originalDescription === undefined ? '' : leaf('originalDescription', f.originalDescription),
  );
}

export function readOutcome(obj: XmlObject): 'OK' | 'KO' {
  return enumText(obj, 'outcome', ['OK', 'KO'] as const);
}

/**
 * outcome + fault, the ctResponse head every paForNode answer starts with.
 * @throws AppError('invalid-input') for a KO without faultBean: the XSD allows it, but the Node
 * (and the WISP converter) treat a KO without fault as unrecoverable, so we never send one.
 */
export function responseHeadXml(r: { outcome: 'OK' | 'KO'; fault?: Fault }): string {
  if (r.outcome === 'KO' && r.fault === undefined) fail('fault', 'a KO answer needs a faultBean');
  return leaf('outcome', r.outcome) + faultXml(r.fault);
}

/** A KO answer read from a ctResponse. */
export function readKo(obj: XmlObject): KoResponse {
  const fault = readFault(obj);
  return fault === undefined ? { outcome: 'KO' } : { outcome: 'KO', fault };
}

/** The wrapper element `<pafn:name xmlns:pafn=...>` around already-built children. */
export function pafnWrapper(name: string, ...children: string[]): string {
  return `<${PAFN}:${name} xmlns:${PAFN}="${PA_FOR_NODE_NS}">${children.join('')}</${PAFN}:${name}>`;
}

/**
 * Parses a SOAP envelope and returns the body element, checking that it is one of `elements`.
 * @throws AppError('xml-malformed' | 'xml-forbidden-construct') for unsafe or broken XML.
 * @throws AppError('upstream-error') when the body is a SOAP Fault.
 * @throws AppError('unknown-operation') when the body element is another one.
 */
export function bodyOf(xml: string, ...elements: string[]): { name: string; payload: XmlObject } {
  const env = parseSoapEnvelope(xml);
  if (env.operation === 'Fault') {
    const reason = optText(env.payload, 'faultstring') ?? 'no faultstring';
    throw new AppError('upstream-error', `SOAP Fault: ${reason}`);
  }
  if (!elements.includes(env.operation)) {
    throw new AppError(
      'unknown-operation',
      `expected ${elements.join(' or ')}, found ${env.operation}`,
      { operation: env.operation },
    );
  }
  return { name: env.operation, payload: env.payload };
}
