/**
 * Micro-benchmark: RT parse and build rates on one core, fast-xml-parser (kept) against xml2js
 * (the stack default) on the same document in the same run.
 *
 * Run: npx tsx bench/xml-rt.ts [seconds-per-case, default 1]
 *
 * Decision: fast-xml-parser is kept for parsing (src/adapters/pagopa/xml.ts). On a 3.9 kB RT its raw
 * parse measured 1.3-1.9x xml2js on a shared 2-core box (noisy), it strips namespace prefixes and
 * keeps every value a string by configuration, it is synchronous (no callback plumbing), and its
 * validator gives line/column for malformed input. Building uses plain strings in XSD order, about
 * 7-10x xml2js's Builder, and makes the sequence order the schemas check visible in the code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Builder, Parser, processors } from 'xml2js';
import { buildRt, parseRt } from '../src/adapters/pagopa/rpt-rt';
import { parseXml } from '../src/adapters/pagopa/xml';

const secondsPerCase = Number(process.argv[2] ?? '1');
const fixture = path.resolve(
  __dirname,
  '..',
  'fixtures',
  'rpt-rt',
  'rt-outcome0-multi-transfer.xml',
);
const rtXml = fs.readFileSync(fixture, 'utf8');
const rt = parseRt(rtXml);

const fxp = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  parseTagValue: false,
  trimValues: true,
});
const x2jParser = new Parser({
  explicitArray: false,
  tagNameProcessors: [processors.stripPrefix],
  async: false,
});
const x2jBuilder = new Builder({ headless: false });
let x2jObject: unknown;
x2jParser.parseString(rtXml, (err: Error | null, res: unknown) => {
  if (err) throw err;
  x2jObject = res;
});

function xml2jsParseSync(xml: string): unknown {
  const result: { out?: unknown; err?: Error | null } = {};
  // xml2js calls back synchronously when async is false.
  x2jParser.parseString(xml, (err: Error | null, res: unknown) => {
    result.err = err;
    result.out = res;
  });
  if (result.err) throw result.err;
  return result.out;
}

let sink = 0;
function rate(name: string, fn: () => unknown): number {
  for (let i = 0; i < 2_000; i++) fn(); // warm-up
  const deadline = process.hrtime.bigint() + BigInt(Math.round(secondsPerCase * 1e9));
  let n = 0;
  const start = process.hrtime.bigint();
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 200; i++) {
      const r = fn();
      sink += typeof r === 'string' ? r.length : 1;
    }
    n += 200;
  }
  const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
  const perS = n / elapsedS;
  process.stdout.write(
    `${name.padEnd(58)} ${Math.round(perS).toLocaleString('en-US').padStart(10)} msg/s\n`,
  );
  return perS;
}

process.stdout.write(
  `RT ${path.basename(fixture)} (${rtXml.length} bytes, ${rt.lines.length} lines), node ${process.version}, ${secondsPerCase}s per case, one core\n\n`,
);
process.stdout.write('parse\n');
const full = rate('parseRt (safety check + validate + fxp + typed mapping)', () => parseRt(rtXml));
rate('parseXml (safety check + XMLValidator + fxp)', () => parseXml(rtXml));
const fxpOnly = rate('fast-xml-parser XMLParser.parse only', () => fxp.parse(rtXml));
rate('fast-xml-parser XMLValidator.validate only', () => XMLValidator.validate(rtXml));
const x2j = rate('xml2js parseString (sync, stripPrefix, explicitArray:false)', () =>
  xml2jsParseSync(rtXml),
);
process.stdout.write('\nbuild\n');
const build = rate('buildRt (typed object -> XML string)', () => buildRt(rt));
const x2jBuild = rate('xml2js Builder.buildObject (same RT as a plain object)', () =>
  x2jBuilder.buildObject(x2jObject),
);
process.stdout.write(
  `\nraw parse: fast-xml-parser ${(fxpOnly / x2j).toFixed(1)}x xml2js; our full parseRt ${(full / x2j).toFixed(1)}x xml2js raw; ` +
    `build: ours ${(build / x2jBuild).toFixed(1)}x xml2js Builder\n`,
);
if (sink === 0) process.stdout.write('\n');
