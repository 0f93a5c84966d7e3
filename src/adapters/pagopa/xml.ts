/**
 * The XML layer shared by every pagoPA message module (old model, new model, reporting flows).
 *
 * Why one module: every inbound document goes through the same safety gate (no DOCTYPE, no entity
 * declarations, well-formedness) and the same lenient reading rules (namespace prefixes stripped,
 * every value a string), so the message modules only deal with names and business rules.
 * Outbound documents are built as strings in XSD sequence order: that is the fastest way to emit
 * XML and keeps the element order, which the schemas check, visible in the code.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AppError } from '../../domain/errors';
import { plainXmlTree } from './xml-tree';

/** A parsed element: child elements by local name, attributes under `@_`, mixed text under `#text`. */
export type XmlObject = { [k: string]: XmlValue };
/** A leaf is a string (empty for `<a/>`), a repeated element is an array. */
export type XmlValue = string | XmlObject | XmlValue[];

export const ATTRIBUTE_PREFIX = '@_';
export const TEXT_KEY = '#text';
export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

const FORBIDDEN = /<!\s*(doctype|entity)/i;

const XML_ENTITIES = { amp: '&', apos: "'", gt: '>', lt: '<', quot: '"' };

export const PARSER_OPTIONS = {
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  textNodeName: TEXT_KEY,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
} as const;

const parser = new XMLParser({
  ...PARSER_OPTIONS,
  // Only the five predefined entities plus character references: fast-xml-parser 5 decodes `&#233;`
  // only when htmlEntities is truthy, and an explicit map (supported at runtime, typed as boolean)
  // keeps HTML names like `&nbsp;` out. DOCTYPE is refused before this point.
  processEntities: true,
  htmlEntities: XML_ENTITIES as unknown as boolean,
});

/*
 * For documents without a single `&` there is nothing to decode, and entity processing (a dozen
 * regex replacements per value) was 40 % of the parse of a paSendRT; most receipts have none.
 */
const parserWithoutEntities = new XMLParser({ ...PARSER_OPTIONS, processEntities: false });

/**
 * Refuses documents that could expand entities or reach external resources (XXE, billion laughs).
 *
 * Why a textual check before parsing: no DTD is legitimate in any pagoPA message, so refusing the
 * construct anywhere (even inside a comment) costs nothing and does not depend on parser options.
 * @throws AppError('xml-malformed') for an empty or non-XML input.
 * @throws AppError('xml-forbidden-construct') for `<!DOCTYPE` or `<!ENTITY`, in any case.
 */
export function assertSafeXml(xml: string): void {
  if (typeof xml !== 'string' || xml.trim() === '') {
    throw new AppError('xml-malformed', 'empty XML document');
  }
  const start = xml.replace(/^\uFEFF/, '').trimStart();
  if (!start.startsWith('<')) {
    throw new AppError('xml-malformed', 'not an XML document');
  }
  const m = FORBIDDEN.exec(xml);
  if (m) {
    throw new AppError(
      'xml-forbidden-construct',
      `XML documents with <!${m[1]!.toUpperCase()}> are refused`,
      {
        offset: m.index,
      },
    );
  }
}

/**
 * Parses a document into plain objects keyed by local names (prefixes stripped), all values strings.
 * @throws AppError('xml-forbidden-construct') see {@link assertSafeXml}.
 * @throws AppError('xml-malformed') when the document is not well-formed, with the parser's reason.
 */
export function parseXml(xml: string): XmlObject {
  assertSafeXml(xml);
  const doc = xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml;
  const hasReferences = doc.includes('&');
  // A well-formed document in the plain subset (most of what the node sends) is checked and built
  // in one pass (xml-tree.ts); anything else goes through the validator and the parser.
  const plain = hasReferences ? undefined : plainXmlTree(doc);
  if (plain !== undefined) return plain;
  const check = XMLValidator.validate(doc);
  if (check !== true) {
    throw new AppError('xml-malformed', `XML not well-formed: ${check.err.msg}`, {
      line: check.err.line,
      column: check.err.col,
    });
  }
  const parsed: unknown = (hasReferences ? parser : parserWithoutEntities).parse(doc);
  if (!isObject(parsed) || elementKeys(parsed).length !== 1) {
    throw new AppError('xml-malformed', 'XML document must have exactly one root element');
  }
  return parsed;
}

// ------------------------------------------------------------------------------------------------
// Lenient typed accessors. Paths are tracked so that an error names the missing element.

const paths = new WeakMap<object, string>();

function pathOf(obj: XmlObject): string {
  return paths.get(obj) ?? '';
}

function remember<T extends XmlValue>(parent: XmlObject, name: string, value: T): T {
  if (typeof value === 'object' && value !== null) paths.set(value, `${pathOf(parent)}/${name}`);
  return value;
}

export function isObject(v: unknown): v is XmlObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Names of the child elements of `obj`, in document order, without attributes and text. */
export function elementKeys(obj: XmlObject): string[] {
  return Object.keys(obj).filter((k) => !k.startsWith(ATTRIBUTE_PREFIX) && k !== TEXT_KEY);
}

function schemaError(obj: XmlObject, name: string, what: string): AppError {
  const path = `${pathOf(obj)}/${name}`;
  return new AppError('xml-schema-invalid', `${path}: ${what}`, { path });
}

/** The element path recorded for an object returned by these accessors ('' for a root). */
export function elementPath(obj: XmlObject, name?: string): string {
  return name === undefined ? pathOf(obj) : `${pathOf(obj)}/${name}`;
}

/** An AppError('xml-schema-invalid') naming the element, for callers' own checks. */
export function invalidElement(obj: XmlObject, name: string, what: string): AppError {
  return schemaError(obj, name, what);
}

function asObject(parent: XmlObject, name: string, v: XmlValue): XmlObject {
  if (Array.isArray(v)) throw schemaError(parent, name, 'expected one element, found several');
  // `<a/>` and `<a> </a>` parse to '' and are an element with no children.
  if (typeof v === 'string') {
    if (v !== '') throw schemaError(parent, name, 'expected child elements, found text');
    return remember(parent, name, {});
  }
  return remember(parent, name, v);
}

/**
 * A required single child element.
 * @throws AppError('xml-schema-invalid') when it is missing, repeated or holds only text.
 */
export function child(obj: XmlObject, name: string): XmlObject {
  const v = obj[name];
  if (v === undefined) throw schemaError(obj, name, 'required element missing');
  return asObject(obj, name, v);
}

/** An optional single child element. @throws AppError('xml-schema-invalid') when repeated. */
export function optChild(obj: XmlObject, name: string): XmlObject | undefined {
  const v = obj[name];
  return v === undefined ? undefined : asObject(obj, name, v);
}

/** The key of the first child whose name matches one of `names` ignoring case (`standin`/`standIn`). */
export function findKeyCaseInsensitive(obj: XmlObject, ...names: string[]): string | undefined {
  for (const n of names) if (obj[n] !== undefined) return n;
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  return Object.keys(obj).find((k) => wanted.has(k.toLowerCase()));
}

/**
 * The raw value of the first child whose name matches one of `names` ignoring case, or undefined.
 * Use with {@link text}-style helpers below when the wild spells an element several ways.
 */
export function childCaseInsensitive(obj: XmlObject, ...names: string[]): XmlValue | undefined {
  const key = findKeyCaseInsensitive(obj, ...names);
  return key === undefined ? undefined : remember(obj, key, obj[key]!);
}

function asText(parent: XmlObject, name: string, v: XmlValue): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) throw schemaError(parent, name, 'expected one element, found several');
  const t = v[TEXT_KEY];
  if (elementKeys(v).length > 0) throw schemaError(parent, name, 'expected text, found elements');
  return typeof t === 'string' ? t : '';
}

/**
 * The trimmed text of a required leaf element ('' for an empty element).
 * @throws AppError('xml-schema-invalid') when it is missing, repeated or has child elements.
 */
export function text(obj: XmlObject, name: string): string {
  const v = obj[name];
  if (v === undefined) throw schemaError(obj, name, 'required element missing');
  return asText(obj, name, v);
}

/**
 * Like {@link text} but requires non-empty content.
 * @throws AppError('xml-schema-invalid') when missing or empty.
 */
export function nonEmptyText(obj: XmlObject, name: string): string {
  const t = text(obj, name);
  if (t === '') throw schemaError(obj, name, 'must not be empty');
  return t;
}

/** The text of an optional leaf; an absent element gives undefined. */
export function optText(obj: XmlObject, name: string): string | undefined {
  const v = obj[name];
  return v === undefined ? undefined : asText(obj, name, v);
}

/** The text of a leaf spelled in any case among `names`, or undefined. */
export function optTextCaseInsensitive(obj: XmlObject, ...names: string[]): string | undefined {
  const key = findKeyCaseInsensitive(obj, ...names);
  return key === undefined ? undefined : asText(obj, key, obj[key]!);
}

/**
 * Like {@link optTextCaseInsensitive} but required.
 * @throws AppError('xml-schema-invalid') when no spelling is present.
 */
export function textCaseInsensitive(obj: XmlObject, ...names: string[]): string {
  const t = optTextCaseInsensitive(obj, ...names);
  if (t === undefined) throw schemaError(obj, names[0] ?? '?', 'required element missing');
  return t;
}

/** Every occurrence of a repeatable element, always as an array (empty when absent). */
export function list(obj: XmlObject, name: string): XmlValue[] {
  const v = obj[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Every occurrence of a repeatable complex element, as objects. */
export function listObjects(obj: XmlObject, name: string): XmlObject[] {
  return list(obj, name).map((v, i) => asObject(obj, `${name}[${i + 1}]`, v));
}

/** Every occurrence of a repeatable leaf element, as strings. */
export function listTexts(obj: XmlObject, name: string): string[] {
  return list(obj, name).map((v, i) => asText(obj, `${name}[${i + 1}]`, v));
}

/** An attribute value by local name (prefix stripped), or undefined. */
export function attr(obj: XmlObject, name: string): string | undefined {
  const v = obj[ATTRIBUTE_PREFIX + name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * The single root element of a parsed document.
 * @throws AppError('xml-schema-invalid') when the root is not one of `expected` (local names).
 */
export function rootElement(
  doc: XmlObject,
  ...expected: string[]
): { name: string; element: XmlObject } {
  const name = elementKeys(doc)[0];
  if (name === undefined || (expected.length > 0 && !expected.includes(name))) {
    throw new AppError(
      'xml-schema-invalid',
      `root element is ${name ?? 'missing'}, expected ${expected.join(' or ')}`,
      { root: name },
    );
  }
  return { name, element: asObject({}, name, doc[name]!) };
}

// ------------------------------------------------------------------------------------------------
// Building.

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
const TO_ESCAPE = /[&<>"']/g;
// XML 1.0 forbids most C0 controls even as character references.
const INVALID_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/; // eslint-disable-line no-control-regex

/**
 * Escapes text for element content and attribute values.
 * @throws AppError('invalid-input') for characters XML 1.0 cannot carry (C0 controls).
 */
export function escapeXml(value: string): string {
  if (INVALID_CHARS.test(value)) {
    throw new AppError('invalid-input', 'text contains characters not allowed in XML');
  }
  return value.replace(TO_ESCAPE, (c) => ESCAPES[c]!);
}

/** Children of {@link el}: strings are already-built XML; null/undefined/false are skipped. */
export type XmlPart = string | null | undefined | false | readonly XmlPart[];

function joinParts(parts: readonly XmlPart[]): string {
  let out = '';
  for (const p of parts) {
    if (p === null || p === undefined || p === false) continue;
    out += typeof p === 'string' ? p : joinParts(p);
  }
  return out;
}

function renderAttrs(attrs: Readonly<Record<string, string | undefined>>): string {
  let out = '';
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) out += ` ${k}="${escapeXml(v)}"`;
  return out;
}

/** A complex element whose children are already-built XML strings, emitted in the given order. */
export function el(name: string, ...children: XmlPart[]): string {
  return `<${name}>${joinParts(children)}</${name}>`;
}

/** Like {@link el} with attributes (e.g. namespace declarations). */
export function elAttrs(
  name: string,
  attrs: Readonly<Record<string, string | undefined>>,
  ...children: XmlPart[]
): string {
  return `<${name}${renderAttrs(attrs)}>${joinParts(children)}</${name}>`;
}

/** A leaf element with escaped text. */
export function leaf(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A leaf element, or nothing when the value is undefined (optional XSD elements). */
export function optLeaf(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : leaf(name, value);
}

/** A whole document: the XML declaration followed by the root element. */
export function buildXml(rootXml: string, opts: { declaration?: boolean } = {}): string {
  return opts.declaration === false ? rootXml : `<?xml version="1.0" encoding="UTF-8"?>${rootXml}`;
}

// ------------------------------------------------------------------------------------------------
// SOAP 1.1.

/** A SOAP 1.1 envelope (prefix `soapenv`) around an already-built body element. */
export function soapEnvelope(bodyXml: string, opts: { headerXml?: string } = {}): string {
  const header =
    opts.headerXml === undefined ? '' : `<soapenv:Header>${opts.headerXml}</soapenv:Header>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}">${header}` +
    `<soapenv:Body>${bodyXml}</soapenv:Body></soapenv:Envelope>`
  );
}

export interface ParsedSoapEnvelope {
  /** The Header element, when present. */
  readonly header?: XmlObject;
  /** The Body element (its only child is `body[operation]`). */
  readonly body: XmlObject;
  /** Local name of the Body's first child: the operation, or `Fault`. */
  readonly operation: string;
  /** The Body's first child element itself (`body[operation]`), `{}` when it is empty. */
  readonly payload: XmlObject;
}

/**
 * Parses a SOAP envelope (any prefix, SOAP 1.1 or 1.2 namespace).
 * @throws AppError('xml-malformed') see {@link parseXml}; also when the root is not an Envelope.
 * @throws AppError('xml-schema-invalid') when the Body is missing or empty.
 */
export function parseSoapEnvelope(xml: string): ParsedSoapEnvelope {
  const doc = parseXml(xml);
  const envelope = doc['Envelope'];
  if (envelope === undefined) throw new AppError('xml-malformed', 'not a SOAP envelope');
  if (!isObject(envelope)) throw new AppError('xml-schema-invalid', '/Envelope: no Body');
  paths.set(envelope, '/Envelope');
  const body = child(envelope, 'Body');
  const header = optChild(envelope, 'Header');
  const operation = elementKeys(body)[0];
  if (operation === undefined) throw new AppError('xml-schema-invalid', '/Envelope/Body is empty');
  const payload = child(body, operation);
  return header === undefined ? { body, operation, payload } : { header, body, operation, payload };
}

// ------------------------------------------------------------------------------------------------
// base64Binary payloads (rpt, rt, xmlRendicontazione, MBDAttachment).

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a base64Binary value carrying an XML document.
 *
 * Why strict: Node's Buffer silently skips invalid characters, which would turn a corrupted
 * payload into a different document. Whitespace is allowed (base64Binary permits line breaks).
 * @throws AppError('xml-schema-invalid') for invalid base64 or bytes that are not UTF-8.
 */
export function base64XmlDecode(b64: string): string {
  const compact = b64.replace(/[\s]+/g, '');
  if (compact === '' || !BASE64.test(compact)) {
    throw new AppError('xml-schema-invalid', 'invalid base64 payload');
  }
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(compact, 'base64'));
  } catch (err) {
    throw new AppError(
      'xml-schema-invalid',
      'base64 payload is not UTF-8 text',
      {},
      { cause: err },
    );
  }
  return decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
}

/** Encodes an XML document as base64 (UTF-8), for rpt/rt/xmlRendicontazione elements. */
export function base64XmlEncode(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64');
}
