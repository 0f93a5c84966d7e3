/**
 * XSD validation for tests, on xmllint-wasm (libxml2 compiled to WebAssembly, no native install).
 *
 * How files are found: xmllint-wasm writes every input and preload into an in-memory file system at
 * `/<fileName>` (creating folders). We mirror each real file at its absolute path, so a relative
 * `schemaLocation` such as `../xsd/PagInf_RPT_RT_6_2_0.xsd` resolves exactly as on disk, and two
 * files with the same base name (the two `sac-common-types-1.0.xsd`) never collide.
 * Schemas embedded in a WSDL's `<wsdl:types>` are extracted to a virtual `.xsd` next to the WSDL,
 * with the namespace declarations they inherit from `<wsdl:definitions>` copied onto them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const ownWsdlDir = path.join(repoRoot, 'wsdl');

/** A schema file: a path on disk (absolute, or relative to the repo root) or in-memory contents. */
export type SchemaFile = string | { readonly fileName: string; readonly contents: string };

export interface SchemaSet {
  /** The schema validated against. */
  readonly main: SchemaFile;
  /** Every file the main schema imports or includes, directly or not. */
  readonly preload?: readonly SchemaFile[];
}

export interface XsdResult {
  readonly valid: boolean;
  readonly errors: string[];
}

/**
 * The official pagoPA spec folder (`<repo>/../shared/pagopa-spec`, or env PAGOPA_SPEC_DIR),
 * or undefined when it is absent (e.g. in a user's clone).
 */
export function officialSpecDir(): string | undefined {
  const dir =
    process.env['PAGOPA_SPEC_DIR'] ?? path.resolve(repoRoot, '..', 'shared', 'pagopa-spec');
  return fs.existsSync(path.join(dir, 'SOURCES.md')) || fs.existsSync(path.join(dir, 'gad'))
    ? dir
    : undefined;
}

/** `describe` when the official spec folder is present, `describe.skip` otherwise (with a notice). */
export function describeWithOfficialSpec(name: string, fn: (specDir: string) => void): void {
  const dir = officialSpecDir();
  if (dir === undefined) {
    describe.skip(`${name} [skipped: official pagoPA spec folder not found; set PAGOPA_SPEC_DIR]`, () => {
      it('needs ../shared/pagopa-spec', () => undefined);
    });
    return;
  }
  describe(name, () => fn(dir));
}

const contentsCache = new Map<string, string>();

function readCached(file: string): string {
  let c = contentsCache.get(file);
  if (c === undefined) {
    c = fs.readFileSync(file, 'utf8');
    contentsCache.set(file, c);
  }
  return c;
}

function virtualName(absPath: string): string {
  return absPath
    .replace(/\\/g, '/')
    .replace(/^[A-Za-z]:/, '')
    .replace(/^\/+/, '');
}

function toFileInfo(f: SchemaFile): { fileName: string; contents: string } {
  if (typeof f !== 'string') return { fileName: virtualName(f.fileName), contents: f.contents };
  const abs = path.resolve(repoRoot, f);
  return { fileName: virtualName(abs), contents: readCached(abs) };
}

/** Every `.xsd` below `dir`, as absolute paths. */
export function xsdFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...xsdFilesUnder(p));
    else if (entry.name.endsWith('.xsd')) out.push(p);
  }
  return out.sort();
}

/**
 * Validates a document against a schema set.
 * Never throws for an invalid document; throws only when xmllint itself cannot run.
 */
export async function validateAgainstXsd(xml: string, schema: SchemaSet): Promise<XsdResult> {
  const main = toFileInfo(schema.main);
  const preload = (schema.preload ?? [])
    .map(toFileInfo)
    .filter((f) => f.fileName !== main.fileName);
  const result = await validateXML({
    xml: { fileName: 'document.xml', contents: xml },
    schema: main,
    preload,
    maxMemoryPages: 4096,
  });
  return { valid: result.valid, errors: result.errors.map((e) => e.rawMessage) };
}

// ------------------------------------------------------------------------------------------------
// Schemas embedded in WSDLs.

const SCHEMA_BLOCK = /<(\w+:)?schema\b[^>]*>[\s\S]*?<\/\1?schema>/g;

function startTag(block: string): string {
  const end = block.indexOf('>');
  return block.slice(0, end + 1);
}

function namespaceDecls(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/\s(xmlns(?::[\w.-]+)?)="([^"]*)"/g)) out.set(m[1]!, m[2]!);
  return out;
}

interface InlineSchema {
  readonly targetNamespace: string | undefined;
  readonly file: { fileName: string; contents: string };
  readonly imports: { namespace: string; location: string }[];
}

function inlineSchemas(wsdlPath: string): InlineSchema[] {
  const wsdl = readCached(wsdlPath);
  const defsTag = /<(\w+:)?definitions\b[^>]*>/.exec(wsdl)?.[0] ?? '';
  const inherited = namespaceDecls(defsTag);
  const base = wsdlPath.replace(/\.wsdl$/, '');
  return [...wsdl.matchAll(SCHEMA_BLOCK)].map((m, i) => {
    const block = m[0];
    const tag = startTag(block);
    const own = namespaceDecls(tag);
    let extra = '';
    for (const [k, v] of inherited) if (!own.has(k)) extra += ` ${k}="${v}"`;
    const selfClosing = tag.endsWith('/>');
    const newTag = selfClosing ? `${tag.slice(0, -2)}${extra}/>` : `${tag.slice(0, -1)}${extra}>`;
    const contents = `<?xml version="1.0" encoding="UTF-8"?>\n${newTag}${block.slice(tag.length)}`;
    const imports = [...block.matchAll(/<(?:\w+:)?import\b([^>]*)>/g)].map((im) => ({
      namespace: /namespace="([^"]*)"/.exec(im[1]!)?.[1] ?? '',
      location: /schemaLocation="([^"]*)"/.exec(im[1]!)?.[1] ?? '',
    }));
    return {
      targetNamespace: /targetNamespace="([^"]*)"/.exec(tag)?.[1],
      file: { fileName: `${base}.types-${i}.xsd`, contents },
      imports,
    };
  });
}

/**
 * The schema set for the elements of `namespace` defined by a WSDL: its inline schema with that
 * targetNamespace, or the external XSD one of its inline schemas imports for that namespace.
 * `preloadDirs` are scanned for every `.xsd` the schema may import.
 */
export function wsdlSchemaSet(
  wsdlPath: string,
  namespace: string,
  preloadDirs: readonly string[],
): SchemaSet {
  const schemas = inlineSchemas(wsdlPath);
  const preload: SchemaFile[] = [
    ...schemas.map((s) => s.file),
    ...preloadDirs.flatMap((d) => xsdFilesUnder(d)),
  ];
  const own = schemas.find((s) => s.targetNamespace === namespace);
  if (own !== undefined) return { main: own.file, preload };
  for (const s of schemas) {
    const im = s.imports.find((i) => i.namespace === namespace && i.location !== '');
    if (im !== undefined)
      return { main: path.resolve(path.dirname(wsdlPath), im.location), preload };
  }
  throw new Error(`${wsdlPath} defines no schema for ${namespace}`);
}

/** A standalone XSD of the official folder (path relative to it) with the whole folder preloaded. */
export function officialSchema(specDir: string, relPath: string): SchemaSet {
  return { main: path.join(specDir, relPath), preload: xsdFilesUnder(specDir) };
}

/** The official WSDL's schema for a namespace (relative WSDL path, e.g. `gad/wsdl/PaPerNodo.wsdl`). */
export function officialWsdlSchema(specDir: string, relWsdl: string, namespace: string): SchemaSet {
  return wsdlSchemaSet(path.join(specDir, relWsdl), namespace, [specDir]);
}

/** One of our own XSDs under `wsdl/` (path relative to `wsdl/`), with every own XSD preloaded. */
export function ownSchema(relPath: string): SchemaSet {
  return { main: path.join(ownWsdlDir, relPath), preload: xsdFilesUnder(ownWsdlDir) };
}

/** Our own WSDL's schema for a namespace (path relative to `wsdl/`, e.g. `PaPerNodo.wsdl`). */
export function ownWsdlSchema(relWsdl: string, namespace: string): SchemaSet {
  return wsdlSchemaSet(path.join(ownWsdlDir, relWsdl), namespace, [ownWsdlDir]);
}

// ------------------------------------------------------------------------------------------------
// SOAP bodies.

function extractSoapPart(envelope: string, part: 'Body' | 'Header'): string[] {
  const envTag = /<(\w+:)?Envelope\b[^>]*>/.exec(envelope);
  if (!envTag) throw new Error('not a SOAP envelope');
  const open = new RegExp(`<(\\w+:)?${part}\\b[^>]*>`).exec(envelope);
  if (!open) return [];
  const close = envelope.lastIndexOf(`</${open[1] ?? ''}${part}>`);
  if (close < 0) throw new Error(`SOAP ${part} not closed`);
  const inner = envelope.slice(open.index + open[0].length, close);
  const inScope = new Map([...namespaceDecls(envTag[0]), ...namespaceDecls(open[0])]);
  return topLevelElements(inner).map((elXml) => {
    const tag = /^<[^>]*?(\/?)>/.exec(elXml)![0];
    const own = namespaceDecls(tag);
    let extra = '';
    for (const [k, v] of inScope) if (!own.has(k)) extra += ` ${k}="${v}"`;
    const selfClosing = tag.endsWith('/>');
    const newTag = selfClosing ? `${tag.slice(0, -2)}${extra}/>` : `${tag.slice(0, -1)}${extra}>`;
    return newTag + elXml.slice(tag.length);
  });
}

/** Splits a fragment into its top-level elements (comments and whitespace dropped). */
function topLevelElements(fragment: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  const re = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\/[^>]+>|<[^>]+?\/>|<[^!?][^>]*>/g;
  for (const m of fragment.matchAll(re)) {
    const t = m[0];
    if (t.startsWith('<!--') || t.startsWith('<![CDATA[')) continue;
    if (t.startsWith('</')) {
      depth -= 1;
      if (depth === 0) out.push(fragment.slice(start, m.index + t.length));
    } else if (t.endsWith('/>')) {
      if (depth === 0) out.push(t);
    } else {
      if (depth === 0) start = m.index;
      depth += 1;
    }
  }
  return out;
}

/** The SOAP Body's first child as a standalone document, with the namespaces it inherits. */
export function extractSoapBody(envelope: string): string {
  const first = extractSoapPart(envelope, 'Body')[0];
  if (first === undefined) throw new Error('SOAP Body is empty');
  return first;
}

/** Each SOAP Header block as a standalone document. */
export function extractSoapHeaders(envelope: string): string[] {
  return extractSoapPart(envelope, 'Header');
}

/** Validates the Body's first child of a SOAP envelope against a schema set. */
export async function validateSoapBody(envelope: string, schema: SchemaSet): Promise<XsdResult> {
  return validateAgainstXsd(extractSoapBody(envelope), schema);
}
