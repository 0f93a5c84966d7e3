/**
 * The bearer token of MyPay's outcome push: a JWT (RFC 7519) signed HS256 with a secret shared
 * with MyPay (MYPAY_PUSH_JWT_SECRET). The adapter verifies it; the simulator signs with it.
 *
 * Why hand-made on node:crypto: HS256 is one HMAC, and no JWT library is a dependency. Only HS256
 * is accepted (never `none`, never an algorithm picked by the token), the signature is compared in
 * constant time, `exp` is required (a token without one would be valid forever), and `iat`/`nbf`
 * must not be in the future; all with a small clock skew between MyPay's clock and ours.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Seconds of disagreement tolerated between MyPay's clock and ours. */
export const CLOCK_SKEW_SECONDS = 60;

export type PushClaims = {
  readonly iss?: string;
  readonly sub?: string;
  readonly iat?: number;
  readonly nbf?: number;
  readonly exp: number;
  readonly [claim: string]: unknown;
};

export type JwtCheck =
  | { readonly ok: true; readonly claims: PushClaims }
  | {
      readonly ok: false;
      readonly reason:
        | 'malformed'
        | 'unsupported-algorithm'
        | 'bad-signature'
        | 'expired'
        | 'not-yet-valid'
        | 'missing-exp'
        | 'wrong-issuer';
    };

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');
const B64URL = /^[A-Za-z0-9_-]*$/;

function hmac(secret: string, signingInput: string): Buffer {
  return createHmac('sha256', secret).update(signingInput).digest();
}

/** Signs claims as a compact HS256 JWT. */
export function signPushJwt(secret: string, claims: PushClaims): string {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${hmac(secret, input).toString('base64url')}`;
}

/** A token valid for `ttlSeconds` from now (the simulator's push; tests). */
export function pushToken(
  secret: string,
  options: { issuer?: string; ttlSeconds?: number; nowSeconds?: number } = {},
): string {
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  return signPushJwt(secret, {
    ...(options.issuer === undefined ? {} : { iss: options.issuer }),
    iat: now,
    exp: now + (options.ttlSeconds ?? 300),
  });
}

function decodeJson(part: string): unknown {
  if (!B64URL.test(part)) return undefined;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const optNumber = (v: unknown): boolean => v === undefined || typeof v === 'number';

/** Verifies a compact JWT: structure, algorithm, signature, then the time and issuer claims. */
export function verifyPushJwt(
  token: string,
  options: { secret: string; issuer?: string; nowSeconds?: number },
): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [h = '', p = '', s = ''] = parts;
  const header = decodeJson(h);
  const payload = decodeJson(p);
  if (!isObject(header) || !isObject(payload) || !B64URL.test(s) || s === '') {
    return { ok: false, reason: 'malformed' };
  }
  if (header['alg'] !== 'HS256') return { ok: false, reason: 'unsupported-algorithm' };
  const expected = hmac(options.secret, `${h}.${p}`);
  const given = Buffer.from(s, 'base64url');
  // Lengths first: timingSafeEqual throws on different lengths (which reveals nothing secret).
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad-signature' };
  }
  const { exp, iat, nbf, iss } = payload;
  if (!optNumber(iat) || !optNumber(nbf) || !optNumber(exp)) {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof exp !== 'number') return { ok: false, reason: 'missing-exp' };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (now > exp + CLOCK_SKEW_SECONDS) return { ok: false, reason: 'expired' };
  if (
    (typeof iat === 'number' && iat > now + CLOCK_SKEW_SECONDS) ||
    (typeof nbf === 'number' && nbf > now + CLOCK_SKEW_SECONDS)
  ) {
    return { ok: false, reason: 'not-yet-valid' };
  }
  if (options.issuer !== undefined && iss !== options.issuer) {
    return { ok: false, reason: 'wrong-issuer' };
  }
  return { ok: true, claims: payload as PushClaims };
}
