/**
 * SOAP bodies of the old-model primitives (SANP 2.x): PaPerNodo / PaPerNodoPagamentoPsp, which we
 * expose (paaInviaRT, paaVerificaRPT, paaAttivaRPT), and NodoPerPa, which we call (nodoInviaRPT,
 * nodoInviaCarrelloRPT, nodoChiediStatoRPT, nodoChiediCopiaRT, nodoChiediListaPendentiRPT,
 * nodoChiediElencoFlussiRendicontazione, nodoChiediFlussoRendicontazione).
 *
 * Wire rules (see wsdl/*.wsdl): body wrappers are in `http://ws.pagamenti.telematici.gov/` and their
 * children are unqualified; headers are in `.../ppthead`, children unqualified; where a body
 * reuses RPT types (enteBeneficiario, soggettoPagatore...) those children are qualified in the
 * digitpa namespace. PaPerNodo answers wrap their fields in an inner element of the same name
 * (`<ppt:paaInviaRTRisposta><paaInviaRTRisposta>...`); NodoPerPa answers do not. In both, the
 * optional fault comes first. Every builder returns a whole SOAP envelope; every parser takes one.
 */
import { AppError } from '../../domain/errors';
import {
  base64XmlDecode,
  base64XmlEncode,
  child,
  el,
  elAttrs,
  elementKeys,
  invalidElement,
  leaf,
  listObjects,
  optChild,
  optLeaf,
  optText,
  parseSoapEnvelope,
  soapEnvelope,
  text,
  type ParsedSoapEnvelope,
  type XmlObject,
} from './xml';
import {
  centsToDecimal,
  creditorChildrenXml,
  debtorXml,
  decimalToCents,
  idAt,
  opt,
  optIdAt,
  optIsoDateTimeAt,
  isoDateTimeAt,
  PAGAMENTI_NS,
  parseCreditor,
  parseDebtor,
  parsePayer,
  payerXml,
  type Cents,
  type Organisation,
  type Person,
} from './rpt-rt';

export const PPT_NS = 'http://ws.pagamenti.telematici.gov/';
export const PPT_HEAD_NS = 'http://ws.pagamenti.telematici.gov/ppthead';

export type Outcome = 'OK' | 'KO';

/** faultBean: faultCode `<issuer>_<CODE>`, id = issuer (idDominio, "NodoDeiPagamentiSPC", idPSP). */
export interface FaultBean {
  readonly faultCode: string;
  readonly faultString: string;
  readonly id: string;
  readonly description?: string;
  /** Position in a cart (listaErroriRPT). */
  readonly serial?: number;
  readonly originalFaultCode?: string;
  readonly originalFaultString?: string;
  readonly originalDescription?: string;
}

/** intestazionePPT: who the message is about. */
export interface PptHeader {
  readonly brokerId: string;
  readonly stationId: string;
  readonly domainId: string;
  readonly iuv: string;
  /** codiceContestoPagamento (for new-model payments on old stations: the paymentToken). */
  readonly ccp: string;
}

/** intestazioneCarrelloPPT. */
export interface CartHeader {
  readonly brokerId: string;
  readonly stationId: string;
  readonly cartId: string;
}

/** The station credentials every EC → Node call carries. */
export interface StationCredentials {
  readonly brokerId: string;
  readonly stationId: string;
  readonly password: string;
}

// ------------------------------------------------------------------------------------------------
// Shared pieces.

function wrapper(op: string, ...children: (string | undefined | false)[]): string {
  return elAttrs(`ppt:${op}`, { 'xmlns:ppt': PPT_NS }, ...children);
}

/** Qualifies every element of an already-built fragment with the digitpa prefix. */
function qualifyPagamenti(fragment: string): string {
  // Text content is escaped by the builders, so every '<' here starts a tag.
  return fragment.replace(/<(\/?)([A-Za-z])/g, '<$1pay_i:$2');
}

function faultXml(f: FaultBean | undefined): string {
  if (f === undefined) return '';
  return el(
    'fault',
    leaf('faultCode', f.faultCode),
    leaf('faultString', f.faultString),
    leaf('id', f.id),
    optLeaf('description', f.description),
    optLeaf('serial', f.serial),
    optLeaf('originalFaultCode', f.originalFaultCode),
    optLeaf('originalFaultString', f.originalFaultString),
    optLeaf('originalDescription', f.originalDescription),
  );
}

/** Parses a faultBean element. */
export function parseFaultBean(o: XmlObject): FaultBean {
  const serial = optText(o, 'serial');
  if (serial !== undefined && !/^-?\d+$/.test(serial))
    throw invalidElement(o, 'serial', 'not an integer');
  return {
    faultCode: text(o, 'faultCode'),
    faultString: text(o, 'faultString'),
    id: text(o, 'id'),
    ...opt('description', optText(o, 'description')),
    ...opt('serial', serial === undefined ? undefined : Number(serial)),
    ...opt('originalFaultCode', optText(o, 'originalFaultCode')),
    ...opt('originalFaultString', optText(o, 'originalFaultString')),
    ...opt('originalDescription', optText(o, 'originalDescription')),
  };
}

function optFault(o: XmlObject): FaultBean | undefined {
  const f = optChild(o, 'fault');
  return f === undefined ? undefined : parseFaultBean(f);
}

function outcomeAt(o: XmlObject, name = 'esito'): Outcome {
  const v = text(o, name);
  if (v !== 'OK' && v !== 'KO') throw invalidElement(o, name, `"${v}" is not OK or KO`);
  return v;
}

function pptHeaderXml(h: PptHeader): string {
  return elAttrs(
    'ppthead:intestazionePPT',
    { 'xmlns:ppthead': PPT_HEAD_NS },
    leaf('identificativoIntermediarioPA', h.brokerId),
    leaf('identificativoStazioneIntermediarioPA', h.stationId),
    leaf('identificativoDominio', h.domainId),
    leaf('identificativoUnivocoVersamento', h.iuv),
    leaf('codiceContestoPagamento', h.ccp),
  );
}

function parsePptHeader(env: ParsedSoapEnvelope): PptHeader {
  if (env.header === undefined)
    throw new AppError('xml-schema-invalid', '/Envelope/Header: required');
  const h = child(env.header, 'intestazionePPT');
  return {
    brokerId: idAt(h, 'identificativoIntermediarioPA'),
    stationId: idAt(h, 'identificativoStazioneIntermediarioPA'),
    domainId: idAt(h, 'identificativoDominio'),
    iuv: idAt(h, 'identificativoUnivocoVersamento'),
    ccp: idAt(h, 'codiceContestoPagamento'),
  };
}

/**
 * Parses an envelope and returns the payload of the expected operation.
 * @throws AppError('upstream-error') for a SOAP Fault, with faultcode/faultstring in details.
 * @throws AppError('xml-schema-invalid') when the body holds another operation.
 */
function expectOperation(xml: string, op: string): ParsedSoapEnvelope {
  const env = parseSoapEnvelope(xml);
  if (env.operation === 'Fault') {
    const faultcode = optText(env.payload, 'faultcode') ?? '';
    const faultstring = optText(env.payload, 'faultstring') ?? '';
    throw new AppError('upstream-error', `SOAP fault ${faultcode}: ${faultstring}`, {
      faultcode,
      faultstring,
    });
  }
  if (env.operation !== op) {
    throw new AppError('xml-schema-invalid', `expected ${op}, found ${env.operation}`, {
      operation: env.operation,
    });
  }
  return env;
}

function credentialsXml(c: StationCredentials): string {
  return (
    leaf('identificativoIntermediarioPA', c.brokerId) +
    leaf('identificativoStazioneIntermediarioPA', c.stationId) +
    leaf('password', c.password)
  );
}

function parseCredentials(o: XmlObject): StationCredentials {
  const password = text(o, 'password');
  if (password.length < 8 || password.length > 15)
    throw invalidElement(o, 'password', 'must be 8..15 characters');
  return {
    brokerId: idAt(o, 'identificativoIntermediarioPA'),
    stationId: idAt(o, 'identificativoStazioneIntermediarioPA'),
    password,
  };
}

function decodeXmlAt(o: XmlObject, name: string): string {
  try {
    return base64XmlDecode(text(o, name));
  } catch (err) {
    if (err instanceof AppError) throw invalidElement(o, name, err.message);
    throw err;
  }
}

function optDecodeXmlAt(o: XmlObject, name: string): string | undefined {
  return o[name] === undefined ? undefined : decodeXmlAt(o, name);
}

function zeroOne(o: XmlObject, name: string): 0 | 1 | undefined {
  const v = optText(o, name);
  if (v === undefined) return undefined;
  if (v !== '0' && v !== '1') throw invalidElement(o, name, 'must be 0 or 1');
  return v === '1' ? 1 : 0;
}

function intAt(o: XmlObject, name: string, min = 0): number {
  const v = text(o, name);
  if (!/^\d{1,9}$/.test(v) || Number(v) < min)
    throw invalidElement(o, name, `not an integer ≥ ${min}`);
  return Number(v);
}

// ------------------------------------------------------------------------------------------------
// paaInviaRT (Node → EC).

export interface PaaInviaRTRequest {
  readonly header: PptHeader;
  /** tipoFirma; only "0" (no signature) is still in use, and the element defaults to it. */
  readonly signatureType: string;
  /** The RT document, decoded. */
  readonly rtXml: string;
}

export interface SimpleResponse {
  readonly fault?: FaultBean;
  readonly outcome: Outcome;
}

export function buildPaaInviaRTRequest(r: PaaInviaRTRequest): string {
  return soapEnvelope(
    wrapper('paaInviaRT', leaf('tipoFirma', r.signatureType), leaf('rt', base64XmlEncode(r.rtXml))),
    { headerXml: pptHeaderXml(r.header) },
  );
}

/**
 * Parses a paaInviaRT request (the RT stays a string: parse it with parseRt).
 * @throws AppError('xml-*') for a broken envelope, a missing header or an invalid base64 RT.
 */
export function parsePaaInviaRTRequest(xml: string): PaaInviaRTRequest {
  const env = expectOperation(xml, 'paaInviaRT');
  const p = env.payload;
  return {
    header: parsePptHeader(env),
    signatureType: optText(p, 'tipoFirma') || '0',
    rtXml: decodeXmlAt(p, 'rt'),
  };
}

function innerResponse(op: string, inner: string): string {
  return soapEnvelope(wrapper(op, el(op, inner)));
}

export function buildPaaInviaRTResponse(r: SimpleResponse): string {
  return innerResponse('paaInviaRTRisposta', faultXml(r.fault) + leaf('esito', r.outcome));
}

export function parsePaaInviaRTResponse(xml: string): SimpleResponse {
  const o = child(expectOperation(xml, 'paaInviaRTRisposta').payload, 'paaInviaRTRisposta');
  return { ...opt('fault', optFault(o)), outcome: outcomeAt(o) };
}

// ------------------------------------------------------------------------------------------------
// paaVerificaRPT / paaAttivaRPT (Node → EC, old model 3).

export type RemittancePart =
  { readonly text: string } | { readonly text: string; readonly amountCents: Cents };

/** The payment reason: free text (≤140) or 1..6 pieces (≤35 chars, or ≤25 chars with an amount). */
export type Remittance =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'parts'; readonly parts: readonly RemittancePart[] };

/** datiPagamentoPA: what the creditor answers (amount as of today, account to credit). */
export interface CreditorPaymentData {
  /** May be 0.00 in the XSD (pay_i:stImporto). */
  readonly amountCents: Cents;
  readonly creditIban: string;
  readonly creditBic?: string;
  readonly creditor?: Organisation;
  readonly payerCredentials?: string;
  readonly remittance: Remittance;
}

export interface PaymentDataResponse {
  readonly fault?: FaultBean;
  readonly outcome: Outcome;
  readonly paymentData?: CreditorPaymentData;
}

export interface PaaVerificaRPTRequest {
  readonly header: PptHeader;
  readonly pspId: string;
}

/** datiPagamentoPSP: what the PSP sends when activating. */
export interface PspPaymentData {
  readonly amountCents: Cents;
  readonly supportIban?: string;
  readonly supportBic?: string;
  readonly payer?: Person;
  readonly debitIban?: string;
  readonly debitBic?: string;
  readonly debtor?: Person;
}

export interface PaaAttivaRPTRequest {
  readonly header: PptHeader;
  readonly pspId: string;
  readonly pspPaymentData: PspPaymentData;
  readonly pspBrokerId: string;
  readonly pspChannelId: string;
}

export function buildPaaVerificaRPTRequest(r: PaaVerificaRPTRequest): string {
  return soapEnvelope(wrapper('paaVerificaRPT', leaf('identificativoPSP', r.pspId)), {
    headerXml: pptHeaderXml(r.header),
  });
}

export function parsePaaVerificaRPTRequest(xml: string): PaaVerificaRPTRequest {
  const env = expectOperation(xml, 'paaVerificaRPT');
  return { header: parsePptHeader(env), pspId: idAt(env.payload, 'identificativoPSP') };
}

export function buildPaaAttivaRPTRequest(r: PaaAttivaRPTRequest): string {
  const d = r.pspPaymentData;
  return soapEnvelope(
    wrapper(
      'paaAttivaRPT',
      leaf('identificativoPSP', r.pspId),
      el(
        'datiPagamentoPSP',
        leaf('importoSingoloVersamento', centsToDecimal(d.amountCents)),
        optLeaf('ibanAppoggio', d.supportIban),
        optLeaf('bicAppoggio', d.supportBic),
        d.payer && qualifiedPerson('soggettoVersante', payerXml(d.payer)),
        optLeaf('ibanAddebito', d.debitIban),
        optLeaf('bicAddebito', d.debitBic),
        d.debtor && qualifiedPerson('soggettoPagatore', debtorXml(d.debtor)),
      ),
      leaf('identificativoIntermediarioPSP', r.pspBrokerId),
      leaf('identificativoCanalePSP', r.pspChannelId),
    ),
    { headerXml: pptHeaderXml(r.header) },
  );
}

/** `<soggettoX>` unqualified with qualified children, as the WSDL's reuse of RPT types demands. */
function qualifiedPerson(tag: string, builtXml: string): string {
  const inner = builtXml.slice(tag.length + 2, builtXml.length - tag.length - 3);
  return elAttrs(tag, { 'xmlns:pay_i': PAGAMENTI_NS }, qualifyPagamenti(inner));
}

/**
 * Parses a paaAttivaRPT request.
 * @throws AppError('amount-invalid') for an amount not in `\d+\.\d{2}` form.
 */
export function parsePaaAttivaRPTRequest(xml: string): PaaAttivaRPTRequest {
  const env = expectOperation(xml, 'paaAttivaRPT');
  const p = env.payload;
  const d = child(p, 'datiPagamentoPSP');
  const payer = optChild(d, 'soggettoVersante');
  const debtor = optChild(d, 'soggettoPagatore');
  return {
    header: parsePptHeader(env),
    pspId: idAt(p, 'identificativoPSP'),
    pspPaymentData: {
      amountCents: decimalToCents(text(d, 'importoSingoloVersamento'), 'importoSingoloVersamento'),
      ...opt('supportIban', optIdAt(d, 'ibanAppoggio', 34)),
      ...opt('supportBic', optIdAt(d, 'bicAppoggio', 11)),
      ...opt('payer', payer === undefined ? undefined : parsePayer(payer)),
      ...opt('debitIban', optIdAt(d, 'ibanAddebito', 34)),
      ...opt('debitBic', optIdAt(d, 'bicAddebito', 11)),
      ...opt('debtor', debtor === undefined ? undefined : parseDebtor(debtor)),
    },
    pspBrokerId: idAt(p, 'identificativoIntermediarioPSP'),
    pspChannelId: idAt(p, 'identificativoCanalePSP'),
  };
}

function creditorPaymentDataXml(d: CreditorPaymentData | undefined): string {
  if (d === undefined) return '';
  const rem =
    d.remittance.kind === 'text'
      ? leaf('causaleVersamento', d.remittance.text)
      : el(
          'spezzoniCausaleVersamento',
          d.remittance.parts.map((part) =>
            'amountCents' in part
              ? el(
                  'spezzoneStrutturatoCausaleVersamento',
                  leaf('causaleSpezzone', part.text),
                  leaf('importoSpezzone', centsToDecimal(part.amountCents)),
                )
              : leaf('spezzoneCausaleVersamento', part.text),
          ),
        );
  return el(
    'datiPagamentoPA',
    leaf('importoSingoloVersamento', centsToDecimal(d.amountCents)),
    leaf('ibanAccredito', d.creditIban),
    optLeaf('bicAccredito', d.creditBic),
    d.creditor &&
      elAttrs(
        'enteBeneficiario',
        { 'xmlns:pay_i': PAGAMENTI_NS },
        qualifyPagamenti(creditorChildrenXml(d.creditor)),
      ),
    optLeaf('credenzialiPagatore', d.payerCredentials),
    rem,
  );
}

function parseCreditorPaymentData(o: XmlObject): CreditorPaymentData {
  const creditor = optChild(o, 'enteBeneficiario');
  const parts = optChild(o, 'spezzoniCausaleVersamento');
  let remittance: Remittance;
  if (parts !== undefined) {
    // A choice repeated 1..6 times: document order across the two element names is lost by the
    // object model, so free-text pieces come first, then structured ones.
    const texts = (
      Array.isArray(parts['spezzoneCausaleVersamento'])
        ? parts['spezzoneCausaleVersamento']
        : parts['spezzoneCausaleVersamento'] === undefined
          ? []
          : [parts['spezzoneCausaleVersamento']]
    ).map((v) => {
      if (typeof v !== 'string')
        throw invalidElement(parts, 'spezzoneCausaleVersamento', 'expected text');
      return { text: v };
    });
    const structured = listObjects(parts, 'spezzoneStrutturatoCausaleVersamento').map((s) => ({
      text: text(s, 'causaleSpezzone'),
      amountCents: decimalToCents(text(s, 'importoSpezzone'), 'importoSpezzone'),
    }));
    const all = [...texts, ...structured];
    if (all.length < 1 || all.length > 6)
      throw invalidElement(o, 'spezzoniCausaleVersamento', '1..6 pieces');
    remittance = { kind: 'parts', parts: all };
  } else {
    remittance = { kind: 'text', text: text(o, 'causaleVersamento') };
  }
  return {
    amountCents: decimalToCents(text(o, 'importoSingoloVersamento'), 'importoSingoloVersamento'),
    creditIban: idAt(o, 'ibanAccredito', 34),
    ...opt('creditBic', optIdAt(o, 'bicAccredito', 11)),
    ...opt('creditor', creditor === undefined ? undefined : parseCreditor(creditor)),
    ...opt('payerCredentials', optIdAt(o, 'credenzialiPagatore')),
    remittance,
  };
}

function buildPaymentDataResponse(op: string, r: PaymentDataResponse): string {
  return innerResponse(
    op,
    faultXml(r.fault) + leaf('esito', r.outcome) + creditorPaymentDataXml(r.paymentData),
  );
}

function parsePaymentDataResponse(xml: string, op: string): PaymentDataResponse {
  const o = child(expectOperation(xml, op).payload, op);
  const d = optChild(o, 'datiPagamentoPA');
  return {
    ...opt('fault', optFault(o)),
    outcome: outcomeAt(o),
    ...opt('paymentData', d === undefined ? undefined : parseCreditorPaymentData(d)),
  };
}

export const buildPaaVerificaRPTResponse = (r: PaymentDataResponse): string =>
  buildPaymentDataResponse('paaVerificaRPTRisposta', r);
export const parsePaaVerificaRPTResponse = (xml: string): PaymentDataResponse =>
  parsePaymentDataResponse(xml, 'paaVerificaRPTRisposta');
export const buildPaaAttivaRPTResponse = (r: PaymentDataResponse): string =>
  buildPaymentDataResponse('paaAttivaRPTRisposta', r);
export const parsePaaAttivaRPTResponse = (xml: string): PaymentDataResponse =>
  parsePaymentDataResponse(xml, 'paaAttivaRPTRisposta');

// ------------------------------------------------------------------------------------------------
// nodoInviaRPT / nodoInviaCarrelloRPT (EC → Node).

export interface PspRoute {
  readonly pspId: string;
  readonly pspBrokerId: string;
  readonly channelId: string;
}

export interface NodoInviaRPTRequest extends PspRoute {
  readonly header: PptHeader;
  readonly password: string;
  readonly signatureType?: string;
  /** The RPT document (see buildRpt). */
  readonly rptXml: string;
}

export interface NodoInviaRPTResponse {
  readonly fault?: FaultBean;
  readonly outcome: Outcome;
  readonly redirect?: 0 | 1;
  /** Where to send the citizen; contains `idSession=`. */
  readonly url?: string;
}

function routeXml(password: string, r: PspRoute): string {
  return (
    leaf('password', password) +
    leaf('identificativoPSP', r.pspId) +
    leaf('identificativoIntermediarioPSP', r.pspBrokerId) +
    leaf('identificativoCanale', r.channelId)
  );
}

function parseRoute(o: XmlObject): PspRoute & { password: string } {
  const password = text(o, 'password');
  if (password.length < 8 || password.length > 15)
    throw invalidElement(o, 'password', 'must be 8..15 characters');
  return {
    password,
    pspId: idAt(o, 'identificativoPSP'),
    pspBrokerId: idAt(o, 'identificativoIntermediarioPSP'),
    channelId: idAt(o, 'identificativoCanale'),
  };
}

export function buildNodoInviaRPTRequest(r: NodoInviaRPTRequest): string {
  return soapEnvelope(
    wrapper(
      'nodoInviaRPT',
      routeXml(r.password, r),
      optLeaf('tipoFirma', r.signatureType),
      leaf('rpt', base64XmlEncode(r.rptXml)),
    ),
    { headerXml: pptHeaderXml(r.header) },
  );
}

export function parseNodoInviaRPTRequest(xml: string): NodoInviaRPTRequest {
  const env = expectOperation(xml, 'nodoInviaRPT');
  const p = env.payload;
  return {
    header: parsePptHeader(env),
    ...parseRoute(p),
    ...opt('signatureType', optText(p, 'tipoFirma')),
    rptXml: decodeXmlAt(p, 'rpt'),
  };
}

export function buildNodoInviaRPTResponse(r: NodoInviaRPTResponse): string {
  return soapEnvelope(
    wrapper(
      'nodoInviaRPTRisposta',
      faultXml(r.fault),
      leaf('esito', r.outcome),
      optLeaf('redirect', r.redirect),
      optLeaf('url', r.url),
    ),
  );
}

export function parseNodoInviaRPTResponse(xml: string): NodoInviaRPTResponse {
  const o = expectOperation(xml, 'nodoInviaRPTRisposta').payload;
  return {
    ...opt('fault', optFault(o)),
    outcome: outcomeAt(o),
    ...opt('redirect', zeroOne(o, 'redirect')),
    ...opt('url', optText(o, 'url') || undefined),
  };
}

export interface CartItem {
  readonly domainId: string;
  readonly iuv: string;
  readonly ccp: string;
  readonly signatureType?: string;
  readonly rptXml: string;
}

export interface NodoInviaCarrelloRPTRequest extends PspRoute {
  readonly header: CartHeader;
  readonly password: string;
  /** 1..5 RPTs. */
  readonly items: readonly CartItem[];
  readonly requireLightPayment?: boolean;
  readonly conventionCode?: string;
  readonly multiBeneficiary?: boolean;
}

export interface NodoInviaCarrelloRPTResponse {
  readonly fault?: FaultBean;
  readonly outcome: Outcome;
  readonly url?: string;
  /** One fault per refused RPT; serial = its 1-based position in the cart. */
  readonly rptErrors: readonly FaultBean[];
}

/** @throws AppError('invalid-input') for an empty cart or more than 5 RPTs. */
export function buildNodoInviaCarrelloRPTRequest(r: NodoInviaCarrelloRPTRequest): string {
  if (r.items.length < 1 || r.items.length > 5) {
    throw new AppError('invalid-input', `a cart holds 1 to 5 RPTs, not ${r.items.length}`);
  }
  return soapEnvelope(
    wrapper(
      'nodoInviaCarrelloRPT',
      routeXml(r.password, r),
      el(
        'listaRPT',
        r.items.map((i) =>
          el(
            'elementoListaRPT',
            leaf('identificativoDominio', i.domainId),
            leaf('identificativoUnivocoVersamento', i.iuv),
            leaf('codiceContestoPagamento', i.ccp),
            optLeaf('tipoFirma', i.signatureType),
            leaf('rpt', base64XmlEncode(i.rptXml)),
          ),
        ),
      ),
      optLeaf(
        'requireLightPayment',
        r.requireLightPayment === undefined ? undefined : r.requireLightPayment ? 1 : 0,
      ),
      optLeaf('codiceConvenzione', r.conventionCode),
      optLeaf('multiBeneficiario', r.multiBeneficiary),
    ),
    {
      headerXml: elAttrs(
        'ppthead:intestazioneCarrelloPPT',
        { 'xmlns:ppthead': PPT_HEAD_NS },
        leaf('identificativoIntermediarioPA', r.header.brokerId),
        leaf('identificativoStazioneIntermediarioPA', r.header.stationId),
        leaf('identificativoCarrello', r.header.cartId),
      ),
    },
  );
}

export function parseNodoInviaCarrelloRPTRequest(xml: string): NodoInviaCarrelloRPTRequest {
  const env = expectOperation(xml, 'nodoInviaCarrelloRPT');
  if (env.header === undefined)
    throw new AppError('xml-schema-invalid', '/Envelope/Header: required');
  const h = child(env.header, 'intestazioneCarrelloPPT');
  const p = env.payload;
  const items = listObjects(child(p, 'listaRPT'), 'elementoListaRPT').map((i) => ({
    domainId: idAt(i, 'identificativoDominio'),
    iuv: idAt(i, 'identificativoUnivocoVersamento'),
    ccp: idAt(i, 'codiceContestoPagamento'),
    ...opt('signatureType', optText(i, 'tipoFirma')),
    rptXml: decodeXmlAt(i, 'rpt'),
  }));
  if (items.length < 1 || items.length > 5)
    throw invalidElement(p, 'listaRPT', '1..5 elementoListaRPT');
  const light = zeroOne(p, 'requireLightPayment');
  const multi = optText(p, 'multiBeneficiario');
  if (multi !== undefined && !['true', 'false', '1', '0'].includes(multi)) {
    throw invalidElement(p, 'multiBeneficiario', 'not a boolean');
  }
  return {
    header: {
      brokerId: idAt(h, 'identificativoIntermediarioPA'),
      stationId: idAt(h, 'identificativoStazioneIntermediarioPA'),
      cartId: idAt(h, 'identificativoCarrello'),
    },
    ...parseRoute(p),
    items,
    ...opt('requireLightPayment', light === undefined ? undefined : light === 1),
    ...opt('conventionCode', optIdAt(p, 'codiceConvenzione')),
    ...opt('multiBeneficiary', multi === undefined ? undefined : multi === 'true' || multi === '1'),
  };
}

export function buildNodoInviaCarrelloRPTResponse(r: NodoInviaCarrelloRPTResponse): string {
  return soapEnvelope(
    wrapper(
      'nodoInviaCarrelloRPTRisposta',
      faultXml(r.fault),
      leaf('esitoComplessivoOperazione', r.outcome),
      optLeaf('url', r.url),
      r.rptErrors.length > 0 && el('listaErroriRPT', r.rptErrors.map(faultXml)),
    ),
  );
}

export function parseNodoInviaCarrelloRPTResponse(xml: string): NodoInviaCarrelloRPTResponse {
  const o = expectOperation(xml, 'nodoInviaCarrelloRPTRisposta').payload;
  const errors = optChild(o, 'listaErroriRPT');
  return {
    ...opt('fault', optFault(o)),
    outcome: outcomeAt(o, 'esitoComplessivoOperazione'),
    ...opt('url', optText(o, 'url') || undefined),
    rptErrors: errors === undefined ? [] : listObjects(errors, 'fault').map(parseFaultBean),
  };
}

// ------------------------------------------------------------------------------------------------
// nodoChiediStatoRPT / nodoChiediCopiaRT (EC → Node).

export interface RptKeyRequest extends StationCredentials {
  readonly domainId: string;
  readonly iuv: string;
  readonly ccp: string;
}

function rptKeyXml(op: string, r: RptKeyRequest): string {
  return soapEnvelope(
    wrapper(
      op,
      credentialsXml(r),
      leaf('identificativoDominio', r.domainId),
      leaf('identificativoUnivocoVersamento', r.iuv),
      leaf('codiceContestoPagamento', r.ccp),
    ),
  );
}

function parseRptKey(xml: string, op: string): RptKeyRequest {
  const p = expectOperation(xml, op).payload;
  return {
    ...parseCredentials(p),
    domainId: idAt(p, 'identificativoDominio'),
    iuv: idAt(p, 'identificativoUnivocoVersamento'),
    ccp: idAt(p, 'codiceContestoPagamento'),
  };
}

export const buildNodoChiediStatoRPTRequest = (r: RptKeyRequest): string =>
  rptKeyXml('nodoChiediStatoRPT', r);
export const parseNodoChiediStatoRPTRequest = (xml: string): RptKeyRequest =>
  parseRptKey(xml, 'nodoChiediStatoRPT');
export const buildNodoChiediCopiaRTRequest = (r: RptKeyRequest): string =>
  rptKeyXml('nodoChiediCopiaRT', r);
export const parseNodoChiediCopiaRTRequest = (xml: string): RptKeyRequest =>
  parseRptKey(xml, 'nodoChiediCopiaRT');

export interface RptHistoryEntry {
  readonly at: string;
  readonly state: string;
  readonly description: string;
}

export interface PaymentHistoryEntry extends RptHistoryEntry {
  readonly progressive: number;
}

/** RPT_RICEVUTA_NODO ... RT_ACCETTATA_PA (PAGOPA.md §4), kept as a string: the Node adds states. */
export interface RptStatus {
  readonly state: string;
  readonly redirect?: 0 | 1;
  readonly url?: string;
  readonly rptHistory: readonly RptHistoryEntry[];
  readonly paymentHistory: readonly PaymentHistoryEntry[];
}

export interface NodoChiediStatoRPTResponse {
  readonly fault?: FaultBean;
  /** Mandatory in the XSD; lenient on input because a fault answer may omit it. */
  readonly status?: RptStatus;
}

export function buildNodoChiediStatoRPTResponse(r: NodoChiediStatoRPTResponse): string {
  const s = r.status;
  return soapEnvelope(
    wrapper(
      'nodoChiediStatoRPTRisposta',
      faultXml(r.fault),
      s &&
        el(
          'esito',
          leaf('stato', s.state),
          optLeaf('redirect', s.redirect),
          optLeaf('url', s.url),
          s.rptHistory.map((h) =>
            el(
              'elementoStoricoRPT',
              leaf('data', h.at),
              leaf('stato', h.state),
              leaf('descrizione', h.description),
            ),
          ),
          s.paymentHistory.map((h) =>
            el(
              'elementoStoricoVersamento',
              leaf('progressivo', h.progressive),
              leaf('data', h.at),
              leaf('stato', h.state),
              leaf('descrizione', h.description),
            ),
          ),
        ),
    ),
  );
}

export function parseNodoChiediStatoRPTResponse(xml: string): NodoChiediStatoRPTResponse {
  const o = expectOperation(xml, 'nodoChiediStatoRPTRisposta').payload;
  const e = optChild(o, 'esito');
  return {
    ...opt('fault', optFault(o)),
    ...opt(
      'status',
      e === undefined
        ? undefined
        : {
            state: text(e, 'stato'),
            ...opt('redirect', zeroOne(e, 'redirect')),
            ...opt('url', optText(e, 'url') || undefined),
            rptHistory: listObjects(e, 'elementoStoricoRPT').map((h) => ({
              at: isoDateTimeAt(h, 'data'),
              state: text(h, 'stato'),
              description: text(h, 'descrizione'),
            })),
            paymentHistory: listObjects(e, 'elementoStoricoVersamento').map((h) => ({
              progressive: intAt(h, 'progressivo'),
              at: isoDateTimeAt(h, 'data'),
              state: text(h, 'stato'),
              description: text(h, 'descrizione'),
            })),
          },
    ),
  };
}

export interface NodoChiediCopiaRTResponse {
  readonly fault?: FaultBean;
  readonly signatureType?: string;
  /** The RT document, decoded; absent when the Node has none. */
  readonly rtXml?: string;
}

export function buildNodoChiediCopiaRTResponse(r: NodoChiediCopiaRTResponse): string {
  return soapEnvelope(
    wrapper(
      'nodoChiediCopiaRTRisposta',
      faultXml(r.fault),
      optLeaf('tipoFirma', r.signatureType),
      r.rtXml !== undefined && leaf('rt', base64XmlEncode(r.rtXml)),
    ),
  );
}

export function parseNodoChiediCopiaRTResponse(xml: string): NodoChiediCopiaRTResponse {
  const o = expectOperation(xml, 'nodoChiediCopiaRTRisposta').payload;
  return {
    ...opt('fault', optFault(o)),
    ...opt('signatureType', optText(o, 'tipoFirma')),
    ...opt('rtXml', optDecodeXmlAt(o, 'rt')),
  };
}

// ------------------------------------------------------------------------------------------------
// nodoChiediListaPendentiRPT (EC → Node).

export interface NodoChiediListaPendentiRPTRequest extends StationCredentials {
  readonly domainId?: string;
  readonly from?: string;
  readonly to?: string;
  /** dimensioneLista, ≥ 1. */
  readonly maxResults: number;
}

export interface PendingRpt {
  readonly domainId: string;
  readonly iuv: string;
  readonly ccp: string;
  readonly state: string;
}

export interface NodoChiediListaPendentiRPTResponse {
  readonly fault?: FaultBean;
  readonly pending?: { readonly totalReturned: number; readonly items: readonly PendingRpt[] };
}

/** @throws AppError('invalid-input') when maxResults is not a positive integer. */
export function buildNodoChiediListaPendentiRPTRequest(
  r: NodoChiediListaPendentiRPTRequest,
): string {
  if (!Number.isSafeInteger(r.maxResults) || r.maxResults < 1) {
    throw new AppError('invalid-input', 'dimensioneLista must be a positive integer');
  }
  return soapEnvelope(
    wrapper(
      'nodoChiediListaPendentiRPT',
      credentialsXml(r),
      optLeaf('identificativoDominio', r.domainId),
      optLeaf('rangeDa', r.from),
      optLeaf('rangeA', r.to),
      leaf('dimensioneLista', r.maxResults),
    ),
  );
}

export function parseNodoChiediListaPendentiRPTRequest(
  xml: string,
): NodoChiediListaPendentiRPTRequest {
  const p = expectOperation(xml, 'nodoChiediListaPendentiRPT').payload;
  return {
    ...parseCredentials(p),
    ...opt('domainId', optIdAt(p, 'identificativoDominio')),
    ...opt('from', optIsoDateTimeAt(p, 'rangeDa')),
    ...opt('to', optIsoDateTimeAt(p, 'rangeA')),
    maxResults: intAt(p, 'dimensioneLista', 1),
  };
}

export function buildNodoChiediListaPendentiRPTResponse(
  r: NodoChiediListaPendentiRPTResponse,
): string {
  return soapEnvelope(
    wrapper(
      'nodoChiediListaPendentiRPTRisposta',
      faultXml(r.fault),
      r.pending &&
        el(
          'listaRPTPendenti',
          leaf('totRestituiti', r.pending.totalReturned),
          r.pending.items.map((i) =>
            el(
              'rptPendente',
              leaf('identificativoDominio', i.domainId),
              leaf('identificativoUnivocoVersamento', i.iuv),
              leaf('codiceContestoPagamento', i.ccp),
              leaf('stato', i.state),
            ),
          ),
        ),
    ),
  );
}

export function parseNodoChiediListaPendentiRPTResponse(
  xml: string,
): NodoChiediListaPendentiRPTResponse {
  const o = expectOperation(xml, 'nodoChiediListaPendentiRPTRisposta').payload;
  const l = optChild(o, 'listaRPTPendenti');
  return {
    ...opt('fault', optFault(o)),
    ...opt(
      'pending',
      l === undefined
        ? undefined
        : {
            totalReturned: intAt(l, 'totRestituiti'),
            items: listObjects(l, 'rptPendente').map((i) => ({
              domainId: idAt(i, 'identificativoDominio'),
              iuv: idAt(i, 'identificativoUnivocoVersamento'),
              ccp: idAt(i, 'codiceContestoPagamento'),
              state: text(i, 'stato'),
            })),
          },
    ),
  };
}

// ------------------------------------------------------------------------------------------------
// nodoChiediElencoFlussiRendicontazione / nodoChiediFlussoRendicontazione (EC → Node).

export interface NodoChiediElencoFlussiRequest extends StationCredentials {
  readonly domainId?: string;
  readonly pspId?: string;
}

export interface FlowListEntry {
  readonly flowId: string;
  readonly flowDateTime: string;
}

export interface NodoChiediElencoFlussiResponse {
  readonly fault?: FaultBean;
  readonly flows?: { readonly totalReturned: number; readonly items: readonly FlowListEntry[] };
}

export interface NodoChiediFlussoRequest extends NodoChiediElencoFlussiRequest {
  readonly flowId: string;
}

export interface NodoChiediFlussoResponse {
  readonly fault?: FaultBean;
  /** The FlussoRiversamento document, decoded; absent when the creditor is set up for SFTP. */
  readonly flowXml?: string;
}

function flowQueryChildren(r: NodoChiediElencoFlussiRequest): string {
  return (
    credentialsXml(r) +
    optLeaf('identificativoDominio', r.domainId) +
    optLeaf('identificativoPSP', r.pspId)
  );
}

function parseFlowQuery(p: XmlObject): NodoChiediElencoFlussiRequest {
  return {
    ...parseCredentials(p),
    ...opt('domainId', optIdAt(p, 'identificativoDominio')),
    ...opt('pspId', optIdAt(p, 'identificativoPSP')),
  };
}

export function buildNodoChiediElencoFlussiRequest(r: NodoChiediElencoFlussiRequest): string {
  return soapEnvelope(wrapper('nodoChiediElencoFlussiRendicontazione', flowQueryChildren(r)));
}

export function parseNodoChiediElencoFlussiRequest(xml: string): NodoChiediElencoFlussiRequest {
  return parseFlowQuery(expectOperation(xml, 'nodoChiediElencoFlussiRendicontazione').payload);
}

export function buildNodoChiediElencoFlussiResponse(r: NodoChiediElencoFlussiResponse): string {
  return soapEnvelope(
    wrapper(
      'nodoChiediElencoFlussiRendicontazioneRisposta',
      faultXml(r.fault),
      r.flows &&
        el(
          'elencoFlussiRendicontazione',
          leaf('totRestituiti', r.flows.totalReturned),
          r.flows.items.map((f) =>
            el(
              'idRendicontazione',
              leaf('identificativoFlusso', f.flowId),
              leaf('dataOraFlusso', f.flowDateTime),
            ),
          ),
        ),
    ),
  );
}

export function parseNodoChiediElencoFlussiResponse(xml: string): NodoChiediElencoFlussiResponse {
  const o = expectOperation(xml, 'nodoChiediElencoFlussiRendicontazioneRisposta').payload;
  const l = optChild(o, 'elencoFlussiRendicontazione');
  return {
    ...opt('fault', optFault(o)),
    ...opt(
      'flows',
      l === undefined
        ? undefined
        : {
            totalReturned: intAt(l, 'totRestituiti'),
            items: listObjects(l, 'idRendicontazione').map((f) => ({
              flowId: idAt(f, 'identificativoFlusso', 70),
              flowDateTime: isoDateTimeAt(f, 'dataOraFlusso'),
            })),
          },
    ),
  };
}

export function buildNodoChiediFlussoRequest(r: NodoChiediFlussoRequest): string {
  return soapEnvelope(
    wrapper(
      'nodoChiediFlussoRendicontazione',
      flowQueryChildren(r),
      leaf('identificativoFlusso', r.flowId),
    ),
  );
}

export function parseNodoChiediFlussoRequest(xml: string): NodoChiediFlussoRequest {
  const p = expectOperation(xml, 'nodoChiediFlussoRendicontazione').payload;
  return { ...parseFlowQuery(p), flowId: idAt(p, 'identificativoFlusso', 70) };
}

export function buildNodoChiediFlussoResponse(r: NodoChiediFlussoResponse): string {
  return soapEnvelope(
    wrapper(
      'nodoChiediFlussoRendicontazioneRisposta',
      faultXml(r.fault),
      r.flowXml !== undefined && leaf('xmlRendicontazione', base64XmlEncode(r.flowXml)),
    ),
  );
}

export function parseNodoChiediFlussoResponse(xml: string): NodoChiediFlussoResponse {
  const o = expectOperation(xml, 'nodoChiediFlussoRendicontazioneRisposta').payload;
  return {
    ...opt('fault', optFault(o)),
    ...opt('flowXml', optDecodeXmlAt(o, 'xmlRendicontazione')),
  };
}

// ------------------------------------------------------------------------------------------------

/** Operations we expose to the Node on the old model, for request routing. */
export const EXPOSED_OLD_MODEL_OPERATIONS = [
  'paaInviaRT',
  'paaVerificaRPT',
  'paaAttivaRPT',
] as const;
export type ExposedOldModelOperation = (typeof EXPOSED_OLD_MODEL_OPERATIONS)[number];

/**
 * Which exposed operation an inbound envelope carries.
 * @throws AppError('unknown-operation') for anything else.
 */
export function exposedOperationOf(xml: string): ExposedOldModelOperation {
  const env = parseSoapEnvelope(xml);
  const op = (EXPOSED_OLD_MODEL_OPERATIONS as readonly string[]).find((o) => o === env.operation);
  if (op === undefined) {
    throw new AppError('unknown-operation', `operation ${env.operation} is not served here`, {
      operation: env.operation,
      children: elementKeys(env.body),
    });
  }
  return op as ExposedOldModelOperation;
}
