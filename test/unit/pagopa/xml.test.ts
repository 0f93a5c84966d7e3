import fc from 'fast-check';
import { AppError } from '../../../src/domain/errors';
import {
  assertSafeXml,
  base64XmlDecode,
  base64XmlEncode,
  child,
  childCaseInsensitive,
  el,
  elAttrs,
  escapeXml,
  leaf,
  list,
  listObjects,
  optLeaf,
  optText,
  parseSoapEnvelope,
  parseXml,
  soapEnvelope,
  text,
  textCaseInsensitive,
} from '../../../src/adapters/pagopa/xml';
import { fixture } from './old-model-samples';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : 'not-app-error';
  }
  return undefined;
}

describe('assertSafeXml / parseXml', () => {
  it.each([
    ['<!DOCTYPE a><a/>'],
    ['<?xml version="1.0"?>\n<!doctype a [<!ENTITY x "y">]><a>&x;</a>'],
    ['<a><!-- <!ENTITY hidden "x"> --></a>'],
    ['<a>\n<!  Entity x SYSTEM "file:///etc/passwd"></a>'],
  ])('refuses DOCTYPE/ENTITY anywhere: %s', (xml) => {
    expect(codeOf(() => parseXml(xml))).toBe('xml-forbidden-construct');
  });

  it('refuses the XXE fixture before touching it', () => {
    expect(
      codeOf(() => parseSoapEnvelope(fixture('soap/old-model/paaInviaRT.req.attack-doctype.xml'))),
    ).toBe('xml-forbidden-construct');
  });

  it.each([[''], ['   '], ['hello'], ['{"a":1}']])('refuses empty or non-XML input %j', (xml) => {
    expect(codeOf(() => assertSafeXml(xml))).toBe('xml-malformed');
  });

  it.each([['<a><b></a>'], ['<a>'], ['<a></a><b></b>'], ['<a x="1" x="2"/>']])(
    'reports malformed XML %s',
    (xml) => {
      expect(codeOf(() => parseXml(xml))).toBe('xml-malformed');
    },
  );

  it('strips prefixes, keeps every value a trimmed string and decodes predefined and numeric entities', () => {
    const d = parseXml(
      '<?xml version="1.0"?><p:r xmlns:p="urn:x" a="1"><p:n> 007 </p:n><t>&lt;&amp;&#233;&#x41;</t><e/></p:r>',
    );
    const r = child(d, 'r');
    expect(text(r, 'n')).toBe('007');
    expect(text(r, 't')).toBe('<&éA');
    expect(text(r, 'e')).toBe('');
    expect(r['@_a']).toBe('1');
  });

  it('does not expand HTML entity names (only XML ones)', () => {
    expect(text(child(parseXml('<a><b>&nbsp;</b></a>'), 'a'), 'b')).toBe('&nbsp;');
  });
});

describe('accessors', () => {
  const doc = parseXml(
    '<r><one>1</one><many>a</many><many>b</many><obj><x>1</x></obj><standin>true</standin></r>',
  );
  const r = child(doc, 'r');

  it('names the path of a missing required element', () => {
    const err = (() => {
      try {
        text(child(r, 'obj'), 'y');
      } catch (e) {
        return e as AppError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('xml-schema-invalid');
    expect(err?.message).toContain('/r/obj/y');
  });

  it('list always returns an array', () => {
    expect(list(r, 'one')).toEqual(['1']);
    expect(list(r, 'many')).toEqual(['a', 'b']);
    expect(list(r, 'none')).toEqual([]);
    expect(listObjects(r, 'obj')).toHaveLength(1);
  });

  it('refuses a repeated element where one is expected', () => {
    expect(codeOf(() => text(r, 'many'))).toBe('xml-schema-invalid');
    expect(codeOf(() => child(r, 'one'))).toBe('xml-schema-invalid');
  });

  it('reads either spelling case-insensitively', () => {
    expect(textCaseInsensitive(r, 'standIn')).toBe('true');
    expect(childCaseInsensitive(r, 'STANDIN')).toBe('true');
    expect(optText(r, 'standIn')).toBeUndefined();
  });
});

describe('building', () => {
  it('escapes text and attributes, and round-trips any string through the parser', () => {
    fc.assert(
      fc.property(
        fc.string().filter(
          (s) =>
            // eslint-disable-next-line no-control-regex
            !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(s) &&
            !/<!/.test(s) &&
            !/[\t\r\n]/.test(s),
        ),
        (s) => {
          const xml = elAttrs('r', { a: s }, leaf('v', s));
          const r = child(parseXml(xml), 'r');
          expect(optText(r, 'v') ?? '').toBe(s.trim());
          // Values are trimmed like element text (trimValues).
          expect(r['@_a'] ?? '').toBe(s.trim());
        },
      ),
    );
  });

  it('refuses characters XML 1.0 cannot carry', () => {
    expect(codeOf(() => escapeXml('a\u0001b'))).toBe('invalid-input');
  });

  it('emits children in order and skips absent optional ones', () => {
    expect(el('a', leaf('x', 1), optLeaf('y', undefined), false, [leaf('z', 'q')])).toBe(
      '<a><x>1</x><z>q</z></a>',
    );
  });
});

describe('SOAP envelope', () => {
  it('wraps and unwraps with the operation name', () => {
    const env = soapEnvelope('<p:op xmlns:p="urn:p"><x>1</x></p:op>', {
      headerXml: '<h:hd xmlns:h="urn:h"><y>2</y></h:hd>',
    });
    const parsed = parseSoapEnvelope(env);
    expect(parsed.operation).toBe('op');
    expect(parsed.payload).toEqual({ x: '1' });
    expect(parsed.body['op']).toEqual({ x: '1' });
    expect(parsed.header).toEqual({ hd: { y: '2' } });
  });

  it('refuses a non-envelope and an envelope without Body or with an empty one', () => {
    expect(codeOf(() => parseSoapEnvelope('<a/>'))).toBe('xml-malformed');
    expect(
      codeOf(() => parseSoapEnvelope('<s:Envelope xmlns:s="urn:s"><s:Header/></s:Envelope>')),
    ).toBe('xml-schema-invalid');
    expect(
      codeOf(() => parseSoapEnvelope('<s:Envelope xmlns:s="urn:s"><s:Body/></s:Envelope>')),
    ).toBe('xml-schema-invalid');
  });
});

describe('base64XmlDecode', () => {
  it('round-trips UTF-8 XML and tolerates line breaks', () => {
    const xml = '<a>città €</a>';
    const b64 = base64XmlEncode(xml);
    expect(base64XmlDecode(b64)).toBe(xml);
    expect(base64XmlDecode(b64.replace(/(.{4})/g, '$1\n'))).toBe(xml);
  });

  it.each([['not base64!'], ['YWJj*'], ['YWJ'], [''], ['=YWJj'], ['/w==']])('refuses %j', (b64) => {
    expect(codeOf(() => base64XmlDecode(b64))).toBe('xml-schema-invalid');
  });
});
