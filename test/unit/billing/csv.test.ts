import { parseCsv } from '../../../src/domain/billing/csv';
import { AppError } from '../../../src/domain/errors';

const limits = { recordsMax: 5, fieldLengthMax: 50 };
const fields = (text: string) => parseCsv(text, limits).map((r) => r.fields);

describe('parseCsv', () => {
  test.each([
    [
      'LF',
      'a,b\n1,2\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'CRLF',
      'a,b\r\n1,2\r\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'lone CR (old Excel)',
      'a,b\r1,2',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'no final line break',
      'a,b\n1,2',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'a UTF-8 BOM is dropped',
      '\uFEFFa,b\n1,2\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'blank lines are skipped',
      'a,b\n\n1,2\r\n\r\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'empty fields are kept',
      'a,,c\n,,\n',
      [
        ['a', '', 'c'],
        ['', '', ''],
      ],
    ],
    ['spaces are kept as written', ' a , b \n', [[' a ', ' b ']]],
    ['a quoted comma', '"x, y",2\n', [['x, y', '2']]],
    ['a doubled quote', '"say ""hi""",2\n', [['say "hi"', '2']]],
    ['an empty quoted field', '"",2\n', [['', '2']]],
    ['a line break inside quotes (CRLF)', '"one\r\ntwo",2\n', [['one\r\ntwo', '2']]],
    [
      'a quoted last field then CRLF',
      '1,"x"\r\n2,"y"',
      [
        ['1', 'x'],
        ['2', 'y'],
      ],
    ],
  ])('%s', (_name, text, expected) => {
    expect(fields(text)).toEqual(expected);
  });

  test('records carry the physical line they start on, across quoted line breaks', () => {
    const records = parseCsv('h1,h2\r\n"a\nb",1\r\n\r\nc,2\n', limits);
    expect(records.map((r) => r.line)).toEqual([1, 2, 5]);
  });

  test.each([
    ['a quote never closed', 'a,b\n1,"open\n2,3\n', /line 2: a quoted field is never closed/],
    ['text after a closing quote', 'a,b\n"x"y,2\n', /line 2: text after a closing quote/],
    [
      'a quote inside an unquoted field',
      'a,b\n12"3,2\n',
      /line 2: a quote inside an unquoted field/,
    ],
    ['a field too long', `a,b\n${'x'.repeat(51)},2\n`, /line 2: a field is longer than 50/],
    [
      'a quoted field too long',
      `a,b\n"${'x'.repeat(60)}",2\n`,
      /line 2: a field is longer than 50/,
    ],
    ['too many records', 'h\n1\n2\n3\n4\n5\n6\n', /line 7: more than 5 lines after the header/],
  ])('refuses %s with the line', (_name, text, message) => {
    expect(() => parseCsv(text, limits)).toThrow(message);
    expect(() => parseCsv(text, limits)).toThrow(AppError);
  });

  test('exactly recordsMax lines after the header are accepted', () => {
    expect(parseCsv('h\n1\n2\n3\n4\n5\n', limits)).toHaveLength(6);
  });

  test('an empty text has no records', () => {
    expect(parseCsv('', limits)).toEqual([]);
    expect(parseCsv('\uFEFF\r\n', limits)).toEqual([]);
  });
});
