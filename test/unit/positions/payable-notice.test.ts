import {
  checkActivationAmount,
  payableNotice,
  type NoticeOption,
  type NoticePosition,
  type NoticeTransfer,
} from '../../../src/domain/positions/payable-notice';
import { AppError } from '../../../src/domain/errors';

const IBAN = 'IT60X0542811101000000123456';
const POSTAL = 'IT57N0760111100000012345678';

const aTransfer = (over: Partial<NoticeTransfer> = {}): NoticeTransfer => ({
  index: 1,
  beneficiaryFiscalCode: '80000000001',
  amountCents: 4200,
  iban: IBAN,
  postalIban: null,
  stamp: null,
  taxonomyCode: '0102100SA',
  remittanceInformation: '/RFB/02000000000000123/TXT/Verbale',
  ...over,
});

let seq = 0;
const anOption = (over: Partial<NoticeOption> = {}): NoticeOption => {
  seq += 1;
  const base = String(seq).padStart(15, '0');
  return {
    iuv: `02${base}`,
    noticeNumber: `302${base}`,
    status: 'UNPAID',
    amountCents: 4200,
    amountSchedule: null,
    dueDate: '2027-01-31',
    validFrom: null,
    transfers: [aTransfer()],
    ...over,
  };
};

const aPosition = (
  options: NoticeOption[],
  over: Partial<Omit<NoticePosition, 'options'>> = {},
): NoticePosition => ({ kind: 'DEBT', status: 'OPEN', plan: 'SINGLE', options, ...over });

const codeOf = (run: () => unknown): string => {
  try {
    run();
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  return 'none';
};

describe('payableNotice: which option, at which amount', () => {
  test('a road fine with a reduced amount: 29.40 within 5 days, 42.00 after, same notice', () => {
    const option = anOption({
      validFrom: '2026-12-02',
      amountSchedule: [{ until: '2026-12-07', amountCents: 2940 }],
    });
    const position = aPosition([option]);
    const key = { noticeNumber: option.noticeNumber };
    const early = payableNotice(position, key, '2026-12-07', { postal: false });
    const late = payableNotice(position, key, '2026-12-08', { postal: false });
    expect(early.amountCents).toBe(2940);
    expect(early.transfers).toEqual([expect.objectContaining({ amountCents: 2940, iban: IBAN })]);
    expect(late.amountCents).toBe(4200);
    expect(late.transfers.map((t) => t.amountCents)).toEqual([4200]);
  });

  test('found by IUV as well as by notice number', () => {
    const option = anOption();
    const byIuv = payableNotice(aPosition([option]), { iuv: option.iuv }, '2026-12-01', {
      postal: false,
    });
    expect(byIuv.option).toBe(option);
  });

  test('POSTAL gives the postal IBAN where a transfer has one; allCCP only when all have one', () => {
    const option = anOption({
      amountCents: 5000,
      transfers: [
        aTransfer({ index: 1, amountCents: 3000, postalIban: POSTAL }),
        aTransfer({ index: 2, amountCents: 2000 }),
      ],
    });
    const position = aPosition([option]);
    const key = { noticeNumber: option.noticeNumber };
    const postal = payableNotice(position, key, '2026-12-01', { postal: true });
    expect(postal.transfers.map((t) => t.iban)).toEqual([POSTAL, IBAN]);
    expect(postal.allPostal).toBe(false);
    expect(
      payableNotice(position, key, '2026-12-01', { postal: false }).transfers.map((t) => t.iban),
    ).toEqual([IBAN, IBAN]);

    const allPostal = anOption({ transfers: [aTransfer({ postalIban: POSTAL })] });
    expect(
      payableNotice(aPosition([allPostal]), { iuv: allPostal.iuv }, '2026-12-01', {
        postal: false,
      }).allPostal,
    ).toBe(true);
  });

  test('a marca da bollo transfer is stated as a stamp and flagged', () => {
    const stamp = { documentHash: 'ZmFrZS1oYXNo', type: '01' as const, province: 'LU' };
    const option = anOption({
      amountCents: 6600,
      transfers: [
        aTransfer({ index: 2, amountCents: 1600, iban: null, stamp }),
        aTransfer({ index: 1, amountCents: 5000 }),
      ],
    });
    const notice = payableNotice(aPosition([option]), { iuv: option.iuv }, '2026-12-01', {
      postal: true,
    });
    expect(notice.hasStamp).toBe(true);
    expect(notice.allPostal).toBe(false);
    expect(notice.transfers).toEqual([
      expect.objectContaining({ index: 1, iban: IBAN }),
      expect.objectContaining({ index: 2, stamp }),
    ]);
  });
});

describe('payableNotice: refusals (the PAA_PAGAMENTO_* faults)', () => {
  const today = '2026-12-10';

  test.each<[string, () => { position: NoticePosition; key: { noticeNumber: string } }, string]>([
    [
      'unknown notice number',
      () => ({ position: aPosition([anOption()]), key: { noticeNumber: '302999999999999999' } }),
      'not-found',
    ],
    [
      'before its validFrom day',
      () => {
        const o = anOption({ validFrom: '2026-12-11' });
        return { position: aPosition([o]), key: { noticeNumber: o.noticeNumber } };
      },
      'not-found',
    ],
    [
      'a cancelled position',
      () => {
        const o = anOption({ status: 'CANCELLED' });
        return {
          position: aPosition([o], { status: 'CANCELLED' }),
          key: { noticeNumber: o.noticeNumber },
        };
      },
      'position-cancelled',
    ],
    [
      'a paid option',
      () => {
        const o = anOption({ status: 'PAID' });
        return {
          position: aPosition([o], { status: 'PAID' }),
          key: { noticeNumber: o.noticeNumber },
        };
      },
      'position-paid',
    ],
    [
      'an alternative when the other alternative is paid',
      () => {
        const paid = anOption({ status: 'PAID' });
        const other = anOption();
        return {
          position: aPosition([paid, other], { plan: 'ALTERNATIVE', status: 'PAID' }),
          key: { noticeNumber: other.noticeNumber },
        };
      },
      'position-paid',
    ],
    [
      'a top-up past its validity (its due date)',
      () => {
        const o = anOption({ dueDate: '2026-12-09' });
        return {
          position: aPosition([o], { kind: 'TOP_UP' }),
          key: { noticeNumber: o.noticeNumber },
        };
      },
      'position-expired',
    ],
    [
      'a lapsed alternative (reduced amount) while a later one is unpaid',
      () => {
        const reduced = anOption({ amountCents: 2940, dueDate: '2026-12-07' });
        const full = anOption({ dueDate: '2027-01-31' });
        return {
          position: aPosition([reduced, full], { plan: 'ALTERNATIVE' }),
          key: { noticeNumber: reduced.noticeNumber },
        };
      },
      'position-expired',
    ],
  ])('%s', (_name, given, code) => {
    const { position, key } = given();
    expect(codeOf(() => payableNotice(position, key, today, { postal: false }))).toBe(code);
  });

  test.each<[string, NoticePosition['plan'], NoticePosition['kind'], string]>([
    ['a debt past its due date stays payable', 'SINGLE', 'DEBT', '2026-11-30'],
    ['an instalment past its due date stays payable', 'INSTALLMENT', 'DEBT', '2026-11-30'],
    ['a top-up on its last valid day is payable', 'SINGLE', 'TOP_UP', today],
  ])('%s', (_name, plan, kind, dueDate) => {
    const o = anOption({ dueDate });
    const notice = payableNotice(aPosition([o], { plan, kind }), { iuv: o.iuv }, today, {
      postal: false,
    });
    expect(notice.amountCents).toBe(4200);
  });

  test('the last alternative stays payable after its due date', () => {
    const reduced = anOption({ dueDate: '2026-12-01' });
    const full = anOption({ dueDate: '2026-12-05' });
    const notice = payableNotice(
      aPosition([reduced, full], { plan: 'ALTERNATIVE' }),
      { noticeNumber: full.noticeNumber },
      today,
      { postal: false },
    );
    expect(notice.option).toBe(full);
  });
});

describe('checkActivationAmount', () => {
  const option = anOption({ amountSchedule: [{ until: '2026-12-07', amountCents: 2940 }] });
  const notice = payableNotice(aPosition([option]), { iuv: option.iuv }, '2026-12-05', {
    postal: false,
  });

  test('the amount in force passes', () => {
    expect(() => checkActivationAmount(2940, notice)).not.toThrow();
  });

  test('another amount is amount-mismatch carrying the right amount', () => {
    let caught: unknown;
    try {
      checkActivationAmount(4200, notice);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('amount-mismatch');
    expect((caught as AppError).details).toEqual({ amountCents: 2940 });
    expect((caught as AppError).message).toMatch(/42\.00.*29\.40/);
  });
});
