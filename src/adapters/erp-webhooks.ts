import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EventType, WebhookBody } from '../domain/notifications/events';

/**
 * Outbound ERP webhooks: the signed POST and the check the ERP runs on it.
 *
 * Scheme (Stripe-style, so the timestamp is signed too and a captured request cannot be replayed
 * later): `x-pagopa-adapter-signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`
 * where `<timestamp>` is `x-pagopa-adapter-timestamp` (unix seconds). The receiver recomputes the
 * HMAC over the raw bytes it received (before any JSON parsing), compares in constant time, and
 * refuses a timestamp further than its tolerance from its own clock. Several `v1=` values
 * separated by commas are accepted, so a secret can be rotated without downtime. The event id
 * (`x-pagopa-adapter-event-id`, also `id` in the body) is the receiver's deduplication key:
 * delivery is at least once.
 */

export const WEBHOOK_HEADERS = {
  eventId: 'x-pagopa-adapter-event-id',
  timestamp: 'x-pagopa-adapter-timestamp',
  signature: 'x-pagopa-adapter-signature',
} as const;

const SIGNATURE_VERSION = 'v1';
/** How much of a refusing receiver's answer is kept in `last_error` for operators. */
const RESPONSE_EXCERPT_MAX_BYTES = 300;

/** `v1=<hex>` for a timestamp (unix seconds) and the exact bytes sent. */
export function signWebhook(secret: string, timestampSeconds: number, rawBody: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`).digest('hex');
  return `${SIGNATURE_VERSION}=${mac}`;
}

export type WebhookEvent = {
  eventId: string;
  type: EventType;
  createdAt: Date;
  payload: unknown;
};

/** The body and headers of one delivery, signed for `nowSeconds`. */
export function buildWebhookRequest(
  event: WebhookEvent,
  secret: string,
  nowSeconds: number,
): { body: string; headers: Record<string, string> } {
  const body: WebhookBody = {
    id: event.eventId,
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    data: event.payload as WebhookBody['data'],
  };
  const raw = JSON.stringify(body);
  return {
    body: raw,
    headers: {
      'content-type': 'application/json',
      [WEBHOOK_HEADERS.eventId]: event.eventId,
      [WEBHOOK_HEADERS.timestamp]: String(nowSeconds),
      [WEBHOOK_HEADERS.signature]: signWebhook(secret, nowSeconds, raw),
    },
  };
}

export type VerifyResult =
  | { ok: true; eventId: string; timestampSeconds: number }
  | {
      ok: false;
      reason:
        'missing-header' | 'malformed-header' | 'timestamp-out-of-tolerance' | 'bad-signature';
    };

type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

const header = (headers: HeaderBag, name: string): string | undefined => {
  const direct = headers[name] ?? headers[name.toLowerCase()];
  const value = Array.isArray(direct) ? (direct as readonly string[])[0] : direct;
  return typeof value === 'string' ? value : undefined;
};

/**
 * Verifies a webhook as the ERP should: what our test receiver runs, and what the README shows.
 *
 * `rawBody` must be the bytes received, not a re-serialised parse (key order and spacing matter).
 * `headers` is Node's `req.headers` (lower-case names). A request whose timestamp is more than
 * `toleranceSeconds` from `nowSeconds` is refused even with a valid signature: that is what stops
 * a replay of an old captured request.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: HeaderBag,
  rawBody: string | Buffer,
  toleranceSeconds: number,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): VerifyResult {
  const eventId = header(headers, WEBHOOK_HEADERS.eventId);
  const timestamp = header(headers, WEBHOOK_HEADERS.timestamp);
  const signature = header(headers, WEBHOOK_HEADERS.signature);
  if (eventId === undefined || timestamp === undefined || signature === undefined) {
    return { ok: false, reason: 'missing-header' };
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed-header' };
  const timestampSeconds = Number(timestamp);
  const candidates = signature
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${SIGNATURE_VERSION}=`))
    .map((part) => part.slice(SIGNATURE_VERSION.length + 1));
  if (candidates.length === 0 || candidates.some((c) => !/^[0-9a-f]{64}$/.test(c))) {
    return { ok: false, reason: 'malformed-header' };
  }
  if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) {
    return { ok: false, reason: 'timestamp-out-of-tolerance' };
  }
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const expected = Buffer.from(
    signWebhook(secret, timestampSeconds, body).slice(SIGNATURE_VERSION.length + 1),
    'hex',
  );
  const matches = candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected));
  return matches ? { ok: true, eventId, timestampSeconds } : { ok: false, reason: 'bad-signature' };
}

export type DeliveryOutcome =
  { delivered: true; status: number } | { delivered: false; status: number | null; error: string };

/**
 * POSTs one signed event to the ERP. Never throws: every failure is an outcome to record.
 *
 * 2xx is delivered; anything else (3xx included: redirects are not followed, since a redirected
 * POST would lose its meaning) is a failed attempt. The answer's body is only read up to a short
 * excerpt, kept in the error for operators. Headers are never logged or returned (they carry
 * the signature).
 */
export async function deliverWebhook(
  target: { url: string; secret: string; timeoutMs: number },
  event: WebhookEvent,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<DeliveryOutcome> {
  const request = buildWebhookRequest(event, target.secret, nowSeconds);
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (err) {
    return { delivered: false, status: null, error: describeFetchError(err, target.timeoutMs) };
  }
  if (response.status >= 200 && response.status < 300) {
    await response.body?.cancel().catch(() => undefined);
    return { delivered: true, status: response.status };
  }
  const excerpt = await readExcerpt(response);
  return {
    delivered: false,
    status: response.status,
    error: `HTTP ${response.status}${excerpt === '' ? '' : `: ${excerpt}`}`,
  };
}

type ErrorLike = { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };

// Duck-typed, not `instanceof Error`: fetch's errors may come from another realm (test VMs).
const asErrorLike = (value: unknown): ErrorLike | undefined =>
  typeof value === 'object' && value !== null ? value : undefined;

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = asErrorLike(err);
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return `no answer within ${timeoutMs} ms`;
  }
  const message = typeof e?.message === 'string' ? e.message : String(err);
  // undici reports socket errors as TypeError('fetch failed') with the real reason as cause.
  const cause = asErrorLike(e?.cause);
  if (cause === undefined) return message;
  const code = typeof cause.code === 'string' ? `${cause.code} ` : '';
  const detail = typeof cause.message === 'string' ? cause.message : '';
  return `${message}: ${code}${detail}`.trim();
}

async function readExcerpt(response: Response): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_EXCERPT_MAX_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A broken answer body adds nothing to the status code.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks)
    .subarray(0, RESPONSE_EXCERPT_MAX_BYTES)
    .toString('utf8')
    .replace(/\s+/g, ' ')
    .trim();
}
