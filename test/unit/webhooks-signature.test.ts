import {
  buildWebhookRequest,
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_HEADERS,
} from '../../src/adapters/erp-webhooks';
import {
  retryDelayCapMs,
  retryDelayMs,
  type WebhookRetryPolicy,
} from '../../src/entry-points/worker/webhook-dispatcher';

const SECRET = 'whsec_test_0123456789abcdef0123456789';
const NOW = 1_700_000_000;
const TOLERANCE_S = 300;

const event = {
  eventId: '00000000-0000-4000-8000-000000000001',
  type: 'receipt.failed' as const,
  createdAt: new Date('2026-11-23T10:00:00.000Z'),
  payload: { domainId: '80000000001', receiptId: 7, amountCents: 1230 },
};

describe('webhook signature', () => {
  test('v1 is the hex HMAC-SHA256 of "<timestamp>.<raw body>" (vector computed with openssl)', () => {
    const body = '{"id":"00000000-0000-4000-8000-000000000001","type":"receipt.failed"}';
    expect(signWebhook(SECRET, NOW, body)).toBe(
      'v1=364c874e9c887ce36b1dee4105fccecd6c1d4eadaa35a30040572b1b4922f865',
    );
  });

  test('the request carries the event id, the timestamp and a signature over the exact body', () => {
    const { body, headers } = buildWebhookRequest(event, SECRET, NOW);
    expect(JSON.parse(body)).toEqual({
      id: event.eventId,
      type: 'receipt.failed',
      createdAt: '2026-11-23T10:00:00.000Z',
      data: event.payload,
    });
    expect(headers).toEqual({
      'content-type': 'application/json',
      [WEBHOOK_HEADERS.eventId]: event.eventId,
      [WEBHOOK_HEADERS.timestamp]: String(NOW),
      [WEBHOOK_HEADERS.signature]: signWebhook(SECRET, NOW, body),
    });
  });

  test('the receiver accepts what was sent, as a string or as the received bytes', () => {
    const { body, headers } = buildWebhookRequest(event, SECRET, NOW);
    const expected = { ok: true, eventId: event.eventId, timestampSeconds: NOW };
    expect(verifyWebhookSignature(SECRET, headers, body, TOLERANCE_S, NOW)).toEqual(expected);
    expect(verifyWebhookSignature(SECRET, headers, Buffer.from(body), TOLERANCE_S, NOW)).toEqual(
      expected,
    );
  });

  const sent = buildWebhookRequest(event, SECRET, NOW);
  test.each<[string, Record<string, string>, string, number, string]>([
    ['a wrong secret', sent.headers, sent.body, NOW, 'bad-signature'],
    [
      'a body changed by one byte',
      sent.headers,
      sent.body.replace('1230', '1231'),
      NOW,
      'bad-signature',
    ],
    [
      'a body re-serialised with other spacing',
      sent.headers,
      JSON.stringify(JSON.parse(sent.body), null, 1),
      NOW,
      'bad-signature',
    ],
    [
      'a timestamp changed after signing',
      { ...sent.headers, [WEBHOOK_HEADERS.timestamp]: String(NOW + 1) },
      sent.body,
      NOW,
      'bad-signature',
    ],
    [
      'a timestamp one second past the tolerance',
      sent.headers,
      sent.body,
      NOW + TOLERANCE_S + 1,
      'timestamp-out-of-tolerance',
    ],
    [
      'a timestamp from the future past the tolerance',
      sent.headers,
      sent.body,
      NOW - TOLERANCE_S - 1,
      'timestamp-out-of-tolerance',
    ],
    [
      'no signature header',
      { ...sent.headers, [WEBHOOK_HEADERS.signature]: undefined as unknown as string },
      sent.body,
      NOW,
      'missing-header',
    ],
    [
      'a signature of another scheme',
      { ...sent.headers, [WEBHOOK_HEADERS.signature]: 'v0=abc' },
      sent.body,
      NOW,
      'malformed-header',
    ],
    [
      'a timestamp that is not a number',
      { ...sent.headers, [WEBHOOK_HEADERS.timestamp]: '2026-11-23' },
      sent.body,
      NOW,
      'malformed-header',
    ],
  ])('refuses %s', (what, headers, body, now, reason) => {
    const secret = what === 'a wrong secret' ? `${SECRET}x` : SECRET;
    expect(verifyWebhookSignature(secret, headers, body, TOLERANCE_S, now)).toEqual({
      ok: false,
      reason,
    });
  });

  test('a timestamp exactly at the tolerance is still accepted', () => {
    expect(
      verifyWebhookSignature(SECRET, sent.headers, sent.body, TOLERANCE_S, NOW + TOLERANCE_S).ok,
    ).toBe(true);
  });

  test('during a secret rotation the receiver accepts either signature', () => {
    const other = signWebhook('the-old-secret', NOW, sent.body);
    const both = {
      ...sent.headers,
      [WEBHOOK_HEADERS.signature]: `${other}, ${sent.headers[WEBHOOK_HEADERS.signature] ?? ''}`,
    };
    expect(verifyWebhookSignature(SECRET, both, sent.body, TOLERANCE_S, NOW).ok).toBe(true);
    expect(verifyWebhookSignature('the-old-secret', both, sent.body, TOLERANCE_S, NOW).ok).toBe(
      true,
    );
    expect(verifyWebhookSignature('a-third-secret', both, sent.body, TOLERANCE_S, NOW).ok).toBe(
      false,
    );
  });
});

describe('webhook retry schedule (defaults: 20 attempts, base 60 s, cap 12 h, full jitter)', () => {
  const policy: WebhookRetryPolicy = {
    attemptsMax: 20,
    backoffBaseMs: 60_000,
    backoffMaxMs: 12 * 3_600_000,
  };
  const MIN = 60_000;

  test.each([
    [1, 1 * MIN],
    [2, 2 * MIN],
    [3, 4 * MIN],
    [5, 16 * MIN],
    [8, 128 * MIN],
    [10, 512 * MIN],
    [11, 720 * MIN],
    [19, 720 * MIN],
  ])('after failed attempt %i the wait is in [0, %i ms)', (failed, capMs) => {
    expect(retryDelayCapMs(failed, policy)).toBe(capMs);
    expect(retryDelayMs(failed, policy, () => 0)).toBe(0);
    expect(retryDelayMs(failed, policy, () => 0.5)).toBe(capMs / 2);
    expect(retryDelayMs(failed, policy, () => 0.999_999)).toBeLessThan(capMs);
    expect(retryDelayMs(failed, policy, () => 0.999_999)).toBeGreaterThan(capMs * 0.99);
  });

  test('the 20th failed attempt makes the event DEAD (no further wait)', () => {
    expect(retryDelayMs(20, policy, () => 0.5)).toBeNull();
    expect(retryDelayMs(21, policy, () => 0.5)).toBeNull();
  });

  test('the 19 waits span about 2.6 days on average and at most 5.2 days', () => {
    const caps = Array.from({ length: 19 }, (_, i) => retryDelayCapMs(i + 1, policy));
    const sumMs = caps.reduce((a, b) => a + b, 0);
    const dayMs = 24 * 3_600_000;
    expect(sumMs / 2 / dayMs).toBeCloseTo(2.6, 1);
    expect(sumMs / dayMs).toBeCloseTo(5.21, 2);
  });

  test('a huge attempt count does not overflow the cap', () => {
    expect(retryDelayCapMs(10_000, { ...policy, attemptsMax: 100_000 })).toBe(policy.backoffMaxMs);
  });
});
