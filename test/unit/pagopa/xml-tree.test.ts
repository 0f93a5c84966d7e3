import fs from 'node:fs';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { PARSER_OPTIONS, type XmlValue } from '../../../src/adapters/pagopa/xml';
import { plainXmlTree } from '../../../src/adapters/pagopa/xml-tree';

/**
 * The fast tree builder against fast-xml-parser, the reference: for every document, the builder
 * either declines (undefined: the validator and the parser are used) or the validator accepts it
 * and the parser builds exactly what the builder built, element order included.
 */

const reference = new XMLParser({ ...PARSER_OPTIONS, processEntities: false });
const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'fixtures');

function xmlFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return xmlFiles(full);
    return e.name.endsWith('.xml') ? [full] : [];
  });
}

/** A form that toEqual compares with the order of child elements (attributes and text sorted). */
function ordered(v: XmlValue | undefined): unknown {
  if (v === undefined || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(ordered);
  const keys = Object.keys(v);
  const elements = keys.filter((k) => !k.startsWith('@_') && k !== '#text');
  const rest = keys.filter((k) => k.startsWith('@_') || k === '#text').sort();
  return [...elements, ...rest].map((k) => [k, ordered(v[k])]);
}

type Verdict = 'built' | 'declined';

/** Compares the builder with the validator and the parser on one reference-free document. */
function compare(doc: string): Verdict {
  const built = plainXmlTree(doc);
  if (built === undefined) return 'declined';
  // Built means well-formed: the builder replaces the validator for what it builds.
  expect({ doc, validator: XMLValidator.validate(doc) }).toEqual({ doc, validator: true });
  let expected: unknown;
  try {
    expected = reference.parse(doc);
  } catch (err) {
    throw new Error(`the parser refuses what the builder built: ${String(err)}\n${doc}`);
  }
  expect({ doc, tree: ordered(built) }).toEqual({ doc, tree: ordered(expected as XmlValue) });
  return 'built';
}

const valid = (doc: string): boolean => !doc.includes('&') && XMLValidator.validate(doc) === true;

describe('plainXmlTree', () => {
  const fixtures = xmlFiles(FIXTURES)
    .map((f) => fs.readFileSync(f, 'utf8').replace(/^\uFEFF/, ''))
    .filter(valid);

  test('builds every plain fixture exactly as fast-xml-parser does', () => {
    expect(fixtures.length).toBeGreaterThan(50);
    const verdicts = fixtures.map(compare);
    // Most fixtures are plain: the fast path must actually be taken, not always declined.
    const plain = fixtures.filter((d) => !/<!--|<!\[CDATA\[|\r|<\?(?!xml )/.test(d));
    expect(verdicts.filter((v) => v === 'built').length).toBe(plain.length);
  });

  test.each([
    ['attributes in both quotes, spaces around =', `<a x = "1" y='2'><b>t</b></a>`],
    ['> inside an attribute value', `<a x="1>2"><b>t</b></a>`],
    [
      'namespace declarations dropped, prefixes stripped',
      `<p:a xmlns:p="u" xmlns="v" p:x="1"><p:b>t</p:b></p:a>`,
    ],
    ['xml:lang and xsi:nil', `<r xml:lang="it"><a xsi:nil="true"/></r>`],
    ['repeated, interleaved elements', `<r><a>1</a><b/><a>2</a> <a>3</a><b>x</b></r>`],
    ['empty and self-closing', `<r><a/><b></b><c x="1"/><d x="2">  </d></r>`],
    ['text with attributes', `<r><a x="1"> t </a></r>`],
    ['attribute values with spaces kept inside', `<r a="  x  y  "><b c="\tz\n"/></r>`],
    ['unicode and non-breaking spaces', `<r><a>\u00a0città\u00a0</a><b>€ 1,00</b></r>`],
    [
      'declaration and surrounding whitespace',
      `<?xml version="1.0" encoding='UTF-8' ?>\n<r>\n  <a>1</a>\n</r>\n`,
    ],
    ['nesting at the limit', `${'<a>'.repeat(100)}x${'</a>'.repeat(100)}`],
    ['nesting beyond the limit', `${'<a>'.repeat(101)}x${'</a>'.repeat(101)}`],
    ['mixed content', `<r>text<b>1</b>more</r>`],
    ['a comment', `<r><!-- c --><a>1</a></r>`],
    ['CDATA', `<r><a><![CDATA[x<y]]></a></r>`],
    ['a processing instruction', `<r><?pi x?><a>1</a></r>`],
    ['carriage returns', `<r>\r\n<a>1\r\n2</a></r>`],
    ['names with two colons', `<r a:b:c="1"><x:y:z>1</x:y:z></r>`],
    ['reserved names', `<r><toString>1</toString><valueOf/></r>`],
    ['same local attribute name twice', `<r a:x="1" b:x="2"/>`],
    ['a root with only text', `<r> t </r>`],
    ['a self-closing root', `<r x="1"/>`],
    [
      'a tag with very many attributes',
      `<r>${Array.from({ length: 40 }, (_, i) => `<a${i % 3} ${Array.from({ length: i }, (_, k) => `x${k}="${k}"`).join(' ')}/>`).join('')}</r>`,
    ],
  ])('%s: built as the parser builds it, or declined', (_name, doc) => {
    expect(valid(doc)).toBe(true);
    compare(doc);
  });

  test('random mutations of the fixtures that stay well-formed: built as the parser builds them, or declined', () => {
    // A deterministic generator, so a failure names a reproducible document.
    let seed = 0x5eed;
    const random = (k: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % k;
    };
    const pieces = [
      '<',
      '>',
      '/',
      '=',
      '"',
      "'",
      ' ',
      ':',
      'a',
      'x',
      '\n',
      '\t',
      '<b>',
      '</b>',
      '<c/>',
      ' y="1"',
      'p:',
    ];
    let compared = 0;
    let built = 0;
    for (let n = 0; n < 20_000; n += 1) {
      const base = fixtures[random(fixtures.length)]!;
      let doc = base;
      for (let edits = 1 + random(3); edits > 0; edits -= 1) {
        const at = random(doc.length);
        switch (random(4)) {
          case 0:
            doc = doc.slice(0, at) + doc.slice(at + 1 + random(4));
            break;
          case 1:
            doc = doc.slice(0, at) + pieces[random(pieces.length)]! + doc.slice(at);
            break;
          case 2: {
            // Duplicates a stretch: repeated elements, attributes, text.
            const len = 1 + random(80);
            doc = doc.slice(0, at + len) + doc.slice(at, at + len) + doc.slice(at + len);
            break;
          }
          default:
            doc = doc.slice(0, at) + doc.slice(at).replace(/>\s*</, '> <');
        }
      }
      if (doc.includes('&')) continue;
      // Malformed ones too: the builder must decline every one the validator refuses.
      if (valid(doc)) compared += 1;
      if (compare(doc) === 'built') built += 1;
    }
    expect(compared).toBeGreaterThan(1000);
    expect(built).toBeGreaterThan(compared / 2);
  });
});
