/**
 * A fast tree builder for the documents the node sends us most: plain elements, attributes and
 * text, already checked well-formed by fast-xml-parser's validator. It builds exactly the object
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
 * returns undefined and the caller uses the parser, so its behaviour stays the reference. A
 * differential test (test/unit/xml-tree.test.ts) holds the two to the same output.
 */
import type { XmlObject, XmlValue } from './xml';

/** fast-xml-parser's default maxNestedTags: deeper documents are its to refuse. */
const MAX_DEPTH = 100;

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

/** The local part of a qualified name, or undefined when the parser would treat it oddly. */
function localName(qname: string): string | undefined {
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
 * The parsed document, or undefined when it is outside the plain subset (the caller then parses
 * it with fast-xml-parser). Expects a document the validator accepted, without a BOM and without
 * `&`.
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
    for (;;) {
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
      if (attrName === 'xmlns' || attrName.startsWith('xmlns:')) continue;
      const attrKey = localName(attrName);
      if (attrKey === undefined || /[\s<]/.test(attrName) || value.includes('<')) return undefined;
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
