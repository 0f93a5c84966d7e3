import { AppError } from '../../../src/domain/errors';
import { assertResendable } from '../../../src/domain/operations/activated-rpts';

/** Which activated RPT sends an operator may re-arm: FAILED always, SENT with force, PENDING never. */
describe('assertResendable', () => {
  const codeOf = (fn: () => void): string | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      return err instanceof AppError ? err.code : 'not an AppError';
    }
  };

  test('FAILED is re-sent with or without force', () => {
    expect(codeOf(() => assertResendable(1, 'FAILED', false))).toBeUndefined();
    expect(codeOf(() => assertResendable(1, 'FAILED', true))).toBeUndefined();
  });

  test('SENT only with force; without it a conflict that says how', () => {
    expect(codeOf(() => assertResendable(2, 'SENT', true))).toBeUndefined();
    expect(codeOf(() => assertResendable(2, 'SENT', false))).toBe('conflict');
    expect(() => assertResendable(2, 'SENT', false)).toThrow(/2 is SENT.*force/);
  });

  test('PENDING never, even forced: it is already in line', () => {
    expect(codeOf(() => assertResendable(3, 'PENDING', true))).toBe('conflict');
    expect(() => assertResendable(3, 'PENDING', false)).toThrow(/3 is PENDING/);
  });
});
