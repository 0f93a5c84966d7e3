import { CircuitBreaker } from '../../../src/adapters/node-client/circuit-breaker';

function breakerAt(start = 1_000) {
  let now = start;
  const breaker = new CircuitBreaker({ failuresMax: 3, openMs: 10_000, now: () => now });
  return { breaker, advance: (ms: number) => (now += ms) };
}

describe('CircuitBreaker', () => {
  test('stays closed below the failure threshold, and a success resets the count', () => {
    const { breaker } = breakerAt();
    breaker.onFailure();
    breaker.onFailure();
    breaker.onSuccess();
    breaker.onFailure();
    breaker.onFailure();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  test('opens after N consecutive failures and refuses calls until the open period ends', () => {
    const { breaker, advance } = breakerAt();
    for (let i = 0; i < 3; i += 1) breaker.onFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    advance(9_999);
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.retryInMs).toBe(1);
  });

  test('half-open lets exactly one trial through; its success closes the circuit', () => {
    const { breaker, advance } = breakerAt();
    for (let i = 0; i < 3; i += 1) breaker.onFailure();
    advance(10_000);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.onSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  test('a failed trial opens the circuit for another full period', () => {
    const { breaker, advance } = breakerAt();
    for (let i = 0; i < 3; i += 1) breaker.onFailure();
    advance(10_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onFailure();
    expect(breaker.state).toBe('open');
    advance(9_000);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
  });

  test('a neutral trial (nothing learnt) frees the half-open slot without closing', () => {
    const { breaker, advance } = breakerAt();
    for (let i = 0; i < 3; i += 1) breaker.onFailure();
    advance(10_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onNeutral();
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
  });

  test('refuses a threshold below 1', () => {
    expect(() => new CircuitBreaker({ failuresMax: 0, openMs: 1 })).toThrow(RangeError);
  });
});
