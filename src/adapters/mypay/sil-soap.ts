/**
 * The SOAP bodies of MyPay's "SIL" services we call (wsdl/mypay/pa-per-ente.wsdl):
 * paaSILImportaDovuto, paaSILInviaDovuti and paaSILChiediPagati. Requests are built and answers
 * parsed here; the opposite pair exists for the simulator and the tests, with the same rules.
 *
 * Wire rules (MyPay's pa-per-ente.wsdl): wrappers in `http://www.regione.veneto.it/pagamenti/ente/`
 * with unqualified children; the header `intestazionePPT{codIpaEnte}` in `.../ente/ppthead` on
 * ImportaDovuto and InviaDovuti (ChiediPagati carries codIpaEnte in the body instead). The Dovuti,
 * Versamento and Pagati documents travel base64-encoded (see documents.ts). Answers have an
 * optional faultBean first; `esito` is OK or KO where present.
 */
import { AppError } from '../../domain/errors';
import { faultXml, readFault, type Fault } from '../pagopa/pa-for-node/common';
import { opt } from '../pagopa/rpt-rt';
import {
  base64XmlDecode,
  base64XmlEncode,
  child,
  elAttrs,
  invalidElement,
  leaf,
  optLeaf,
  optText,
  parseSoapEnvelope,
  soapEnvelope,
  text,
  type ParsedSoapEnvelope,
  type XmlObject,
} from '../pagopa/xml';

export const MYPAY_SIL_NS = 'http://www.regione.veneto.it/pagamenti/ente/';
export const MYPAY_HEAD_NS = 'http://www.regione.veneto.it/pagamenti/ente/ppthead';

export type { Fault };

/** Who calls: the tenant's IPA code and, when MyPay gave one, the password (8..15). */
export interface MyPayCaller {
  readonly ipaCode: string;
  /** A secret: never logged. */
  readonly password?: string;
}

function checkCaller(c: MyPayCaller): void {
  if (c.ipaCode.length < 1 || c.ipaCode.length > 35) {
    throw new AppError('invalid-input', 'codIpaEnte: 1..35 characters expected');
  }
  if (c.password !== undefined && (c.password.length < 8 || c.password.length > 15)) {
    throw new AppError('invalid-input', 'password: 8..15 characters expected');
  }
}

function wrapper(op: string, ...children: string[]): string {
  return elAttrs(`ppt:${op}`, { 'xmlns:ppt': MYPAY_SIL_NS }, ...children);
}

function headerXml(c: MyPayCaller): string {
  return elAttrs(
    'ppthead:intestazionePPT',
    { 'xmlns:ppthead': MYPAY_HEAD_NS },
    leaf('codIpaEnte', c.ipaCode),
  );
}

function readHeader(env: ParsedSoapEnvelope): string {
  if (env.header === undefined)
    throw new AppError('xml-schema-invalid', '/Envelope/Header: required');
  return text(child(env.header, 'intestazionePPT'), 'codIpaEnte');
}

/**
 * The payload of the expected element.
 * @throws AppError('upstream-error') for a SOAP Fault, with faultcode/faultstring in details.
 * @throws AppError('xml-schema-invalid') when the body holds another element.
 */
function expect(xml: string, op: string): ParsedSoapEnvelope {
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

function decodeAt(o: XmlObject, name: string): string {
  try {
    return base64XmlDecode(text(o, name));
  } catch (err) {
    if (err instanceof AppError) throw invalidElement(o, name, err.message);
    throw err;
  }
}

function optPassword(o: XmlObject): string | undefined {
  return optText(o, 'password');
}

function esitoAt(o: XmlObject): 'OK' | 'KO' | undefined {
  const v = optText(o, 'esito');
  if (v === undefined) return undefined;
  if (v !== 'OK' && v !== 'KO') throw invalidElement(o, 'esito', `"${v}" is not OK or KO`);
  return v;
}

// ------------------------------------------------------------------------------------------------
// paaSILImportaDovuto

export interface ImportaDovutoRequest {
  readonly caller: MyPayCaller;
  /** The Versamento document. */
  readonly versamentoXml: string;
  readonly generateIuv?: boolean;
}

export interface ImportaDovutoResponse {
  readonly fault?: Fault;
  readonly outcome?: 'OK' | 'KO';
  readonly iuv?: string;
  readonly noticeUrl?: string;
  /** base64ZipAvviso, kept encoded (a zip of the notice PDF). */
  readonly noticeZipBase64?: string;
}

export function buildImportaDovutoRequest(r: ImportaDovutoRequest): string {
  checkCaller(r.caller);
  return soapEnvelope(
    wrapper(
      'paaSILImportaDovuto',
      optLeaf('password', r.caller.password),
      leaf('dovuto', base64XmlEncode(r.versamentoXml)),
      optLeaf('flagGeneraIuv', r.generateIuv),
    ),
    { headerXml: headerXml(r.caller) },
  );
}

export function parseImportaDovutoRequest(xml: string): ImportaDovutoRequest {
  const env = expect(xml, 'paaSILImportaDovuto');
  const p = env.payload;
  const flag = optText(p, 'flagGeneraIuv');
  const password = optPassword(p);
  return {
    caller: { ipaCode: readHeader(env), ...opt('password', password) },
    versamentoXml: decodeAt(p, 'dovuto'),
    ...opt('generateIuv', flag === undefined ? undefined : flag === 'true' || flag === '1'),
  };
}

export function buildImportaDovutoResponse(r: ImportaDovutoResponse): string {
  return soapEnvelope(
    wrapper(
      'paaSILImportaDovutoRisposta',
      faultXml(r.fault),
      optLeaf('esito', r.outcome),
      optLeaf('identificativoUnivocoVersamento', r.iuv),
      optLeaf('urlFileAvviso', r.noticeUrl),
      optLeaf('base64ZipAvviso', r.noticeZipBase64),
    ),
  );
}

export function parseImportaDovutoResponse(xml: string): ImportaDovutoResponse {
  const o = expect(xml, 'paaSILImportaDovutoRisposta').payload;
  return {
    ...opt('fault', readFault(o)),
    ...opt('outcome', esitoAt(o)),
    ...opt('iuv', optText(o, 'identificativoUnivocoVersamento') || undefined),
    ...opt('noticeUrl', optText(o, 'urlFileAvviso') || undefined),
    ...opt('noticeZipBase64', optText(o, 'base64ZipAvviso') || undefined),
  };
}

// ------------------------------------------------------------------------------------------------
// paaSILInviaDovuti

export interface InviaDovutiRequest {
  readonly caller: MyPayCaller;
  /** The Dovuti document. */
  readonly dovutiXml: string;
  /** enteSILInviaRispostaPagamentoUrl: where MyPay sends the citizen back. */
  readonly returnUrl?: string;
}

export interface InviaDovutiResponse {
  readonly fault?: Fault;
  readonly outcome?: 'OK' | 'KO';
  readonly sessionId?: string;
  readonly redirect?: number;
  readonly url?: string;
}

export function buildInviaDovutiRequest(r: InviaDovutiRequest): string {
  checkCaller(r.caller);
  return soapEnvelope(
    wrapper(
      'paaSILInviaDovuti',
      optLeaf('password', r.caller.password),
      leaf('dovuti', base64XmlEncode(r.dovutiXml)),
      optLeaf('enteSILInviaRispostaPagamentoUrl', r.returnUrl),
    ),
    { headerXml: headerXml(r.caller) },
  );
}

export function parseInviaDovutiRequest(xml: string): InviaDovutiRequest {
  const env = expect(xml, 'paaSILInviaDovuti');
  const p = env.payload;
  const password = optPassword(p);
  return {
    caller: { ipaCode: readHeader(env), ...opt('password', password) },
    dovutiXml: decodeAt(p, 'dovuti'),
    ...opt('returnUrl', optText(p, 'enteSILInviaRispostaPagamentoUrl') || undefined),
  };
}

export function buildInviaDovutiResponse(r: InviaDovutiResponse): string {
  return soapEnvelope(
    wrapper(
      'paaSILInviaDovutiRisposta',
      faultXml(r.fault),
      optLeaf('esito', r.outcome),
      optLeaf('idSession', r.sessionId),
      optLeaf('redirect', r.redirect),
      optLeaf('url', r.url),
    ),
  );
}

export function parseInviaDovutiResponse(xml: string): InviaDovutiResponse {
  const o = expect(xml, 'paaSILInviaDovutiRisposta').payload;
  const redirect = optText(o, 'redirect');
  if (redirect !== undefined && redirect !== '' && !/^-?\d{1,9}$/.test(redirect)) {
    throw invalidElement(o, 'redirect', 'not an integer');
  }
  return {
    ...opt('fault', readFault(o)),
    ...opt('outcome', esitoAt(o)),
    ...opt('sessionId', optText(o, 'idSession') || undefined),
    ...opt('redirect', redirect === undefined || redirect === '' ? undefined : Number(redirect)),
    ...opt('url', optText(o, 'url') || undefined),
  };
}

// ------------------------------------------------------------------------------------------------
// paaSILChiediPagati

export interface ChiediPagatiRequest {
  readonly caller: MyPayCaller;
  readonly sessionId: string;
}

export interface ChiediPagatiResponse {
  readonly fault?: Fault;
  /** The Pagati document, decoded. */
  readonly pagatiXml?: string;
}

export function buildChiediPagatiRequest(r: ChiediPagatiRequest): string {
  checkCaller(r.caller);
  if (r.sessionId === '') throw new AppError('invalid-input', 'idSession must not be empty');
  return soapEnvelope(
    wrapper(
      'paaSILChiediPagati',
      leaf('codIpaEnte', r.caller.ipaCode),
      optLeaf('password', r.caller.password),
      leaf('idSession', r.sessionId),
    ),
  );
}

export function parseChiediPagatiRequest(xml: string): ChiediPagatiRequest {
  const p = expect(xml, 'paaSILChiediPagati').payload;
  const password = optPassword(p);
  return {
    caller: { ipaCode: text(p, 'codIpaEnte'), ...opt('password', password) },
    sessionId: text(p, 'idSession'),
  };
}

export function buildChiediPagatiResponse(r: ChiediPagatiResponse): string {
  return soapEnvelope(
    wrapper(
      'paaSILChiediPagatiRisposta',
      faultXml(r.fault),
      r.pagatiXml === undefined ? '' : leaf('pagati', base64XmlEncode(r.pagatiXml)),
    ),
  );
}

export function parseChiediPagatiResponse(xml: string): ChiediPagatiResponse {
  const o = expect(xml, 'paaSILChiediPagatiRisposta').payload;
  const b64 = optText(o, 'pagati');
  return {
    ...opt('fault', readFault(o)),
    ...opt('pagatiXml', b64 === undefined || b64 === '' ? undefined : decodeAt(o, 'pagati')),
  };
}
