import { amountInForce } from '../../../src/domain/positions/amount-in-force';
import { addDays, isIsoDate, romeDate } from '../../../src/domain/positions/dates';

describe('amountInForce', () => {
  // A road fine notified on 2026-03-02: 29.40 € within 5 days, 42.00 € after.
  const roadFine = {
    amountCents: 4200,
    amountSchedule: [{ until: '2026-03-07', amountCents: 2940 }],
  };
  const twoSteps = {
    amountCents: 10000,
    amountSchedule: [
      { until: '2026-01-10', amountCents: 7000 },
      { until: '2026-01-31', amountCents: 8500 },
    ],
  };

  test.each([
    [
      'no schedule: always the amount',
      { amountCents: 1500, amountSchedule: null },
      '2026-05-01',
      1500,
    ],
    ['road fine, day of notification', roadFine, '2026-03-02', 2940],
    ['road fine, last reduced day (inclusive)', roadFine, '2026-03-07', 2940],
    ['road fine, the day after', roadFine, '2026-03-08', 4200],
    ['road fine, long after', roadFine, '2026-12-31', 4200],
    ['two steps, first', twoSteps, '2026-01-01', 7000],
    ['two steps, second', twoSteps, '2026-01-11', 8500],
    ['two steps, second inclusive', twoSteps, '2026-01-31', 8500],
    ['two steps, after both', twoSteps, '2026-02-01', 10000],
    ['month boundary compared as days', roadFine, '2026-02-28', 2940],
  ])('%s', (_name, option, day, expected) => {
    expect(amountInForce(option, day)).toBe(expected);
  });
});

describe('calendar days', () => {
  test.each([
    // 23:30 UTC on 6 March is already 7 March in Rome (UTC+1 in winter).
    ['2026-03-06T23:30:00Z', '2026-03-07'],
    ['2026-03-06T22:59:59Z', '2026-03-06'],
    // Summer time: UTC+2.
    ['2026-07-14T22:00:00Z', '2026-07-15'],
    ['2026-07-14T21:59:59Z', '2026-07-14'],
  ])('romeDate(%s) is %s', (instant, day) => {
    expect(romeDate(new Date(instant))).toBe(day);
  });

  test.each([
    ['2026-02-28', true],
    ['2028-02-29', true],
    ['2026-02-29', false],
    ['2026-13-01', false],
    ['2026-1-01', false],
    ['20260101', false],
  ])('isIsoDate(%s) is %s', (text, ok) => {
    expect(isIsoDate(text)).toBe(ok);
  });

  test.each([
    ['2026-03-02', 5, '2026-03-07'],
    ['2026-02-26', 5, '2026-03-03'],
    ['2026-12-30', 3, '2027-01-02'],
    ['2026-03-01', -1, '2026-02-28'],
  ])('addDays(%s, %d) is %s', (day, days, expected) => {
    expect(addDays(day, days)).toBe(expected);
  });
});
