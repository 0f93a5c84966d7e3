import type { Knex } from 'knex';

/**
 * The audit trail: who did what to which thing, when, why, and the state before and after.
 * Rows are only ever inserted (no UPDATE or DELETE anywhere), in the transaction of the action
 * they describe, so an action and its audit line commit or roll back together.
 */
export type AuditEvent = {
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  reason?: string | null;
  before?: unknown;
  after?: unknown;
  requestId?: string | null;
};

export async function recordAudit(trx: Knex | Knex.Transaction, event: AuditEvent): Promise<void> {
  await trx('audit_events').insert({
    actor: event.actor,
    action: event.action,
    subject_type: event.subjectType,
    subject_id: event.subjectId,
    reason: event.reason ?? null,
    before_state: event.before === undefined ? null : JSON.stringify(event.before),
    after_state: event.after === undefined ? null : JSON.stringify(event.after),
    request_id: event.requestId ?? null,
  });
}

export type StoredAuditEvent = AuditEvent & { id: number; occurredAt: Date };

type Row = {
  id: number | string;
  occurred_at: Date;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  reason: string | null;
  before_state: unknown;
  after_state: unknown;
  request_id: string | null;
};

const parseJson = (value: unknown): unknown =>
  typeof value === 'string' ? (JSON.parse(value) as unknown) : value;

/** Audit lines, newest first, after an optional id cursor, filtered by subject or actor. */
export async function listAudit(
  db: Knex,
  filter: {
    subjectType?: string;
    subjectId?: string;
    actor?: string;
    from?: Date;
    to?: Date;
    beforeId?: number;
    limit: number;
  },
): Promise<StoredAuditEvent[]> {
  const q = db<Row>('audit_events').orderBy('id', 'desc').limit(filter.limit);
  if (filter.subjectType !== undefined) q.where('subject_type', filter.subjectType);
  if (filter.subjectId !== undefined) q.where('subject_id', filter.subjectId);
  if (filter.actor !== undefined) q.where('actor', filter.actor);
  if (filter.from !== undefined) q.where('occurred_at', '>=', filter.from);
  if (filter.to !== undefined) q.where('occurred_at', '<', filter.to);
  if (filter.beforeId !== undefined) q.where('id', '<', filter.beforeId);
  const rows = (await q) as Row[];
  return rows.map((r) => ({
    id: Number(r.id),
    occurredAt: r.occurred_at,
    actor: r.actor,
    action: r.action,
    subjectType: r.subject_type,
    subjectId: r.subject_id,
    reason: r.reason,
    before: parseJson(r.before_state),
    after: parseJson(r.after_state),
    requestId: r.request_id,
  }));
}
