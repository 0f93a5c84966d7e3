/**
 * RPT (payment request) and RT (payment receipt) documents, PagInf_RPT_RT 6.2.0, plus the
 * @e.bollo MarcaDaBollo document an RT line may carry as attachment.
 *
 * Domain names are English; the pagoPA names appear only in the wire mapping below. Amounts are
 * integer cents, converted with a strict decimal parser (never parseFloat): an amount that is not
 * `\d+\.\d{2}` is refused, because a lenient conversion could credit the wrong sum.
 * Parsing is lenient about what the wild varies in (namespace prefixes, `CodiceContestoPagamento`
 * spelled either way in the RT, dates with a time zone) and strict about amounts and identifiers.
 */
import { AppError } from '../../domain/errors';
import { centsFromDecimalString, centsToDecimalString } from '../../domain/codes/money';
import {
  attr,
  buildXml,
  child,
  el,
  elAttrs,
  invalidElement,
  leaf,
  listObjects,
  optChild,
  optLeaf,
  optText,
  optTextCaseInsensitive,
  parseXml,
  rootElement,
  text,
  textCaseInsensitive,
  type XmlObject,
} from './xml';

export const PAGAMENTI_NS = 'http://www.digitpa.gov.it/schemas/2011/Pagamenti/';
export const MARCA_DA_BOLLO_NS = 'http://www.agenziaentrate.gov.it/2014/MarcaDaBollo';
export const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const RPT_RT_VERSION = '6.2.0';

// ------------------------------------------------------------------------------------------------
// Money and scalar conversions shared by the pagoPA modules.

/**
 * Integer euro cents. A plain number here (the domain's `Cents` is branded): these wire types are
 * built from literals in fixtures and the simulator, and every value still goes through the codec.
 */
export type Cents = number;

const MAX_CENTS = 99_999_999_999; // 999999999.99, the XSD maximum

/**
 * Converts an XSD amount (`\d+\.\d{2}`, at most 999999999.99) to integer cents, with the domain
 * codec plus the XSD maximum.
 * @throws AppError('amount-invalid') for any other form (`10`, `10.5`, `1e3`, `-1.00`, `1,00`).
 */
export function decimalToCents(value: string, where = 'amount'): Cents {
  let cents: number;
  try {
    cents = centsFromDecimalString(value);
  } catch (err) {
    throw new AppError(
      'amount-invalid',
      `${where}: "${value.slice(0, 20)}" is not an amount with two decimals`,
      { where },
      { cause: err },
    );
  }
  if (cents > MAX_CENTS)
    throw new AppError('amount-invalid', `${where}: ${value} exceeds 999999999.99`, { where });
  return cents;
}

/**
 * Formats integer cents as an XSD amount (`1234` → `12.34`).
 * @throws AppError('amount-invalid') for negative, fractional or too large values.
 */
export function centsToDecimal(cents: Cents): string {
  if (cents > MAX_CENTS)
    throw new AppError('amount-invalid', `${cents} cents exceeds 999999999.99`);
  return centsToDecimalString(cents);
}

function amountAt(obj: XmlObject, name: string, opts: { notZero?: boolean } = {}): Cents {
  const cents = decimalToCents(text(obj, name), name);
  if (opts.notZero === true && cents === 0) {
    throw new AppError('amount-invalid', `${name}: must be at least 0.01`, { where: name });
  }
  return cents;
}

function optAmountAt(
  obj: XmlObject,
  name: string,
  opts: { notZero?: boolean } = {},
): Cents | undefined {
  return obj[name] === undefined ? undefined : amountAt(obj, name, opts);
}

const DATE = /^(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/;

/** An xsd:date, with any time zone dropped (`2025-05-13+02:00` → `2025-05-13`). */
export function isoDateAt(obj: XmlObject, name: string): string {
  const m = DATE.exec(text(obj, name));
  if (!m) throw invalidElement(obj, name, 'not an ISO date');
  return m[1]!;
}

/** An xsd:dateTime, kept as written (time zone optional, as the Node's own messages omit it). */
export function isoDateTimeAt(obj: XmlObject, name: string): string {
  const v = text(obj, name);
  if (!DATE_TIME.test(v)) throw invalidElement(obj, name, 'not an ISO date-time');
  return v;
}

export function optIsoDateTimeAt(obj: XmlObject, name: string): string | undefined {
  return obj[name] === undefined ? undefined : isoDateTimeAt(obj, name);
}

/** A required identifier of 1..max characters (IUV, CCP, IUR, message ids...). */
export function idAt(obj: XmlObject, name: string, max = 35): string {
  return checkId(obj, name, text(obj, name), max);
}

export function optIdAt(obj: XmlObject, name: string, max = 35): string | undefined {
  const v = optText(obj, name);
  return v === undefined ? undefined : checkId(obj, name, v, max);
}

function checkId(obj: XmlObject, name: string, v: string, max: number): string {
  if (v.length < 1 || v.length > max)
    throw invalidElement(obj, name, `must be 1..${max} characters`);
  return v;
}

function oneOf<T extends string>(
  obj: XmlObject,
  name: string,
  allowed: readonly T[],
  value?: string,
): T {
  const v = value ?? text(obj, name);
  if (!(allowed as readonly string[]).includes(v)) {
    throw invalidElement(obj, name, `"${v}" is not one of ${allowed.join(', ')}`);
  }
  return v as T;
}

/** `{ [k]: v }` when v is defined, `{}` otherwise, for exactOptionalPropertyTypes-friendly spreads. */
export function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

// ------------------------------------------------------------------------------------------------
// Types.

export type PersonKind = 'F' | 'G';
export type InstitutionIdKind = 'G' | 'A' | 'B';

export interface DomainRef {
  /** identificativoDominio: the creditor's fiscal code. */
  readonly domainId: string;
  readonly requestingStationId?: string;
}

export interface Person {
  readonly kind: PersonKind;
  /** Codice fiscale or partita IVA (2..16). */
  readonly taxCode: string;
  readonly name: string;
  readonly street?: string;
  readonly civicNumber?: string;
  readonly postalCode?: string;
  readonly city?: string;
  readonly province?: string;
  readonly country?: string;
  readonly email?: string;
}

export interface Organisation {
  readonly taxCode: string;
  readonly name: string;
  readonly unitCode?: string;
  readonly unitName?: string;
  readonly street?: string;
  readonly civicNumber?: string;
  readonly postalCode?: string;
  readonly city?: string;
  readonly province?: string;
  readonly country?: string;
}

/** The PSP attesting the payment; its id may be a fiscal code (G), an ABI (A) or a BIC (B). */
export interface AttestingPsp extends Organisation {
  readonly idKind: InstitutionIdKind;
}

export const AUTHENTICATION_METHODS = ['CNS', 'USR', 'OTH', 'N/A'] as const;
export type AuthenticationMethod = (typeof AUTHENTICATION_METHODS)[number];

export const PAYMENT_TYPES = [
  'BBT',
  'BP',
  'AD',
  'CP',
  'PO',
  'OBEP',
  'OTH',
  'JIF',
  'MYBK',
  'PPAL',
] as const;
export type PaymentType = (typeof PAYMENT_TYPES)[number];

export interface StampRequest {
  readonly stampType: '01';
  /** base64 SHA-256 of the document to stamp. */
  readonly documentHash: string;
  readonly province: string;
}

export interface RptLine {
  readonly amountCents: Cents;
  readonly creditorFeeCents?: Cents;
  readonly creditIban?: string;
  readonly creditBic?: string;
  readonly supportIban?: string;
  readonly supportBic?: string;
  readonly payerCredentials?: string;
  /** causaleVersamento (≤140). */
  readonly remittanceInformation: string;
  /** datiSpecificiRiscossione, `9/<taxonomy code>/...`. */
  readonly collectionData: string;
  /** A marca da bollo line carries this and no IBAN. */
  readonly stamp?: StampRequest;
}

export interface PaymentRequest {
  readonly version: string;
  readonly domain: DomainRef;
  readonly requestMessageId: string;
  readonly requestDateTime: string;
  readonly authentication: AuthenticationMethod;
  /** soggettoVersante: who pays on behalf of the debtor, when not the debtor. */
  readonly payer?: Person;
  readonly debtor: Person;
  readonly creditor: Organisation;
  readonly executionDate: string;
  readonly totalCents: Cents;
  readonly paymentType: PaymentType;
  readonly iuv: string;
  /** codiceContestoPagamento: `n/a` for creditor-initiated payments. */
  readonly ccp: string;
  readonly debitIban?: string;
  readonly debitBic?: string;
  readonly lines: readonly RptLine[];
}

/** codiceEsitoPagamento: 0 paid, 1 not paid, 2 partly paid, 3 time limit elapsed, 4 partly elapsed. */
export const PAYMENT_OUTCOMES = [0, 1, 2, 3, 4] as const;
export type PaymentOutcome = (typeof PAYMENT_OUTCOMES)[number];

export type AttachmentKind = 'ES' | 'BD';

export interface ReceiptAttachment {
  readonly kind: AttachmentKind;
  /** base64 content as received (for BD: a MarcaDaBollo document, see {@link parseMarcaDaBollo}). */
  readonly contentBase64: string;
}

export interface RtLine {
  readonly paidCents: Cents;
  /** esitoSingoloPagamento; mandatory when paidCents is 0. */
  readonly outcomeText?: string;
  readonly outcomeDate: string;
  /** identificativoUnivocoRiscossione: CRO, codeline, or the paymentToken for converted receipts. */
  readonly iur: string;
  readonly remittanceInformation: string;
  readonly collectionData: string;
  readonly pspFeeCents?: Cents;
  readonly creditorFeeCents?: Cents;
  readonly attachment?: ReceiptAttachment;
}

export interface PaymentReceipt {
  readonly version: string;
  readonly domain: DomainRef;
  readonly receiptMessageId: string;
  readonly receiptDateTime: string;
  readonly requestMessageRef: string;
  readonly requestDateRef: string;
  readonly attestingPsp: AttestingPsp;
  readonly creditor: Organisation;
  readonly payer?: Person;
  readonly debtor: Person;
  readonly outcome: PaymentOutcome;
  readonly totalPaidCents: Cents;
  readonly iuv: string;
  readonly ccp: string;
  readonly lines: readonly RtLine[];
}

// ------------------------------------------------------------------------------------------------
// Parsing.

function parseDomain(o: XmlObject): DomainRef {
  const d = child(o, 'dominio');
  return {
    domainId: idAt(d, 'identificativoDominio'),
    ...opt('requestingStationId', optIdAt(d, 'identificativoStazioneRichiedente')),
  };
}

function optTextMax(o: XmlObject, name: string, max: number): string | undefined {
  const v = optText(o, name);
  if (v !== undefined && (v.length < 1 || v.length > max)) {
    throw invalidElement(o, name, `must be 1..${max} characters`);
  }
  return v;
}

function textMax(o: XmlObject, name: string, max: number): string {
  const v = text(o, name);
  if (v.length < 1 || v.length > max) throw invalidElement(o, name, `must be 1..${max} characters`);
  return v;
}

function parsePerson(o: XmlObject, suffix: 'Versante' | 'Pagatore'): Person {
  const id = child(o, `identificativoUnivoco${suffix}`);
  return {
    kind: oneOf(id, 'tipoIdentificativoUnivoco', ['F', 'G'] as const),
    taxCode: idAt(id, 'codiceIdentificativoUnivoco', 16),
    name: textMax(o, `anagrafica${suffix}`, 70),
    ...opt('street', optTextMax(o, `indirizzo${suffix}`, 70)),
    ...opt('civicNumber', optTextMax(o, `civico${suffix}`, 16)),
    ...opt('postalCode', optTextMax(o, `cap${suffix}`, 16)),
    ...opt('city', optTextMax(o, `localita${suffix}`, 35)),
    ...opt('province', optTextMax(o, `provincia${suffix}`, 35)),
    ...opt('country', optTextMax(o, `nazione${suffix}`, 2)),
    ...opt('email', optTextMax(o, `e-mail${suffix}`, 256)),
  };
}

function parseOrganisationFields(
  o: XmlObject,
  suffix: 'Beneficiario' | 'Attestante',
): Omit<Organisation, 'taxCode'> {
  return {
    name: textMax(o, `denominazione${suffix}`, 70),
    ...opt('unitCode', optTextMax(o, `codiceUnitOper${suffix}`, 35)),
    ...opt('unitName', optTextMax(o, `denomUnitOper${suffix}`, 70)),
    ...opt('street', optTextMax(o, `indirizzo${suffix}`, 70)),
    ...opt('civicNumber', optTextMax(o, `civico${suffix}`, 16)),
    ...opt('postalCode', optTextMax(o, `cap${suffix}`, 16)),
    ...opt('city', optTextMax(o, `localita${suffix}`, 35)),
    ...opt('province', optTextMax(o, `provincia${suffix}`, 35)),
    ...opt('country', optTextMax(o, `nazione${suffix}`, 2)),
  };
}

/** enteBeneficiario, also used inside paaVerificaRPT/paaAttivaRPT answers. */
export function parseCreditor(o: XmlObject): Organisation {
  const id = child(o, 'identificativoUnivocoBeneficiario');
  oneOf(id, 'tipoIdentificativoUnivoco', ['G'] as const);
  return {
    taxCode: idAt(id, 'codiceIdentificativoUnivoco', 16),
    ...parseOrganisationFields(o, 'Beneficiario'),
  };
}

function parseAttestingPsp(o: XmlObject): AttestingPsp {
  const id = child(o, 'identificativoUnivocoAttestante');
  return {
    idKind: oneOf(id, 'tipoIdentificativoUnivoco', ['G', 'A', 'B'] as const),
    taxCode: idAt(id, 'codiceIdentificativoUnivoco', 16),
    ...parseOrganisationFields(o, 'Attestante'),
  };
}

/** A Person parsed from a soggettoVersante/soggettoPagatore element (also used by old-model SOAP). */
export function parsePayer(o: XmlObject): Person {
  return parsePerson(o, 'Versante');
}
export function parseDebtor(o: XmlObject): Person {
  return parsePerson(o, 'Pagatore');
}

function parseRptLine(o: XmlObject): RptLine {
  const stamp = optChild(o, 'datiMarcaBolloDigitale');
  return {
    amountCents: amountAt(o, 'importoSingoloVersamento', { notZero: true }),
    ...opt('creditorFeeCents', optAmountAt(o, 'commissioneCaricoPA', { notZero: true })),
    ...opt('creditIban', optIdAt(o, 'ibanAccredito', 34)),
    ...opt('creditBic', optIdAt(o, 'bicAccredito', 11)),
    ...opt('supportIban', optIdAt(o, 'ibanAppoggio', 34)),
    ...opt('supportBic', optIdAt(o, 'bicAppoggio', 11)),
    ...opt('payerCredentials', optTextMax(o, 'credenzialiPagatore', 35)),
    remittanceInformation: textMax(o, 'causaleVersamento', 140),
    collectionData: textMax(o, 'datiSpecificiRiscossione', 140),
    ...opt(
      'stamp',
      stamp === undefined
        ? undefined
        : {
            stampType: oneOf(stamp, 'tipoBollo', ['01'] as const),
            documentHash: textMax(stamp, 'hashDocumento', 70),
            province: textMax(stamp, 'provinciaResidenza', 2),
          },
    ),
  };
}

/**
 * Parses an RPT document (already decoded from base64).
 * @throws AppError('xml-malformed' | 'xml-forbidden-construct') for unsafe or broken XML.
 * @throws AppError('xml-schema-invalid') for missing or malformed elements.
 * @throws AppError('amount-invalid') for amounts not in `\d+\.\d{2}` form.
 * @throws AppError('xml-semantic-invalid') when the lines do not add up to the total, or there are more than 5.
 */
export function parseRpt(xml: string): PaymentRequest {
  const { element: r } = rootElement(parseXml(xml), 'RPT');
  const dv = child(r, 'datiVersamento');
  const lines = listObjects(dv, 'datiSingoloVersamento').map(parseRptLine);
  const payer = optChild(r, 'soggettoVersante');
  const rpt: PaymentRequest = {
    version: textMax(r, 'versioneOggetto', 16),
    domain: parseDomain(r),
    requestMessageId: idAt(r, 'identificativoMessaggioRichiesta'),
    requestDateTime: isoDateTimeAt(r, 'dataOraMessaggioRichiesta'),
    authentication: oneOf(r, 'autenticazioneSoggetto', AUTHENTICATION_METHODS),
    ...opt('payer', payer === undefined ? undefined : parsePayer(payer)),
    debtor: parseDebtor(child(r, 'soggettoPagatore')),
    creditor: parseCreditor(child(r, 'enteBeneficiario')),
    executionDate: isoDateAt(dv, 'dataEsecuzionePagamento'),
    totalCents: amountAt(dv, 'importoTotaleDaVersare', { notZero: true }),
    paymentType: oneOf(dv, 'tipoVersamento', PAYMENT_TYPES),
    iuv: idAt(dv, 'identificativoUnivocoVersamento'),
    ccp: idAt(dv, 'codiceContestoPagamento'),
    ...opt('debitIban', optIdAt(dv, 'ibanAddebito', 34)),
    ...opt('debitBic', optIdAt(dv, 'bicAddebito', 11)),
    lines,
  };
  oneOf(dv, 'firmaRicevuta', ['0'] as const);
  const problems = rptProblems(rpt);
  if (problems.length > 0) {
    throw new AppError('xml-semantic-invalid', `RPT inconsistent: ${problems.join('; ')}`, {
      problems,
    });
  }
  return rpt;
}

/** Rules of the RPT the XSD cannot express. Empty when consistent. */
export function rptProblems(rpt: PaymentRequest): string[] {
  const problems: string[] = [];
  if (rpt.lines.length < 1 || rpt.lines.length > 5)
    problems.push('1 to 5 datiSingoloVersamento required');
  const sum = rpt.lines.reduce((s, l) => s + l.amountCents, 0);
  if (sum !== rpt.totalCents) {
    problems.push(
      `importoTotaleDaVersare ${centsToDecimal(rpt.totalCents)} != sum of lines ${centsToDecimal(sum)}`,
    );
  }
  rpt.lines.forEach((l, i) => {
    if (l.stamp !== undefined && (l.creditIban !== undefined || l.supportIban !== undefined)) {
      problems.push(`line ${i + 1}: a marca da bollo line has no IBAN`);
    }
    if (l.stamp === undefined && l.creditIban === undefined)
      problems.push(`line ${i + 1}: ibanAccredito required`);
  });
  return problems;
}

function parseRtLine(o: XmlObject): RtLine {
  const att = optChild(o, 'allegatoRicevuta');
  return {
    paidCents: amountAt(o, 'singoloImportoPagato'),
    ...opt('outcomeText', optTextMax(o, 'esitoSingoloPagamento', 35)),
    outcomeDate: isoDateAt(o, 'dataEsitoSingoloPagamento'),
    iur: idAt(o, 'identificativoUnivocoRiscossione'),
    remittanceInformation: textMax(o, 'causaleVersamento', 140),
    collectionData: textMax(o, 'datiSpecificiRiscossione', 140),
    ...opt('pspFeeCents', optAmountAt(o, 'commissioniApplicatePSP')),
    ...opt('creditorFeeCents', optAmountAt(o, 'commissioniApplicatePA', { notZero: true })),
    ...opt(
      'attachment',
      att === undefined
        ? undefined
        : {
            kind: oneOf(att, 'tipoAllegatoRicevuta', ['ES', 'BD'] as const),
            contentBase64: text(att, 'testoAllegato').replace(/\s+/g, ''),
          },
    ),
  };
}

export interface ParseRtOptions {
  /** Check the rules the XSD cannot express (see {@link rtProblems}). Default true. */
  readonly checkConsistency?: boolean;
}

/**
 * Parses an RT document (already decoded from base64).
 *
 * The RT's context code is read as `CodiceContestoPagamento` (the XSD spelling) or
 * `codiceContestoPagamento` (as some senders write it, like the RPT).
 * @throws AppError('xml-malformed' | 'xml-forbidden-construct') for unsafe or broken XML.
 * @throws AppError('xml-schema-invalid') for missing or malformed elements.
 * @throws AppError('amount-invalid') for amounts not in `\d+\.\d{2}` form.
 * @throws AppError('xml-semantic-invalid') when checkConsistency is on and {@link rtProblems} finds any.
 */
export function parseRt(xml: string, opts: ParseRtOptions = {}): PaymentReceipt {
  const { element: r } = rootElement(parseXml(xml), 'RT');
  const dp = child(r, 'datiPagamento');
  const payer = optChild(r, 'soggettoVersante');
  const code = text(dp, 'codiceEsitoPagamento');
  const outcome = Number(
    oneOf(dp, 'codiceEsitoPagamento', ['0', '1', '2', '3', '4'] as const, code),
  ) as PaymentOutcome;
  const rt: PaymentReceipt = {
    version: textMax(r, 'versioneOggetto', 16),
    domain: parseDomain(r),
    receiptMessageId: idAt(r, 'identificativoMessaggioRicevuta'),
    receiptDateTime: isoDateTimeAt(r, 'dataOraMessaggioRicevuta'),
    requestMessageRef: idAt(r, 'riferimentoMessaggioRichiesta'),
    requestDateRef: isoDateAt(r, 'riferimentoDataRichiesta'),
    attestingPsp: parseAttestingPsp(child(r, 'istitutoAttestante')),
    creditor: parseCreditor(child(r, 'enteBeneficiario')),
    ...opt('payer', payer === undefined ? undefined : parsePayer(payer)),
    debtor: parseDebtor(child(r, 'soggettoPagatore')),
    outcome,
    totalPaidCents: amountAt(dp, 'importoTotalePagato'),
    iuv: idAt(dp, 'identificativoUnivocoVersamento'),
    ccp: checkId(
      dp,
      'CodiceContestoPagamento',
      textCaseInsensitive(dp, 'CodiceContestoPagamento'),
      35,
    ),
    lines: listObjects(dp, 'datiSingoloPagamento').map(parseRtLine),
  };
  if (opts.checkConsistency !== false) {
    const problems = rtProblems(rt);
    if (problems.length > 0) {
      throw new AppError('xml-semantic-invalid', `RT inconsistent: ${problems.join('; ')}`, {
        problems,
      });
    }
  }
  return rt;
}

/**
 * Rules of the RT the XSD cannot express (SANP 2.1 chapter 5): at most 5 lines, lines present for
 * outcomes 0/2/4, total 0.00 for outcomes 1/3, total = sum of lines, a text outcome on 0.00 lines.
 */
export function rtProblems(rt: PaymentReceipt): string[] {
  const problems: string[] = [];
  if (rt.lines.length > 5) problems.push('at most 5 datiSingoloPagamento');
  if ((rt.outcome === 0 || rt.outcome === 2 || rt.outcome === 4) && rt.lines.length === 0) {
    problems.push(`codiceEsitoPagamento ${rt.outcome} requires datiSingoloPagamento`);
  }
  if ((rt.outcome === 1 || rt.outcome === 3) && rt.totalPaidCents !== 0) {
    problems.push(`codiceEsitoPagamento ${rt.outcome} requires importoTotalePagato 0.00`);
  }
  if (rt.lines.length > 0) {
    const sum = rt.lines.reduce((s, l) => s + l.paidCents, 0);
    if (sum !== rt.totalPaidCents) {
      problems.push(
        `importoTotalePagato ${centsToDecimal(rt.totalPaidCents)} != sum of lines ${centsToDecimal(sum)}`,
      );
    }
  }
  rt.lines.forEach((l, i) => {
    if (l.paidCents === 0 && l.outcomeText === undefined) {
      problems.push(
        `line ${i + 1}: esitoSingoloPagamento required when singoloImportoPagato is 0.00`,
      );
    }
  });
  return problems;
}

/** Cents actually credited to the creditor: only lines with a positive amount count (PAGOPA.md §13.6). */
export function creditedCents(rt: PaymentReceipt): Cents {
  if (rt.outcome === 1 || rt.outcome === 3) return 0;
  return rt.lines.reduce((s, l) => s + l.paidCents, 0);
}

// ------------------------------------------------------------------------------------------------
// Building (default namespace, so every child is qualified as the XSD requires).

function domainXml(d: DomainRef): string {
  return el(
    'dominio',
    leaf('identificativoDominio', d.domainId),
    optLeaf('identificativoStazioneRichiedente', d.requestingStationId),
  );
}

function personXml(tag: string, suffix: 'Versante' | 'Pagatore', p: Person): string {
  return el(
    tag,
    el(
      `identificativoUnivoco${suffix}`,
      leaf('tipoIdentificativoUnivoco', p.kind),
      leaf('codiceIdentificativoUnivoco', p.taxCode),
    ),
    leaf(`anagrafica${suffix}`, p.name),
    optLeaf(`indirizzo${suffix}`, p.street),
    optLeaf(`civico${suffix}`, p.civicNumber),
    optLeaf(`cap${suffix}`, p.postalCode),
    optLeaf(`localita${suffix}`, p.city),
    optLeaf(`provincia${suffix}`, p.province),
    optLeaf(`nazione${suffix}`, p.country),
    optLeaf(`e-mail${suffix}`, p.email),
  );
}

function organisationFieldsXml(suffix: 'Beneficiario' | 'Attestante', o: Organisation): string {
  return (
    leaf(`denominazione${suffix}`, o.name) +
    optLeaf(`codiceUnitOper${suffix}`, o.unitCode) +
    optLeaf(`denomUnitOper${suffix}`, o.unitName) +
    optLeaf(`indirizzo${suffix}`, o.street) +
    optLeaf(`civico${suffix}`, o.civicNumber) +
    optLeaf(`cap${suffix}`, o.postalCode) +
    optLeaf(`localita${suffix}`, o.city) +
    optLeaf(`provincia${suffix}`, o.province) +
    optLeaf(`nazione${suffix}`, o.country)
  );
}

/** The children of an enteBeneficiario element (the caller chooses the element and namespace). */
export function creditorChildrenXml(o: Organisation): string {
  return (
    el(
      'identificativoUnivocoBeneficiario',
      leaf('tipoIdentificativoUnivoco', 'G'),
      leaf('codiceIdentificativoUnivoco', o.taxCode),
    ) + organisationFieldsXml('Beneficiario', o)
  );
}

/** A soggettoVersante / soggettoPagatore element without namespace handling (for reuse). */
export function payerXml(p: Person): string {
  return personXml('soggettoVersante', 'Versante', p);
}
export function debtorXml(p: Person): string {
  return personXml('soggettoPagatore', 'Pagatore', p);
}

function optAmount(name: string, cents: Cents | undefined): string {
  return cents === undefined ? '' : leaf(name, centsToDecimal(cents));
}

/**
 * Builds an RPT document.
 * @throws AppError('xml-semantic-invalid') when {@link rptProblems} finds any.
 * @throws AppError('amount-invalid') for amounts that are not non-negative integer cents.
 */
export function buildRpt(rpt: PaymentRequest): string {
  const problems = rptProblems(rpt);
  if (problems.length > 0) {
    throw new AppError('xml-semantic-invalid', `RPT inconsistent: ${problems.join('; ')}`, {
      problems,
    });
  }
  return buildXml(
    elAttrs(
      'RPT',
      { xmlns: PAGAMENTI_NS },
      leaf('versioneOggetto', rpt.version),
      domainXml(rpt.domain),
      leaf('identificativoMessaggioRichiesta', rpt.requestMessageId),
      leaf('dataOraMessaggioRichiesta', rpt.requestDateTime),
      leaf('autenticazioneSoggetto', rpt.authentication),
      rpt.payer && payerXml(rpt.payer),
      debtorXml(rpt.debtor),
      el('enteBeneficiario', creditorChildrenXml(rpt.creditor)),
      el(
        'datiVersamento',
        leaf('dataEsecuzionePagamento', rpt.executionDate),
        leaf('importoTotaleDaVersare', centsToDecimal(rpt.totalCents)),
        leaf('tipoVersamento', rpt.paymentType),
        leaf('identificativoUnivocoVersamento', rpt.iuv),
        leaf('codiceContestoPagamento', rpt.ccp),
        optLeaf('ibanAddebito', rpt.debitIban),
        optLeaf('bicAddebito', rpt.debitBic),
        leaf('firmaRicevuta', '0'),
        rpt.lines.map((l) =>
          el(
            'datiSingoloVersamento',
            leaf('importoSingoloVersamento', centsToDecimal(l.amountCents)),
            optAmount('commissioneCaricoPA', l.creditorFeeCents),
            optLeaf('ibanAccredito', l.creditIban),
            optLeaf('bicAccredito', l.creditBic),
            optLeaf('ibanAppoggio', l.supportIban),
            optLeaf('bicAppoggio', l.supportBic),
            optLeaf('credenzialiPagatore', l.payerCredentials),
            leaf('causaleVersamento', l.remittanceInformation),
            leaf('datiSpecificiRiscossione', l.collectionData),
            l.stamp &&
              el(
                'datiMarcaBolloDigitale',
                leaf('tipoBollo', l.stamp.stampType),
                leaf('hashDocumento', l.stamp.documentHash),
                leaf('provinciaResidenza', l.stamp.province),
              ),
          ),
        ),
      ),
    ),
  );
}

/**
 * Builds an RT document (used by our simulator and tests; the Node is the one that sends RTs).
 * @throws AppError('xml-semantic-invalid') when {@link rtProblems} finds any.
 */
export function buildRt(rt: PaymentReceipt): string {
  const problems = rtProblems(rt);
  if (problems.length > 0) {
    throw new AppError('xml-semantic-invalid', `RT inconsistent: ${problems.join('; ')}`, {
      problems,
    });
  }
  const psp = rt.attestingPsp;
  return buildXml(
    elAttrs(
      'RT',
      { xmlns: PAGAMENTI_NS },
      leaf('versioneOggetto', rt.version),
      domainXml(rt.domain),
      leaf('identificativoMessaggioRicevuta', rt.receiptMessageId),
      leaf('dataOraMessaggioRicevuta', rt.receiptDateTime),
      leaf('riferimentoMessaggioRichiesta', rt.requestMessageRef),
      leaf('riferimentoDataRichiesta', rt.requestDateRef),
      el(
        'istitutoAttestante',
        el(
          'identificativoUnivocoAttestante',
          leaf('tipoIdentificativoUnivoco', psp.idKind),
          leaf('codiceIdentificativoUnivoco', psp.taxCode),
        ),
        organisationFieldsXml('Attestante', psp),
      ),
      el('enteBeneficiario', creditorChildrenXml(rt.creditor)),
      rt.payer && payerXml(rt.payer),
      debtorXml(rt.debtor),
      el(
        'datiPagamento',
        leaf('codiceEsitoPagamento', rt.outcome),
        leaf('importoTotalePagato', centsToDecimal(rt.totalPaidCents)),
        leaf('identificativoUnivocoVersamento', rt.iuv),
        leaf('CodiceContestoPagamento', rt.ccp),
        rt.lines.map((l) =>
          el(
            'datiSingoloPagamento',
            leaf('singoloImportoPagato', centsToDecimal(l.paidCents)),
            optLeaf('esitoSingoloPagamento', l.outcomeText),
            leaf('dataEsitoSingoloPagamento', l.outcomeDate),
            leaf('identificativoUnivocoRiscossione', l.iur),
            leaf('causaleVersamento', l.remittanceInformation),
            leaf('datiSpecificiRiscossione', l.collectionData),
            optAmount('commissioniApplicatePSP', l.pspFeeCents),
            optAmount('commissioniApplicatePA', l.creditorFeeCents),
            l.attachment &&
              el(
                'allegatoRicevuta',
                leaf('tipoAllegatoRicevuta', l.attachment.kind),
                leaf('testoAllegato', l.attachment.contentBase64),
              ),
          ),
        ),
      ),
    ),
  );
}

// ------------------------------------------------------------------------------------------------
// MarcaDaBollo (@e.bollo).

export const SHA256_DIGEST_ALGORITHM = 'http://www.w3.org/2001/04/xmlenc#sha256';

export interface RevenueStamp {
  readonly pspTaxCode: string;
  readonly pspName: string;
  /** IUBD: the stamp's unique id. */
  readonly stampId: string;
  readonly purchasedAt: string;
  readonly amountCents: Cents;
  readonly stampType: '01';
  /** base64 SHA-256 of the stamped document. */
  readonly documentDigest: string;
  /** The ds:Signature element, kept verbatim (we never re-sign or verify it here). */
  readonly signatureXml: string;
}

/**
 * Parses a MarcaDaBollo document (the decoded content of an RT `BD` attachment or a paSendRTV2
 * MBDAttachment). The signature is checked for presence only.
 * @throws AppError('xml-schema-invalid' | 'amount-invalid' | 'xml-malformed') as for the RT.
 */
export function parseMarcaDaBollo(xml: string): Omit<RevenueStamp, 'signatureXml'> {
  const { element: m } = rootElement(parseXml(xml), 'marcaDaBollo');
  const psp = child(m, 'PSP');
  const imprint = child(m, 'ImprontaDocumento');
  const method = child(imprint, 'DigestMethod');
  if (attr(method, 'Algorithm') !== SHA256_DIGEST_ALGORITHM) {
    throw invalidElement(imprint, 'DigestMethod', 'Algorithm must be SHA-256');
  }
  child(m, 'Signature');
  const amount = text(m, 'Importo');
  return {
    pspTaxCode: textMax(psp, 'CodiceFiscale', 35),
    pspName: textMax(psp, 'Denominazione', 140),
    stampId: textMax(m, 'IUBD', 70),
    purchasedAt: isoDateTimeAt(m, 'OraAcquisto'),
    // The stamp XSD allows up to two decimals ("16" or "16.00"); normalise before the strict check.
    amountCents: decimalToCents(
      /^\d+$/.test(amount) ? `${amount}.00` : /^\d+\.\d$/.test(amount) ? `${amount}0` : amount,
      'Importo',
    ),
    stampType: oneOf(m, 'TipoBollo', ['01'] as const),
    documentDigest: textMax(imprint, 'DigestValue', 100),
  };
}

/** Builds a MarcaDaBollo document around an already signed ds:Signature element. */
export function buildMarcaDaBollo(s: RevenueStamp): string {
  return buildXml(
    elAttrs(
      'marcaDaBollo',
      { xmlns: MARCA_DA_BOLLO_NS, 'xmlns:ds': XMLDSIG_NS },
      el('PSP', leaf('CodiceFiscale', s.pspTaxCode), leaf('Denominazione', s.pspName)),
      leaf('IUBD', s.stampId),
      leaf('OraAcquisto', s.purchasedAt),
      leaf('Importo', centsToDecimal(s.amountCents)),
      leaf('TipoBollo', s.stampType),
      el(
        'ImprontaDocumento',
        elAttrs('DigestMethod', { Algorithm: SHA256_DIGEST_ALGORITHM }),
        leaf('ds:DigestValue', s.documentDigest),
      ),
      s.signatureXml,
    ),
  );
}

/** Reads the optional `CodiceContestoPagamento` in any spelling (exported for the SOAP layer). */
export function optContextCode(o: XmlObject): string | undefined {
  return optTextCaseInsensitive(o, 'CodiceContestoPagamento', 'codiceContestoPagamento');
}
