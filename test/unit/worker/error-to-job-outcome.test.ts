import { UnrecoverableError } from 'bullmq';
import { AppError, ERROR_CODES } from '../../../src/domain/errors';
import { errorToJobOutcome } from '../../../src/entry-points/worker/error-to-job-outcome';

describe('errorToJobOutcome', () => {
  test.each([
    ['a deadlock', Object.assign(new Error('Deadlock found'), { errno: 1213 })],
    ['a lock wait timeout', Object.assign(new Error('Lock wait timeout'), { errno: 1205 })],
    [
      'a lost connection',
      Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' }),
    ],
    ['a refused connection', Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })],
    ['a pool timeout', Object.assign(new Error('Knex: Timeout'), { name: 'KnexTimeoutError' })],
    ['an upstream error', new AppError('upstream-error', 'node 502')],
  ])('%s is retried with the original error', (_name, err) => {
    const outcome = errorToJobOutcome(err);
    expect(outcome.action).toBe('retry');
    expect(outcome.error).toBe(err);
  });

  test('a deadlock is classified as dependency-down', () => {
    expect(errorToJobOutcome(Object.assign(new Error('x'), { errno: 1213 })).code).toBe(
      'dependency-down',
    );
  });

  test.each([
    'amount-mismatch',
    'idempotency-conflict',
    'not-found',
    'position-cancelled',
  ] as const)('%s stops the job at once with an UnrecoverableError naming the code', (code) => {
    const outcome = errorToJobOutcome(new AppError(code, 'detail'));
    expect(outcome.action).toBe('stop');
    expect(outcome.error).toBeInstanceOf(UnrecoverableError);
    expect(outcome.error.message).toBe(`${code}: detail`);
  });

  test('every catalogued code gets a decision, and only infrastructure and unknowns retry', () => {
    const retried = ERROR_CODES.filter(
      (code) => errorToJobOutcome(new AppError(code, 'x')).action === 'retry',
    );
    expect(retried.sort()).toEqual(['dependency-down', 'internal', 'upstream-error']);
  });

  test('an unknown throwable is internal and retried (bounded by the job attempts)', () => {
    const outcome = errorToJobOutcome('boom');
    expect(outcome).toMatchObject({ action: 'retry', code: 'internal' });
  });
});
