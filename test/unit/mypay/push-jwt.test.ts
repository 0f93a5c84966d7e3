import { createHmac } from 'node:crypto';
import {
  CLOCK_SKEW_SECONDS,
  pushToken,
  signPushJwt,
  verifyPushJwt,
} from '../../../src/adapters/mypay/push-jwt';

const SECRET = 'a-shared-secret-of-at-least-32-chars!';
const NOW = 1_700_000_000;
const verify = (token: string, extra: { issuer?: string; nowSeconds?: number } = {}) =>
  verifyPushJwt(token, { secret: SECRET, nowSeconds: NOW, ...extra });
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('MyPay push JWT (HS256)', () => {
  test('a token we sign verifies, with its claims', () => {
    const token = pushToken(SECRET, { issuer: 'mypay', nowSeconds: NOW, ttlSeconds: 120 });
    expect(verify(token, { issuer: 'mypay' })).toEqual({
      ok: true,
      claims: { iss: 'mypay', iat: NOW, exp: NOW + 120 },
    });
  });

  test('it matches an independent HS256 signature (RFC 7519 compact form)', () => {
    const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ exp: NOW + 10 })}`;
    const sig = createHmac('sha256', SECRET).update(input).digest('base64url');
    expect(verify(`${input}.${sig}`).ok).toBe(true);
    expect(signPushJwt(SECRET, { exp: NOW + 10 })).toBe(`${input}.${sig}`);
  });

  test('a changed payload, another secret or a truncated signature: bad-signature', () => {
    const token = pushToken(SECRET, { nowSeconds: NOW });
    const [h, , s] = token.split('.');
    expect(verify(`${h}.${b64({ exp: NOW + 9_999 })}.${s}`)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verify(pushToken('another-secret', { nowSeconds: NOW }))).toMatchObject({
      reason: 'bad-signature',
    });
    expect(verify(token.slice(0, -2))).toMatchObject({ reason: 'bad-signature' });
  });

  test('only HS256: none, HS512 and RS256 are refused before any signature check', () => {
    for (const alg of ['none', 'HS512', 'RS256']) {
      const input = `${b64({ alg })}.${b64({ exp: NOW + 10 })}`;
      const sig = createHmac('sha256', SECRET).update(input).digest('base64url');
      expect(verify(`${input}.${sig}`)).toEqual({ ok: false, reason: 'unsupported-algorithm' });
    }
  });

  test('exp is required and honoured with the clock skew; iat and nbf may not be in the future', () => {
    const exp = NOW + 10;
    const token = signPushJwt(SECRET, { exp });
    expect(verify(token, { nowSeconds: exp + CLOCK_SKEW_SECONDS }).ok).toBe(true);
    expect(verify(token, { nowSeconds: exp + CLOCK_SKEW_SECONDS + 1 })).toMatchObject({
      reason: 'expired',
    });
    expect(verify(signPushJwt(SECRET, {} as never))).toMatchObject({ reason: 'missing-exp' });
    expect(
      verify(signPushJwt(SECRET, { exp: NOW + 999, iat: NOW + CLOCK_SKEW_SECONDS + 1 })),
    ).toMatchObject({ reason: 'not-yet-valid' });
    expect(
      verify(signPushJwt(SECRET, { exp: NOW + 999, nbf: NOW + CLOCK_SKEW_SECONDS + 1 })),
    ).toMatchObject({ reason: 'not-yet-valid' });
    expect(verify(signPushJwt(SECRET, { exp: 'soon' } as never))).toMatchObject({
      reason: 'malformed',
    });
  });

  test('the issuer is checked only when configured', () => {
    const token = pushToken(SECRET, { issuer: 'someone', nowSeconds: NOW });
    expect(verify(token).ok).toBe(true);
    expect(verify(token, { issuer: 'mypay' })).toEqual({ ok: false, reason: 'wrong-issuer' });
  });

  test('not three base64url JSON parts: malformed', () => {
    for (const token of ['', 'a.b', 'a.b.c.d', `${b64({ alg: 'HS256' })}.bm90IGpzb24.c2ln`, '..']) {
      expect(verify(token)).toMatchObject({ ok: false, reason: 'malformed' });
    }
  });
});
