import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { recordAudit } from './audit-repository';
import { AppError } from '../domain/errors';
import type { EventType, NewOutboxEvent } from '../domain/notifications/events';

/**
 * The outbox of events for the ERP (see migration 0007).
 *
 * Writers call `appendOutboxEvent` inside their own transaction, so the event is committed with
 * the change it announces or not at all. Only the webhook dispatcher and the operator CLI change
 * rows afterwards. Every time comparison uses the database clock (`NOW(3)`), never a process
 * clock, because several workers on several hosts share the table.
 */

export const OUTBOX_STATES = ['PENDING', 'DELIVERED', 'DEAD'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

export type OutboxEvent = {
  id: number;
  eventId: string;
  type: EventType;
  domainId: string | null;
  payload: unknown;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  lastStatus: number | null;
  createdAt: Date;
  deliveredAt: Date | null;
};

type OutboxRow = {
  id: number | string;
  event_id: string;
  type: EventType;
  domain_id: string | null;
  payload: unknown;
  state: OutboxState;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  last_status: number | null;
  created_at: Date;
  delivered_at: Date | null;
};

const TABLE = 'outbox_events';
const LAST_ERROR_MAX_CHARS = 1000;
/** Far above any real payload (ids and amounts); a bigger one is a bug upstream, not an event. */
const PAYLOAD_MAX_BYTES = 64 * 1024;
/** Keys that would mean personal data slipped into a payload (see domain/notifications/events.ts). */
const FORBIDDEN_KEY = /fiscal|debtor|payer|email|fullname/i;

const toOutboxEvent = (row: OutboxRow): OutboxEvent => ({
  id: Number(row.id),
  eventId: row.event_id,
  type: row.type,
  domainId: row.domain_id,
  // mysql2 returns MariaDB JSON columns (LONGTEXT) as strings.
  payload: typeof row.payload === 'string' ? (JSON.parse(row.payload) as unknown) : row.payload,
  state: row.state,
  attempts: Number(row.attempts),
  nextAttemptAt: row.next_attempt_at,
  lastError: row.last_error,
  lastStatus: row.last_status === null ? null : Number(row.last_status),
  createdAt: row.created_at,
  deliveredAt: row.delivered_at,
});

function assertNoPersonalData(value: unknown, path: string): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertNoPersonalData(item, `${path}[${i}]`));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, inner] of Object.entries(value)) {
    if (FORBIDDEN_KEY.test(key)) {
      throw new AppError(
        'internal',
        `outbox payload must not carry personal data (${path}.${key})`,
      );
    }
    assertNoPersonalData(inner, `${path}.${key}`);
  }
}

/**
 * Appends an event to the outbox, in the caller's transaction.
 *
 * Why the caller's transaction: the event must be committed exactly when the change it announces
 * is (a reconciled payment, a failed receipt, a finished billing run), so neither can exist
 * without the other. The dispatcher delivers it later, at least once.
 * @returns the row id and the event id the ERP will see (a UUID, its deduplication key).
 * @throws AppError('internal') when the payload carries personal-data keys or is oversized.
 */
export async function appendOutboxEvent(
  trx: Knex.Transaction,
  event: NewOutboxEvent,
): Promise<{ id: number; eventId: string }> {
  const insert = outboxInsert(event);
  const [header] = (await trx.raw(insert.sql, insert.bindings)) as [{ insertId: number }];
  return { id: Number(header.insertId), eventId: insert.eventId };
}

/**
 * The checked INSERT of an outbox event, for callers that send it among other statements
 * (the reconciler's single write round trip). `payloadSql` wraps the payload's placeholder, e.g.
 * to set a field from a session variable: `JSON_SET(?, '$.ledgerEntryId', @entry_id)`.
 * @throws AppError('internal') when the payload carries personal-data keys or is oversized.
 */
export function outboxInsert(
  event: NewOutboxEvent,
  payloadSql = '?',
): { sql: string; bindings: (string | null)[]; eventId: string } {
  assertNoPersonalData(event.payload, 'payload');
  const payload = JSON.stringify(event.payload);
  if (Buffer.byteLength(payload) > PAYLOAD_MAX_BYTES) {
    throw new AppError(
      'internal',
      `outbox payload of ${event.type} exceeds ${PAYLOAD_MAX_BYTES} bytes`,
    );
  }
  const eventId = randomUUID();
  // Prebuilt SQL: one event per receipt reconciled, on the worker's hot path.
  return {
    sql: `INSERT INTO ${TABLE} (event_id, type, domain_id, payload) VALUES (?, ?, ?, ${payloadSql})`,
    bindings: [eventId, event.type, event.domainId ?? null, payload],
    eventId,
  };
}

/**
 * Claims up to `batchSize` due PENDING events for one dispatcher, in a short transaction.
 *
 * Why SKIP LOCKED and a lease: dispatchers on several workers run the same query; rows locked by
 * one are skipped by the others, and pushing `next_attempt_at` forward by `leaseMs` keeps them
 * invisible after the commit while the HTTP calls run outside any transaction. A dispatcher that
 * dies mid-batch only delays its events by the lease; they are then claimed again.
 */
export async function claimDueEvents(
  db: Knex,
  options: { batchSize: number; leaseMs: number },
): Promise<OutboxEvent[]> {
  return db.transaction(async (trx) => {
    const rows = (await trx(TABLE)
      .select('*')
      .where('state', 'PENDING')
      .andWhere('next_attempt_at', '<=', trx.raw('NOW(3)'))
      .orderBy('id')
      .limit(options.batchSize)
      .forUpdate()
      .skipLocked()) as OutboxRow[];
    if (rows.length === 0) return [];
    await trx(TABLE)
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .update({
        next_attempt_at: trx.raw('DATE_ADD(NOW(3), INTERVAL ? MICROSECOND)', [
          options.leaseMs * 1000,
        ]),
      });
    return rows.map(toOutboxEvent);
  });
}

/**
 * The fence of every outcome update: the row is still PENDING with the attempts count seen at
 * claim time. When a lease expired and another dispatcher already recorded an outcome, the
 * update changes nothing and the late outcome is dropped.
 */
const claimed = (db: Knex, event: Pick<OutboxEvent, 'id' | 'attempts'>) =>
  db(TABLE).where({ id: event.id, state: 'PENDING', attempts: event.attempts });

/** Records a 2xx answer. @returns false when the claim was lost (see `claimed`). */
export async function markDelivered(
  db: Knex,
  event: Pick<OutboxEvent, 'id' | 'attempts'>,
  status: number,
): Promise<boolean> {
  const changed = await claimed(db, event).update({
    state: 'DELIVERED',
    attempts: event.attempts + 1,
    last_status: status,
    last_error: null,
    delivered_at: db.raw('NOW(3)'),
  });
  return changed === 1;
}

/**
 * Records a failed attempt: PENDING again after `retryInMs`, or DEAD when `retryInMs` is null.
 * @returns false when the claim was lost (see `claimed`).
 */
export async function markFailed(
  db: Knex,
  event: Pick<OutboxEvent, 'id' | 'attempts'>,
  outcome: { status: number | null; error: string; retryInMs: number | null },
): Promise<boolean> {
  const changed = await claimed(db, event).update({
    state: outcome.retryInMs === null ? 'DEAD' : 'PENDING',
    attempts: event.attempts + 1,
    last_status: outcome.status,
    last_error: outcome.error.slice(0, LAST_ERROR_MAX_CHARS),
    next_attempt_at:
      outcome.retryInMs === null
        ? db.raw('NOW(3)')
        : db.raw('DATE_ADD(NOW(3), INTERVAL ? MICROSECOND)', [
            Math.round(outcome.retryInMs) * 1000,
          ]),
  });
  return changed === 1;
}

/**
 * Gives back claimed events that were not attempted (the dispatcher is stopping), so another
 * worker can deliver them now instead of after the lease.
 */
export async function releaseClaims(
  db: Knex,
  events: readonly Pick<OutboxEvent, 'id' | 'attempts'>[],
): Promise<void> {
  for (const event of events) {
    await claimed(db, event).update({ next_attempt_at: db.raw('NOW(3)') });
  }
}

/** Lists events, newest first, optionally by state. `limit` is the caller's bound. */
export async function listOutboxEvents(
  db: Knex,
  filter: { state?: OutboxState; limit: number },
): Promise<OutboxEvent[]> {
  const query = db(TABLE).select('*').orderBy('id', 'desc').limit(filter.limit);
  if (filter.state !== undefined) void query.where('state', filter.state);
  return ((await query) as OutboxRow[]).map(toOutboxEvent);
}

/** Which events an operator puts back in line: one by event id, or the oldest N in a state. */
export type RedeliverySelection =
  { eventId: string } | { state: Exclude<OutboxState, 'PENDING'>; limit: number };

const selectForRedelivery = (db: Knex, selection: RedeliverySelection) =>
  'eventId' in selection
    ? db(TABLE).select('*').where('event_id', selection.eventId)
    : db(TABLE).select('*').where('state', selection.state).orderBy('id').limit(selection.limit);

/** What a redelivery would touch, without changing anything (the CLI's dry run). */
export async function findForRedelivery(
  db: Knex,
  selection: RedeliverySelection,
): Promise<OutboxEvent[]> {
  return ((await selectForRedelivery(db, selection)) as OutboxRow[]).map(toOutboxEvent);
}

/**
 * Puts DEAD (or DELIVERED) events back in the delivery line (PENDING, attempts 0, due now) and
 * writes one audit row per event, all in one transaction.
 *
 * Why the same event id: the ERP deduplicates on it, so a redelivery of something it already
 * processed is harmless, and an operator can replay without first asking whether it arrived.
 * @returns the events as they were before (PENDING ones are skipped: already in line).
 * @throws AppError('not-found') when an event id is given and does not exist.
 */
export async function redeliverOutboxEvents(
  db: Knex,
  selection: RedeliverySelection,
  audit: { actor: string; reason: string },
): Promise<OutboxEvent[]> {
  return db.transaction(async (trx) => {
    const rows = (await selectForRedelivery(trx, selection).forUpdate()) as OutboxRow[];
    if ('eventId' in selection && rows.length === 0) {
      throw new AppError('not-found', `no outbox event ${selection.eventId}`);
    }
    const events = rows.map(toOutboxEvent).filter((e) => e.state !== 'PENDING');
    for (const event of events) {
      await trx(TABLE)
        .where('id', event.id)
        .update({
          state: 'PENDING',
          attempts: 0,
          next_attempt_at: trx.raw('NOW(3)'),
          delivered_at: null,
        });
      await recordAudit(trx, {
        actor: audit.actor,
        action: 'webhook.redeliver',
        subjectType: 'outbox_event',
        subjectId: event.eventId,
        reason: audit.reason,
        before: {
          state: event.state,
          attempts: event.attempts,
          lastStatus: event.lastStatus,
          lastError: event.lastError,
        },
        after: { state: 'PENDING', attempts: 0 },
      });
    }
    return events;
  });
}
