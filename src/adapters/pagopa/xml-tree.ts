/**
 * A fast tree builder for the documents the node sends us most: plain elements, attributes and
 * text. It checks what makes such a document well-formed (names, quoting, nesting, one root, no
 * text outside it) and builds exactly the object
 * fast-xml-parser's parser builds with our options (see PARSER_OPTIONS in xml.ts) — namespace
 * prefixes stripped, `xmlns` declarations dropped, attributes under `@_`, values trimmed strings,
 * repeated elements as arrays — in a single indexOf-driven pass.
 *
 * Why: the parser was a quarter of the CPU a receipt costs at the intake (about 100 µs for a
 * 2 KB paSendRT, against about 10 µs here), and GC pressure followed it.
 *
 * Why it may decline: anything outside that plain subset — comments, CDATA, processing
 * instructions after the declaration, mixed content, carriage returns (the parser normalises
 * them), entity or character references, names the parser renames or refuses (`__proto__`,
 * `constructor`, `toString`…), names with two colons, nesting deeper than the parser's limit —
 * returns undefined, as does anything not well-formed, and the caller runs fast-xml-parser's
 * validator and parser as before, so their behaviour stays the reference. A differential test
 * (test/unit/pagopa/xml-tree.test.ts) holds the two together: what the builder builds, the
 * validator accepts and the parser builds the same.
 */
import type { XmlObject, XmlValue } from './xml';

/** fast-xml-parser's default maxNestedTags: deeper documents are its to refuse. */
const MAX_DEPTH = 100;

/** More attributes than this in one tag: declined (see the repetition check). */
const MAX_ATTRIBUTES = 32;

/** Names fast-xml-parser renames (`__toString`) or refuses (prototype pollution). */
const RESERVED_NAMES = new Set([
  'hasownproperty',
  'tostring',
  'valueof',
  '__definegetter__',
  '__definesetter__',
  '__lookupgetter__',
  '__lookupsetter__',
  '__proto__',
  'constructor',
  'prototype',
]);

const DECLARATION = /<\?xml(?:\s+[A-Za-z]+\s*=\s*(?:"[^"<>?]*"|'[^'<>?]*'))*\s*\?>/y;

type Frame = {
  /** The qualified name as written, to match the end tag. */
  readonly qname: string;
  /** The local name, the key in the parent. */
  readonly key: string;
  /** Attributes (`@_` keys) then child elements, or null while there are neither. */
  obj: XmlObject | null;
  hasChildren: boolean;
  text: string;
};

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

// XML 1.0 names, the same classes fast-xml-parser's validator accepts.
const NAME_START =
  ':A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF' +
  '\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const XML_NAME = new RegExp(
  // The Name production lists combining marks (U+0300-U+036F) as a range, on purpose.
  // eslint-disable-next-line no-misleading-character-class
  `^[${NAME_START}][${NAME_START}\\-.\\d\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`,
);
/** Names seen valid, so the regex runs once per distinct name (bounded: names come from input). */
const validNames = new Set<string>();
const VALID_NAMES_MAX = 2_000;

function isXmlName(name: string): boolean {
  if (validNames.has(name)) return true;
  if (!XML_NAME.test(name)) return false;
  if (validNames.size < VALID_NAMES_MAX) validNames.add(name);
  return true;
}

/** The local part of a qualified name, or undefined when the parser would treat it oddly. */
function localName(qname: string): string | undefined {
  if (!isXmlName(qname)) return undefined;
  const colon = qname.indexOf(':');
  const local = colon < 0 ? qname : qname.slice(colon + 1);
  if (local === '' || local.includes(':')) return undefined;
  if (RESERVED_NAMES.has(local.toLowerCase())) return undefined;
  return local;
}

function addChild(parent: Frame, key: string, value: XmlValue): void {
  parent.hasChildren = true;
  const obj = parent.obj ?? (parent.obj = {});
  const existing = obj[key];
  if (existing === undefined) obj[key] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else obj[key] = [existing, value];
}

/**
 * The parsed document, or undefined when it is outside the plain subset or not well-formed (the
 * caller then validates and parses it with fast-xml-parser). Expects a document without a BOM,
 * without `&` and without the control characters XML forbids (checked before).
 */
export function plainXmlTree(doc: string): XmlObject | undefined {
  if (doc.includes('\r')) return undefined;
  const n = doc.length;
  let i = 0;
  while (i < n && isSpace(doc.charCodeAt(i))) i += 1;
  if (doc.startsWith('<?xml', i)) {
    // Only a declaration of well-quoted pseudo-attributes; anything odder is the parser's call.
    DECLARATION.lastIndex = i;
    const m = DECLARATION.exec(doc);
    if (m === null) return undefined;
    i += m[0].length;
  }
  const root: Frame = { qname: '', key: '', obj: null, hasChildren: false, text: '' };
  const stack: Frame[] = [root];
  let seenRoot = false;

  while (i < n) {
    const lt = doc.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const top = stack[stack.length - 1]!;
      const text = doc.slice(i, textEnd);
      if (top === root) {
        if (text.trim() !== '') return undefined;
      } else {
        top.text += text;
      }
    }
    if (lt < 0) break;
    const next = doc.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */ || next === 0x3f /* ? */) return undefined;
    const gt = doc.indexOf('>', lt);
    if (gt < 0) return undefined;

    if (next === 0x2f /* / */) {
      const qname = doc.slice(lt + 2, gt).trimEnd();
      const frame = stack.pop()!;
      if (frame === root || frame.qname !== qname) return undefined;
      const parent = stack[stack.length - 1]!;
      const value = close(frame);
      if (value === undefined) return undefined;
      addChild(parent, frame.key, value);
      i = gt + 1;
      continue;
    }

    // A start tag. Attribute values may hold '>', so the tag is read attribute by attribute.
    let j = lt + 1;
    while (j < n) {
      const c = doc.charCodeAt(j);
      if (isSpace(c) || c === 0x3e /* > */ || c === 0x2f /* / */) break;
      j += 1;
    }
    const qname = doc.slice(lt + 1, j);
    const key = localName(qname);
    if (key === undefined) return undefined;
    if (stack.length === 1) {
      if (seenRoot) return undefined;
      seenRoot = true;
    }
    if (stack.length > MAX_DEPTH) return undefined;
    const frame: Frame = { qname, key, obj: null, hasChildren: false, text: '' };
    let selfClosing = false;
    // Every attribute name of the tag, declarations included: a repeated one is not well-formed.
    const names: string[] = [];
    for (;;) {
      const before = j;
      while (j < n && isSpace(doc.charCodeAt(j))) j += 1;
      if (j >= n) return undefined;
      const c = doc.charCodeAt(j);
      if (c === 0x3e) {
        j += 1;
        break;
      }
      if (c === 0x2f) {
        if (doc.charCodeAt(j + 1) !== 0x3e) return undefined;
        selfClosing = true;
        j += 2;
        break;
      }
      // Attributes are separated from the name and from each other by white space.
      if (j === before) return undefined;
      const eq = doc.indexOf('=', j);
      if (eq < 0) return undefined;
      const attrName = doc.slice(j, eq).trimEnd();
      let q = eq + 1;
      while (q < n && isSpace(doc.charCodeAt(q))) q += 1;
      const quote = doc.charCodeAt(q);
      if (quote !== 0x22 && quote !== 0x27) return undefined;
      const close = doc.indexOf(quote === 0x22 ? '"' : "'", q + 1);
      if (close < 0) return undefined;
      const value = doc.slice(q + 1, close);
      j = close + 1;
      // The repetition check is linear: a tag with more attributes than any pagoPA message has is
      // left to the validator, so a crafted tag cannot make it quadratic.
      if (names.length >= MAX_ATTRIBUTES) return undefined;
      if (!isXmlName(attrName) || value.includes('<') || names.includes(attrName)) return undefined;
      names.push(attrName);
      if (attrName === 'xmlns' || attrName.startsWith('xmlns:')) continue;
      const attrKey = localName(attrName);
      if (attrKey === undefined) return undefined;
      const obj = frame.obj ?? (frame.obj = {});
      const prefixed = `@_${attrKey}`;
      if (obj[prefixed] !== undefined) return undefined;
      obj[prefixed] = value.trim();
    }
    if (selfClosing) {
      const value = close(frame);
      if (value === undefined) return undefined;
      addChild(stack[stack.length - 1]!, key, value);
    } else {
      stack.push(frame);
    }
    i = j;
  }
  if (stack.length !== 1 || !seenRoot || root.obj === null) return undefined;
  return root.obj;
}

/** The value the parser gives a closed element, or undefined for mixed content. */
function close(frame: Frame): XmlValue | undefined {
  const text = frame.text.trim();
  if (frame.hasChildren) {
    if (text !== '') return undefined;
    return frame.obj!;
  }
  if (frame.obj === null) return text;
  if (text !== '') frame.obj['#text'] = text;
  return frame.obj;
}
