import { AppError } from '../../../src/domain/errors';
import { makeCardCode } from '../../../src/domain/codes/card-code';
import { checkCardCode } from '../../../src/domain/cards/card-code-lookup';
import {
  chargeIdempotencyKey,
  chargeLedgerAmount,
  chargeRequestHash,
  type ChargeRequest,
} from '../../../src/domain/cards/charges';
import { amountDueCents } from '../../../src/domain/cards/debt-due';
import { decodeCursor, encodeCursor, pageSize, toPage } from '../../../src/domain/cards/movements';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
};

describe('card code check before lookup', () => {
  const mod93 = makeCardCode('7212650937693', 'mod93');
  const mod97 = makeCardCode('7212650937693', 'mod97');

  test('a code is accepted when an algorithm in use accepts it', () => {
    expect(checkCardCode(mod93, ['mod93']).cardNumber).toBe('7212650937693');
    expect(checkCardCode(mod97, ['mod93', 'mod97']).checkDigits).toBe(mod97.slice(-2));
  });

  test('a wrong check digit is card-code-invalid, whatever the algorithms', () => {
    expect(mod93).not.toBe(mod97);
    expect(codeOf(() => checkCardCode(mod97, ['mod93']))).toBe('card-code-invalid');
    const typo = `${mod93.slice(0, -1)}${(Number(mod93.slice(-1)) + 1) % 10}`;
    expect(codeOf(() => checkCardCode(typo, ['mod93', 'mod93']))).toBe('card-code-invalid');
    expect(codeOf(() => checkCardCode('12a45', ['mod93']))).toBe('card-code-invalid');
    expect(codeOf(() => checkCardCode('1', ['mod93']))).toBe('card-code-invalid');
  });

  test('without any algorithm configured it is an internal error, not a silent accept', () => {
    expect(codeOf(() => checkCardCode(mod93, []))).toBe('internal');
  });
});

describe('charge idempotency', () => {
  const charge: ChargeRequest = {
    account: 'CANTEEN',
    amountCents: 450,
    reference: 'meal-2026-11-23-0001',
    description: 'Pranzo',
  };

  test('the key is scoped by domain and card, with the reference last', () => {
    expect(chargeIdempotencyKey('80000000001', '1234569', 'a:b')).toBe(
      'charge:80000000001:1234569:a:b',
    );
    expect(chargeIdempotencyKey('80000000001', '1234569', 'x')).not.toBe(
      chargeIdempotencyKey('80000000002', '1234569', 'x'),
    );
  });

  test('the request hash ignores key order and sees every field', () => {
    const reordered = {
      description: 'Pranzo',
      reference: 'meal-2026-11-23-0001',
      amountCents: 450,
      account: 'CANTEEN',
    } as const;
    expect(chargeRequestHash(reordered)).toBe(chargeRequestHash(charge));
    expect(chargeRequestHash(charge)).toMatch(/^[0-9a-f]{64}$/);
    for (const changed of [
      { ...charge, amountCents: 451 },
      { ...charge, account: 'NURSERY_MEALS' as const },
      { ...charge, description: 'Cena' },
      { ...charge, reference: 'meal-2026-11-23-0002' },
    ]) {
      expect(chargeRequestHash(changed)).not.toBe(chargeRequestHash(charge));
    }
  });

  test('a charge is a debit on the ledger', () => {
    expect(chargeLedgerAmount(charge)).toBe(-450);
  });
});

describe('movement cursors', () => {
  test.each([1, 42, 9_007_199_254_740_991])('the cursor of id %p reads back', (id) => {
    const cursor = encodeCursor(id);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toBe(id);
  });

  test.each([
    ['not base64url', '!!!'],
    ['not a number', Buffer.from('abc').toString('base64url')],
    ['zero', Buffer.from('0').toString('base64url')],
    ['a negative id', Buffer.from('-5').toString('base64url')],
    ['a leading zero', Buffer.from('07').toString('base64url')],
    ['beyond safe integers', Buffer.from('9007199254740993').toString('base64url')],
    ['padding', `${encodeCursor(5)}=`],
    ['empty', ''],
  ])('a cursor with %s is invalid input', (_what, cursor) => {
    expect(codeOf(() => decodeCursor(cursor))).toBe('invalid-input');
  });

  test('the page size defaults to 50, capped by the configured maximum', () => {
    expect(pageSize(undefined, 200)).toBe(50);
    expect(pageSize(undefined, 20)).toBe(20);
    expect(pageSize(7, 200)).toBe(7);
  });

  test('a page is cut from limit + 1 rows, with a cursor only when more exist', () => {
    const rows = [{ id: 9 }, { id: 7 }, { id: 4 }];
    expect(toPage(rows, 2)).toEqual({ items: [{ id: 9 }, { id: 7 }], nextCursor: encodeCursor(7) });
    expect(toPage(rows, 3)).toEqual({ items: rows, nextCursor: null });
    expect(toPage([], 3)).toEqual({ items: [], nextCursor: null });
  });
});

describe('amount due on an open debt position', () => {
  test.each([
    ['nothing unpaid', [], 0],
    ['one single option', [{ plan: 'SINGLE', amountCents: 3500 }], 3500],
    [
      'unpaid instalments add up',
      [
        { plan: 'INSTALLMENT', amountCents: 1000 },
        { plan: 'INSTALLMENT', amountCents: 1500 },
      ],
      2500,
    ],
    [
      'alternatives: the least one settles the debt',
      [
        { plan: 'ALTERNATIVE', amountCents: 4200 },
        { plan: 'ALTERNATIVE', amountCents: 2940 },
      ],
      2940,
    ],
  ] as const)('%s', (_what, options, expected) => {
    expect(amountDueCents(options)).toBe(expected);
  });
});
