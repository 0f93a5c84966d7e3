import {
  assertNoProblems,
  noticeReceiptProblems,
  rtEnvelopeProblems,
  rtOutcome,
  wireDateTime,
  type NoticeReceiptFacts,
} from '../../../src/domain/receipts/semantics';

const NOW = new Date('2026-11-23T12:00:00Z');

const facts = (overrides: Partial<NoticeReceiptFacts> = {}): NoticeReceiptFacts => ({
  calledDomainId: '80000000001',
  noticeDomainId: '80000000001',
  noticeNumber: '302000000000010100',
  iuv: '02000000000010100',
  amountCents: 4560,
  transfers: [
    { domainId: '80000000001', amountCents: 4000 },
    { domainId: '80000000002', amountCents: 560 },
  ],
  ...overrides,
});

describe('noticeReceiptProblems', () => {
  test('a consistent receipt has none', () => {
    expect(noticeReceiptProblems(facts({ paidAt: NOW }), NOW)).toEqual([]);
  });

  test.each<[string, Partial<NoticeReceiptFacts>, RegExp]>([
    [
      'amounts that do not add up',
      { amountCents: 4561 },
      /paymentAmount 45\.61 != sum of transferAmount 45\.60/,
    ],
    [
      'an IUV that is not the notice number’s',
      { iuv: '02000000000010199' },
      /not the IUV of noticeNumber \(02000000000010100\)/,
    ],
    [
      'an aux digit that does not exist',
      { noticeNumber: '902000000000010100' },
      /no valid aux digit/,
    ],
    [
      'a domain concerned by nothing',
      { calledDomainId: '80000000003' },
      /neither the notice nor any transfer/,
    ],
    [
      'a payment date two days ahead',
      { paidAt: new Date(NOW.getTime() + 2 * 86_400_000) },
      /paymentDateTime .* is in the future/,
    ],
    ['an impossible date', { paidAt: new Date('nope') }, /not a real date/],
  ])('%s is a problem', (_what, overrides, reason) => {
    const problems = noticeReceiptProblems(facts(overrides), NOW);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(reason);
  });

  test('a secondary beneficiary (multi-beneficiary broadcast) is concerned by a transfer', () => {
    expect(noticeReceiptProblems(facts({ calledDomainId: '80000000002' }), NOW)).toEqual([]);
  });

  test('a clock a few hours ahead is tolerated', () => {
    const paidAt = new Date(NOW.getTime() + 3 * 3_600_000);
    expect(noticeReceiptProblems(facts({ paidAt }), NOW)).toEqual([]);
  });
});

describe('rtEnvelopeProblems', () => {
  const header = { domainId: '80000000001', iuv: '02000000000020100', ccp: 'ccp-1' };

  test('a header naming its RT has none', () => {
    expect(rtEnvelopeProblems({ header, ...header, receiptAt: NOW }, NOW)).toEqual([]);
  });

  test('each field the header names differently is a problem', () => {
    const problems = rtEnvelopeProblems(
      { header, domainId: '80000000002', iuv: '02000000000020199', ccp: 'ccp-2' },
      NOW,
    );
    expect(problems).toEqual([
      'header identificativoDominio 80000000001 != RT identificativoDominio 80000000002',
      'header IUV 02000000000020100 != RT IUV 02000000000020199',
      'header codiceContestoPagamento ccp-1 != RT CCP ccp-2',
    ]);
  });
});

describe('assertNoProblems', () => {
  test('throws xml-semantic-invalid with every reason', () => {
    expect(() => assertNoProblems(['a', 'b'])).toThrow(
      expect.objectContaining({ code: 'xml-semantic-invalid', message: 'a; b' }),
    );
    expect(() => assertNoProblems([])).not.toThrow();
  });
});

describe('rtOutcome', () => {
  test.each([
    [0, 'PAID'],
    [1, 'NOT_PAID'],
    [2, 'PARTIAL'],
    [3, 'TIMED_OUT'],
    [4, 'PARTIAL_TIMED_OUT'],
  ] as const)('codiceEsitoPagamento %i is %s', (code, outcome) => {
    expect(rtOutcome(code)).toBe(outcome);
  });
});

describe('wireDateTime', () => {
  test('a zoned date-time is taken as written', () => {
    expect(wireDateTime('2026-11-03T10:15:30Z').toISOString()).toBe('2026-11-03T10:15:30.000Z');
    expect(wireDateTime('2024-03-15T10:22:31.123+01:00').toISOString()).toBe(
      '2024-03-15T09:22:31.123Z',
    );
  });

  test('a date-time without zone is Italian local time, winter and summer', () => {
    expect(wireDateTime('2024-01-15T10:00:00').toISOString()).toBe('2024-01-15T09:00:00.000Z');
    expect(wireDateTime('2024-07-15T10:00:00.5').toISOString()).toBe('2024-07-15T08:00:00.500Z');
  });

  test('text that is no date gives an invalid Date, not a throw', () => {
    expect(Number.isNaN(wireDateTime('2024-13-45T99:00:00Z').getTime())).toBe(true);
  });
});
