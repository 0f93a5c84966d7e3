import type { Queue } from 'bullmq';
import { z } from 'zod';
import { queueInventory, reconcileJobs, isLiveJobState } from '../../../adapters/reconcile-jobs';
import {
  listActivatedSends,
  resendActivatedSends,
  type ActivatedSendSummary,
} from '../../../data-access/activated-rpt-sends-repository';
import { listAudit } from '../../../data-access/audit-repository';
import {
  attachQuarantined,
  cancelPositionByOperator,
  countReceiptsByState,
  findReceiptDetail,
  listAwaitingReceipts,
  listReceipts,
  markPositionPaidOutside,
  markRefundedOutside,
  releaseQuarantined,
  replayOne,
  reverseLedgerEntry,
  selectReceiptIds,
  toAuditLine,
  type AttachTarget,
} from '../../../data-access/operations-repository';
import {
  findForRedelivery,
  listOutboxEvents,
  OUTBOX_STATES,
  redeliverOutboxEvents,
  type OutboxEvent,
} from '../../../data-access/outbox-repository';
import { OFFLINE_CHANNELS } from '../../../data-access/positions-repository';
import { AppError } from '../../../domain/errors';
import { ACTIVATED_RPT_STATES, RESEND_IDS_MAX } from '../../../domain/operations/activated-rpts';
import { auditCsvHeader, auditCsvRow, prettyXml } from '../../../domain/operations/formats';
import {
  REASON_MAX_CHARS,
  REPLAY_LIMIT_MAX,
  replayReceipts,
} from '../../../domain/operations/replay';
import {
  INVENTORY_STATES,
  type Actor,
  type AuditLine,
  type ReceiptDetail,
  type ReceiptSummary,
  type ReconcileJobs,
  type ReplayItem,
} from '../../../domain/operations/types';
import { RECONCILE_JOB_NAME } from '../../soap/handlers/pa-send-rt';
import type { ApiDeps } from './index';
import {
  CursorParam,
  decodeCursor,
  FiscalCodePA,
  page,
  pageLimit,
  resolveDomain,
} from './payments-routes';
import { defineRoute, ProblemSchema, type RouteSpec } from './route';

/**
 * The ops API (`/ops/v1`, role `operator`): the receipts inventory, one receipt inspected, replays
 * (dry run unless `execute: true`), quarantine, position fixes, webhooks and the audit trail.
 * The same repository functions and use cases serve the CLI and the console; every action needs
 * a reason and is audited with the calling key's name (`api:<key name>`).
 */

const AUDIT_EXPORT_MAX = 100_000;
const AUDIT_EXPORT_PAGE = 1_000;

const Reason = z.string().trim().min(1).max(REASON_MAX_CHARS);
const Execute = z.boolean().default(false);
const Id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const Iuv = z.string().regex(/^[A-Za-z0-9]{1,35}$/, 'must be 1 to 35 letters or digits');
const ExternalId = z.string().min(1).max(100);

const ReceiptOut = z.object({
  id: z.number().int(),
  domain: z.string(),
  iuv: z.string(),
  receiptKey: z.string(),
  noticeNumber: z.string().nullable(),
  source: z.string(),
  outcome: z.string(),
  amountCents: z.number().int(),
  state: z.enum(['RECEIVED', 'RECONCILED', 'FAILED', 'QUARANTINED']),
  reason: z.string().nullable(),
  stationId: z.string().nullable(),
  debtPositionId: z.number().int().nullable(),
  conflicts: z.number().int(),
  receivedAt: z.string(),
  updatedAt: z.string(),
  ageSeconds: z.number().int(),
});

const JobOut = z.object({
  jobId: z.string(),
  state: z.string(),
  attemptsMade: z.number().int(),
  failedReason: z.string().nullable(),
  errors: z.array(z.string()),
  createdAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

const AuditOut = z.object({
  id: z.number().int(),
  occurredAt: z.string(),
  actor: z.string(),
  action: z.string(),
  subjectType: z.string(),
  subjectId: z.string(),
  reason: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
});

const ReceiptDetailOut = ReceiptOut.extend({
  rawXml: z.string(),
  prettyXml: z.string(),
  parsed: z.unknown(),
  paidAt: z.string().nullable(),
  history: z.array(
    z.object({
      from: z.string().nullable(),
      to: z.string(),
      reason: z.string().nullable(),
      actor: z.string(),
      at: z.string(),
    }),
  ),
  conflictingContents: z.array(
    z.object({
      id: z.number().int(),
      payloadHash: z.string(),
      rawXml: z.string(),
      receivedAt: z.string(),
    }),
  ),
  position: z
    .object({
      id: z.number().int(),
      domain: z.string(),
      externalId: z.string(),
      kind: z.string(),
      status: z.string(),
      cardId: z.number().int().nullable(),
      account: z.string().nullable(),
      options: z.array(
        z.object({
          id: z.number().int(),
          iuv: z.string(),
          noticeNumber: z.string(),
          amountCents: z.number().int(),
          paidAmountCents: z.number().int(),
          status: z.string(),
        }),
      ),
    })
    .nullable(),
  ledgerEntries: z.array(
    z.object({
      id: z.number().int(),
      cardAccountId: z.number().int(),
      amountCents: z.number().int(),
      kind: z.string(),
      idempotencyKey: z.string(),
      reversesEntryId: z.number().int().nullable(),
      balanceAfterCents: z.number().int(),
      createdAt: z.string(),
    }),
  ),
  job: JobOut.nullable(),
  audit: z.array(AuditOut),
});

const ReplayItemOut = z.object({
  receiptId: z.number().int(),
  domain: z.string(),
  iuv: z.string(),
  stateBefore: z.string(),
  action: z.enum(['replayed', 'requeued', 'already-queued', 'skipped']),
  jobAction: z.enum(['retried', 'added', 'live']).nullable(),
  detail: z.string(),
});

const ReplayReportOut = z.object({
  executed: z.boolean(),
  items: z.array(ReplayItemOut),
  counts: z.record(z.string(), z.number().int()),
});

const OutboxEventOut = z.object({
  eventId: z.string(),
  type: z.string(),
  domain: z.string().nullable(),
  state: z.enum(OUTBOX_STATES),
  attempts: z.number().int(),
  nextAttemptAt: z.string(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
});

const ActivatedRptOut = z.object({
  id: z.number().int(),
  paymentId: z.string(),
  domain: z.string(),
  iuv: z.string(),
  ccp: z.string(),
  psp: z.object({ pspId: z.string(), pspBrokerId: z.string(), channelId: z.string() }),
  state: z.enum(ACTIVATED_RPT_STATES),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  activatedAt: z.string(),
  updatedAt: z.string(),
});

export const toActivatedRptOut = (s: ActivatedSendSummary) => ({
  id: s.id,
  paymentId: s.paymentId,
  domain: s.domainId,
  iuv: s.iuv,
  ccp: s.ccp,
  psp: { ...s.psp },
  state: s.state,
  attempts: s.attempts,
  lastError: s.lastError,
  activatedAt: s.activatedAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

export const toReceiptOut = (r: ReceiptSummary, now: Date = new Date()) => ({
  id: r.id,
  domain: r.domainId,
  iuv: r.iuv,
  receiptKey: r.receiptKey,
  noticeNumber: r.noticeNumber,
  source: r.source,
  outcome: r.outcome,
  amountCents: r.amountCents,
  state: r.state,
  reason: r.reason,
  stationId: r.stationId,
  debtPositionId: r.debtPositionId,
  conflicts: r.conflicts,
  receivedAt: r.receivedAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
  ageSeconds: Math.max(0, Math.floor((now.getTime() - r.receivedAt.getTime()) / 1000)),
});

export const toAuditOut = (a: AuditLine) => ({
  id: a.id,
  occurredAt: a.occurredAt.toISOString(),
  actor: a.actor,
  action: a.action,
  subjectType: a.subjectType,
  subjectId: a.subjectId,
  reason: a.reason,
  before: a.before,
  after: a.after,
});

const toReplayItemOut = (i: ReplayItem) => ({
  receiptId: i.receiptId,
  domain: i.domainId,
  iuv: i.iuv,
  stateBefore: i.stateBefore,
  action: i.action,
  jobAction: i.jobAction,
  detail: i.detail,
});

const toOutboxOut = (e: OutboxEvent) => ({
  eventId: e.eventId,
  type: e.type,
  domain: e.domainId,
  state: e.state,
  attempts: e.attempts,
  nextAttemptAt: e.nextAttemptAt.toISOString(),
  lastStatus: e.lastStatus,
  lastError: e.lastError,
  createdAt: e.createdAt.toISOString(),
  deliveredAt: e.deliveredAt?.toISOString() ?? null,
});

/** The reconcile queue's jobs, or a 503 when this process has no queue (API without Redis). */
export function jobsOf(queue: Queue | undefined): ReconcileJobs {
  if (queue === undefined) {
    throw new AppError('dependency-down', 'this process has no reconcile queue (Redis)');
  }
  return reconcileJobs(queue, RECONCILE_JOB_NAME);
}

/** Everything the inspect views show: the stored receipt plus its job as BullMQ keeps it. */
export async function inspectReceipt(
  deps: Pick<ApiDeps, 'db' | 'reconcileQueue'>,
  receiptId: number,
): Promise<{ receipt: ReceiptDetail; job: Awaited<ReturnType<ReconcileJobs['describe']>> }> {
  const receipt = await findReceiptDetail(deps.db, receiptId);
  if (receipt === undefined) throw new AppError('not-found', `no receipt ${receiptId}`);
  let job = null;
  if (deps.reconcileQueue !== undefined) {
    job = await jobsOf(deps.reconcileQueue)
      .describe({
        receiptId,
        domainId: receipt.domainId,
        iuv: receipt.iuv,
        receiptKey: receipt.receiptKey,
      })
      .catch(() => null);
  }
  return { receipt, job };
}

export const toReceiptDetailOut = (
  { receipt: r, job }: Awaited<ReturnType<typeof inspectReceipt>>,
  now: Date = new Date(),
) => ({
  ...toReceiptOut(r, now),
  rawXml: r.rawXml,
  prettyXml: prettyXml(r.rawXml),
  parsed: r.parsed,
  paidAt: r.paidAt?.toISOString() ?? null,
  history: r.history.map((h) => ({ ...h, at: h.at.toISOString() })),
  conflictingContents: r.conflictingContents.map((c) => ({
    ...c,
    receivedAt: c.receivedAt.toISOString(),
  })),
  position:
    r.position === null
      ? null
      : {
          id: r.position.id,
          domain: r.position.domainId,
          externalId: r.position.externalId,
          kind: r.position.kind,
          status: r.position.status,
          cardId: r.position.cardId,
          account: r.position.account,
          options: [...r.position.options],
        },
  ledgerEntries: r.ledgerEntries.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })),
  job:
    job === null
      ? null
      : {
          ...job,
          errors: [...job.errors],
          createdAt: job.createdAt?.toISOString() ?? null,
          finishedAt: job.finishedAt?.toISOString() ?? null,
        },
  audit: r.audit.map(toAuditOut),
});

/** Replays one receipt or a set through the shared use case. */
export function replayWith(
  deps: Pick<ApiDeps, 'db' | 'reconcileQueue'>,
  selection: Parameters<typeof replayReceipts>[1],
  options: { execute: boolean; actor: Actor },
) {
  const jobs = jobsOf(deps.reconcileQueue);
  return replayReceipts(
    {
      selectReceiptIds: (filter, limit) => selectReceiptIds(deps.db, filter, limit),
      replayOne: (id, o) => replayOne(deps.db, jobs, isLiveJobState, id, o),
    },
    selection,
    options,
  );
}

const ReceiptFilterQuery = {
  state: z.enum(INVENTORY_STATES).optional(),
  domain: FiscalCodePA.optional(),
  iuv: Iuv.optional(),
  reasonContains: z.string().min(1).max(200).optional(),
  olderThanMinutes: z.coerce.number().int().min(0).max(525_600).optional(),
};

const filterOf = (q: {
  state?: (typeof INVENTORY_STATES)[number] | undefined;
  domain?: string | undefined;
  iuv?: string | undefined;
  reasonContains?: string | undefined;
  olderThanMinutes?: number | undefined;
}) => ({
  state: q.state,
  domainId: q.domain,
  iuv: q.iuv,
  reasonContains: q.reasonContains,
  olderThanMs: q.olderThanMinutes === undefined ? undefined : q.olderThanMinutes * 60_000,
});

const actorOf = (principalName: string, reason: string, requestId: string): Actor => ({
  name: `api:${principalName}`.slice(0, 100),
  reason,
  requestId,
});

const AuditQuery = {
  actor: z.string().min(1).max(100).optional(),
  subjectType: z.string().min(1).max(50).optional(),
  subjectId: z.string().min(1).max(100).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
};

const auditFilterOf = (q: {
  actor?: string | undefined;
  subjectType?: string | undefined;
  subjectId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}) => ({
  ...(q.actor === undefined ? {} : { actor: q.actor }),
  ...(q.subjectType === undefined ? {} : { subjectType: q.subjectType }),
  ...(q.subjectId === undefined ? {} : { subjectId: q.subjectId }),
  ...(q.from === undefined ? {} : { from: new Date(q.from) }),
  ...(q.to === undefined ? {} : { to: new Date(q.to) }),
});

/** The whole (filtered) audit trail as CSV, newest first, bounded by AUDIT_EXPORT_MAX rows. */
export async function auditCsv(
  db: ApiDeps['db'],
  filter: ReturnType<typeof auditFilterOf>,
  onPage?: (rows: number) => void,
): Promise<string> {
  const parts = [auditCsvHeader()];
  let beforeId: number | undefined;
  let rows = 0;
  while (rows < AUDIT_EXPORT_MAX) {
    const batch = await listAudit(db, {
      ...filter,
      ...(beforeId === undefined ? {} : { beforeId }),
      limit: Math.min(AUDIT_EXPORT_PAGE, AUDIT_EXPORT_MAX - rows),
    });
    for (const line of batch) parts.push(auditCsvRow(toAuditLine(line)));
    rows += batch.length;
    onPage?.(rows);
    const last = batch[batch.length - 1];
    if (last === undefined || batch.length < AUDIT_EXPORT_PAGE) break;
    beforeId = last.id;
  }
  return parts.join('');
}
export { auditFilterOf };

export function opsRoutes(deps: ApiDeps): RouteSpec[] {
  const ops = { roles: ['operator'] as const, tags: ['ops'] };
  const forbidden = { 403: { description: 'Not an operator key', schema: ProblemSchema } };
  return [
    defineRoute({
      ...ops,
      method: 'get',
      path: '/ops/v1/receipts',
      operationId: 'opsListReceipts',
      summary:
        'The receipts inventory by state (CONFLICT: resent with other content), newest first',
      query: z.strictObject({
        ...ReceiptFilterQuery,
        limit: pageLimit(deps),
        cursor: CursorParam.optional(),
      }),
      responses: {
        200: {
          description: 'A page of receipts and the count per state',
          schema: z.object({
            items: z.array(ReceiptOut),
            counts: z.record(z.string(), z.number().int()),
            nextCursor: z.string().nullable(),
          }),
        },
        ...forbidden,
      },
      handler: async ({ query }) => {
        const fetched = await listReceipts(deps.db, filterOf(query), {
          beforeId: decodeCursor('ops-receipts', query.cursor),
          limit: query.limit + 1,
        });
        const { items, nextCursor } = page('ops-receipts', fetched, query.limit);
        const now = new Date();
        return {
          status: 200,
          body: {
            items: items.map((r) => toReceiptOut(r, now)),
            counts: await countReceiptsByState(deps.db),
            nextCursor,
          },
        };
      },
    }),
    defineRoute({
      ...ops,
      method: 'get',
      path: '/ops/v1/receipts/:receiptId',
      operationId: 'opsGetReceipt',
      summary:
        'One receipt: raw XML (pretty-printed too), parsed form, history, position, ledger, job, audit',
      params: z.strictObject({ receiptId: Id }),
      responses: {
        200: { description: 'The receipt', schema: ReceiptDetailOut },
        404: { description: 'No such receipt', schema: ProblemSchema },
        ...forbidden,
      },
      handler: async ({ params }) => ({
        status: 200,
        body: toReceiptDetailOut(await inspectReceipt(deps, params.receiptId)),
      }),
    }),
    defineRoute({
      ...ops,
      method: 'post',
      path: '/ops/v1/receipts/:receiptId/replay',
      operationId: 'opsReplayReceipt',
      summary: 'Replay one receipt through the reconciliation (dry run unless execute is true)',
      params: z.strictObject({ receiptId: Id }),
      body: z.strictObject({ reason: Reason, execute: Execute }),
      responses: {
        200: { description: 'What the replay did (or would do)', schema: ReplayReportOut },
        404: { description: 'No such receipt', schema: ProblemSchema },
        503: { description: 'Redis is unavailable', schema: ProblemSchema },
        ...forbidden,
      },
      handler: async ({ params, body, principal, requestId }) => {
        const report = await replayWith(
          deps,
          { receiptId: params.receiptId },
          { execute: body.execute, actor: actorOf(principal.name, body.reason, requestId) },
        );
        return { status: 200, body: { ...report, items: report.items.map(toReplayItemOut) } };
      },
    }),
    defineRoute({
      ...ops,
      method: 'post',
      path: '/ops/v1/receipts/replay',
      operationId: 'opsReplayReceipts',
      summary:
        'Replay a filtered set of FAILED (or stuck RECEIVED) receipts, oldest first, at most limit',
      body: z.strictObject({
        filter: z.strictObject({
          state: z.enum(['FAILED', 'RECEIVED']).default('FAILED'),
          domain: FiscalCodePA.optional(),
          iuv: Iuv.optional(),
          reasonContains: z.string().min(1).max(200).optional(),
          olderThanMinutes: z.number().int().min(0).max(525_600).optional(),
        }),
        limit: z.number().int().min(1).max(REPLAY_LIMIT_MAX),
        reason: Reason,
        execute: Execute,
      }),
      responses: {
        200: { description: 'What the replay did (or would do)', schema: ReplayReportOut },
        503: { description: 'Redis is unavailable', schema: ProblemSchema },
        ...forbidden,
      },
      handler: async ({ body, principal, requestId }) => {
        const report = await replayWith(
          deps,
          { filter: filterOf(body.filter), limit: body.limit },
          { execute: body.execute, actor: actorOf(principal.name, body.reason, requestId) },
        );
        return { status: 200, body: { ...report, items: report.items.map(toReplayItemOut) } };
      },
    }),
    defineRoute({
      ...ops,
      method: 'post',
      path: '/ops/v1/receipts/:receiptId/attach',
      operationId: 'opsAttachQuarantinedReceipt',
      summary:
        'Attach a QUARANTINED receipt to the position owning its IUV, or to a card as a top-up',
      params: z.strictObject({ receiptId: Id }),
      body: z.union([
        z.strictObject({ position: ExternalId, reason: Reason, execute: Execute }),
        z.strictObject({
          card: z.strictObject({
            cardCode: z.string().min(1).max(35),
            account: z.enum(['CANTEEN', 'NURSERY_MEALS', 'SCHOOL_TRANSPORT']),
          }),
          reason: Reason,
          execute: Execute,
        }),
      ]),
      responses: {
        200: {
          description: 'The attachment (made, or that would be made)',
          schema: z.object({
            executed: z.boolean(),
            receiptId: z.number().int(),
            debtPositionId: z.number().int(),
            externalId: z.string(),
            paymentOptionId: z.number().int(),
            createdTopUp: z.boolean(),
          }),
        },
        404: { description: 'No such receipt, position or card', schema: ProblemSchema },
        409: { description: 'Not QUARANTINED, or the target does not fit', schema: ProblemSchema },
        ...forbidden,
      },
      handler: async ({ params, body, principal, requestId }) => {
        const receipt = await findReceiptDetail(deps.db, params.receiptId);
        if (receipt === undefined)
          throw new AppError('not-found', `no receipt ${params.receiptId}`);
        const target = attachTargetOf(deps, receipt.domainId, body);
        const r = await attachQuarantined(deps.db, params.receiptId, target, {
          execute: body.execute,
          actor: actorOf(principal.name, body.reason, requestId),
        });
        return {
          status: 200,
          body: {
            executed: body.execute,
            receiptId: r.receiptId,
            debtPositionId: r.positionId,
            externalId: r.externalId,
            paymentOptionId: r.optionId,
            createdTopUp: r.created,
          },
        };
      },
    }),
    defineRoute({
      ...ops,
      method: 'post',
      path: '/ops/v1/receipts/:receiptId/release',
      operationId: 'opsReleaseQuarantinedReceipt',
      summary: 'Release an attached QUARANTINED receipt to the reconciliation (RECEIVED + job)',
      params: z.strictObject({ receiptId: Id }),
      body: z.strictObject({ reason: Reason, execute: Execute }),
      responses: {
        200: {
          description: 'Released (or would be)',
          schema: z.object({
            executed: z.boolean(),
            receiptId: z.number().int(),
            jobAction: z.string().nullable(),
          }),
        },
        404: { description: 'No such receipt', schema: ProblemSchema },
        409: { description: 'Not QUARANTINED, or not attached', schema: ProblemSchema },
        503: { description: 'Redis is unavailable', schema: ProblemSchema },
        ...forbidden,
      },
      handler: async ({ params, body, principal, requestId }) => {
        const r = await releaseQuarantined(deps.db, jobsOf(deps.reconcileQueue), params.receiptId, {
          execute: body.execute,
          actor: actorOf(principal.name, body.reason, requestId),
        });
        return { status: 200, body: { executed: body.execute, ...r } };
      },
    }),
    defineRoute({
      ...ops,
      method: 'post',
      path: '/ops/v1/receipts/:receiptId/refunded-outside',
      operationId: 'opsMarkReceiptRefundedOutside',
      summary: 'Close a QUARANTINED or FAILED receipt whose money was refunded outside pagoPA',
      params: z.strictObject({ receiptId: Id }),
      body: z.strictObject({ reason: Reason, execute: Execute }),
      responses: {
        200: {
          description: 'Closed (or would be)',
          schema: z.object({
            executed: z.boolean(),
            receiptId: z.number().int(),
            stateBefore: z.string(),
          }),
        },
        404: { description: 'No such receipt', schema: ProblemSchema },
        409: { description: 'Not QUARANTINED or FAILED', schema: ProblemSchema },
        ...forbidden,
      },
      handler: async ({ params, body, principal, requestId }) => {
        const r = await markRefundedOutside(deps.db, params.receiptId, {
          execute: body.execute,
          actor: actorOf(principal.name, body.reason, requestId),
        });
        return { status: 200, body: { executed: body.execute, ...r } };
      },
    }),
    defineRoute({
      ...ops,
      method: 'get',
      path: '/ops/v1/jobs',
      operationId: 'opsListJobs',
      summary: 'Job counts per queue and the failed (and stalled) jobs',
      query: z.strictObject({ limit: pageLimit(deps) }),
      responses: {
        200: {
          description: 'Queues',
          schema: z.object({
            queues: z.array(
              z.object({
                queue: z.string(),
                counts: z.record(z.string(), z.number().int()),
                failed: z.array(
                  z.object({
                    jobId: z.string(),
                    name: z.string(),
                    receiptId: z.number().int().nullable(),
                    attemptsMade: z.number().int(),
                    failedReason: z.string(),
                    stalled: z.boolean(),
                    finishedAt: z.string().nullable(),
                  }),
                ),
              }),
            ),
          }),
        },
        503: { description: 'Redis is unavailable', schema: ProblemSchema },
        ...forbidden,
      },
      handler: async ({ query }) => {
        const queues = await Promise.all(
          opsQueues(deps).map((q) => queueInventory(q, query.limit)),
        );
        return {
          status: 200,
          body: {
            queues: queues.map((q) => ({
              ...q,
              failed: q.failed.map((f) => ({
                ...f,
                finishedAt: f.finishedAt?.toISOString() ?? null,
              })),
            })),
          },
        };
      },
    }),
    defineRoute({
      ...ops,
      method: 'get',
      path: '/ops/v1/payments/awaiting-receipt',
      operationId: 'opsListPaymentsAwaitingReceipt',
      summary:
        'Payment attempts still PENDING past the recovery delay with no receipt, newest first',
      query: z.strictObject({
        domain: FiscalCodePA.optional(),
        olderThanMinutes: z.coerce.number().int().min(0).max(525_600).optional(),
        limit: pageLimit(deps),
        cursor: CursorParam.optional(),
      }),
      responses: {
        200: {
          description: 'A page of payments',
          schema: z.object({
            items: z.array(
              z.object({
                attemptId: z.number().int(),
                paymentId: z.string(),
                channel: z.string(),
                domain: z.string(),
                iuv: z.string(),
                noticeNumber: z.string(),
                amountCents: z.number().int(),
                createdAt: z.string(),
                lastCheckedAt: z.string(),
              }),
            ),
            nextCursor: z.string().nullable(),
          }),
        },
        ...forbidden,
      },
      handler: async ({ query }) => {
        const fetched = await listAwaitingReceipts(deps.db, {
          olderThanMs:
            query.olderThanMinutes === undefined
              ? deps.config.recoveryDelayMs
              : query.olderThanMinutes * 60_000,
          domainId: query.domain,
          beforeId: decodeCursor('ops-awaiting', query.cursor),
          limit: query.limit + 1,
        });
        const { items, nextCursor } = page(
          'ops-awaiting',
          fetched.map((p) => ({ ...p, id: p.attemptId })),
          query.limit,
        );
        return {
          status: 200,
          body: {
            items: items.map(({ id: _id, ...p }) => ({
              attemptId: p.attemptId,
              paymentId: p.paymentId,
              channel: p.channel,
              domain: p.domainId,
              iuv: p.iuv,
              noticeNumber: p.noticeNumber,
              amountCents: p.amountCents,
              createdAt: p.createdAt.toISOString(),
              lastCheckedAt: p.lastCheckedAt.toISOString(),
            })),
            nextCursor,
          },
        };
      },
    }),
    defineRoute({
      ...ops,
      method: 'get',
      path: '/ops/v1/webhooks',
      operationId: 'opsListWebhooks',
      summary: 'ERP webhook outbox events, newest first (DEAD: given up)',
      query: z.strictObject({ state: z.enum(OUTBOX_STATES).optional(), limit: pageLimit(deps) }),
      responses: {
        200: {
          description: 'Events',
          schema: z.object({ items: z.array(OutboxEventOut) }),
        },
        ...forbidden,
      },
      handler: async ({ query }) => {
        const events = await listOutboxEvents(deps.db, {
          limit: query.limit,
          ...(query.state === undefined ? {} : { state: query.state }),
        });
        return { status: 200, body: { items: events.map(toOutboxOut) } };
      },
    }),
    defineRoute({
      ...ops,
      method: 'post',
      path: '/ops/v1/webhooks/redeliver',
      operationId: 'opsRedeliverWebhooks',
      summary:
        'Put one event, or the oldest DEAD ones, back in the delivery line (dry run unless execute)',
      body: z.union([
        z.strictObject({ eventId: z.uuid(), reason: Reason, execute: Execute }),
        z.strictObject({
          state: z.literal('DEAD'),
          limit: z.number().int().min(1).max(REPLAY_LIMIT_MAX),
          reason: Reason,
          execute: Execute,
        }),
      ]),
      responses: {
        200: {
          description: 'The events redelivered (or that would be)',
          schema: z.object({ executed: z.boolean(), items: z.array(OutboxEventOut) }),
        },
        404: { description: 'No such event', schema: ProblemSchema },
        ...forbidden,
      },
      handler: async ({ body, principal }) => {
        const selection =
          'eventId' in body
            ? { eventId: body.eventId.toLowerCase() }
            : { state: body.state, limit: body.limit };
        let events: OutboxEvent[];
        if (body.execute) {
          events = await redeliverOutboxEvents(deps.db, selection, {
            actor: `api:${principal.name}`,
            reason: body.reason,
          });
        } else {
          const found = await findForRedelivery(deps.db, selection);
          if ('eventId' in selection && found.length === 0) {
            throw new AppError('not-found', `no outbox event ${selection.eventId}`);
          }
          events = found.filter((e) => e.state !== 'PENDING');
        }
        return { status: 200, body: { executed: body.execute, items: events.map(toOutboxOut) } };
      },
    }),
    defineRoute({
      ...ops,
      method: 'get',
      path: '/ops/v1/activated-rpts',
      operationId: 'opsListActivatedRpts',
      summary:
        'RPTs owed to the node after paaAttivaRPT (old model 3), newest first (FAILED: given up)',
      query: z.strictObject({
        state: z.enum(ACTIVATED_RPT_STATES).optional(),
        limit: pageLimit(deps),
        cursor: CursorParam.optional(),
      }),
      responses: {
        200: {
          description: 'A page of activated RPT sends',
          schema: z.object({ items: z.array(ActivatedRptOut), nextCursor: z.string().nullable() }),
        },
        ...forbidden,
      },
      handler: async ({ query }) => {
        const fetched = await listActivatedSends(deps.db, {
          state: query.state,
          beforeId: decodeCursor('ops-activated-rpts', query.cursor),
          limit: query.limit + 1,
        });
        const { items, nextCursor } = page('ops-activated-rpts', fetched, query.limit);
        return { status: 200, body: { items: items.map(toActivatedRptOut), nextCursor } };
      },
    }),
    defineRoute({
      ...ops,
      method: 'post',
      path: '/ops/v1/activated-rpts/resend',
      operationId: 'opsResendActivatedRpts',
      summary:
        'Send FAILED activated RPTs again (SENT ones too with force): re-armed for the worker, dry run unless execute',
      body: z.strictObject({
        ids: z.array(Id).min(1).max(RESEND_IDS_MAX),
        force: z.boolean().default(false),
        reason: Reason,
        execute: Execute,
      }),
      responses: {
        200: {
          description: 'The sends re-armed (or that would be), as they were before',
          schema: z.object({ executed: z.boolean(), items: z.array(ActivatedRptOut) }),
        },
        404: { description: 'No such activated RPT (nothing changed)', schema: ProblemSchema },
        409: {
          description: 'PENDING, or SENT without force (nothing changed)',
          schema: ProblemSchema,
        },
        ...forbidden,
      },
      handler: async ({ body, principal, requestId }) => {
        const sends = await resendActivatedSends(deps.db, body.ids, {
          force: body.force,
          execute: body.execute,
          actor: actorOf(principal.name, body.reason, requestId),
        });
        return {
          status: 200,
          body: { executed: body.execute, items: sends.map(toActivatedRptOut) },
        };
      },
    }),
    defineRoute({
      ...ops,
      method: 'post',
      path: '/ops/v1/positions/:externalId/paid-outside',
      operationId: 'opsMarkPositionPaidOutside',
      summary: 'Record that a position was paid outside pagoPA (new ledger entries, never edits)',
      params: z.strictObject({ externalId: ExternalId }),
      body: z.strictObject({
        domain: FiscalCodePA.optional(),
        channel: z.enum(OFFLINE_CHANNELS).default('BANK_TRANSFER'),
        reference: z.string().min(1).max(140),
        amountCents: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
        paidAt: z.iso.datetime({ offset: true }),
        iuv: Iuv.optional(),
        reason: Reason,
        execute: Execute,
      }),
      responses: {
        200: {
          description: 'The position before and after',
          schema: z.object({
            executed: z.boolean(),
            created: z.boolean(),
            before: z.unknown(),
            after: z.unknown(),
          }),
        },
        404: { description: 'No such position', schema: ProblemSchema },
        409: { description: 'Already paid or cancelled', schema: ProblemSchema },
        422: { description: 'The amount does not match', schema: ProblemSchema },
        ...forbidden,
      },
      handler: async ({ params, body, principal, requestId }) => {
        const domain = resolveDomain(deps, body.domain);
        const r = await markPositionPaidOutside(
          deps.db,
          {
            domainId: domain.fiscalCode,
            externalId: params.externalId,
            channel: body.channel,
            reference: body.reference,
            amountCents: body.amountCents,
            paidAt: new Date(body.paidAt),
            iuv: body.iuv,
          },
          { execute: body.execute, actor: actorOf(principal.name, body.reason, requestId) },
        );
        return { status: 200, body: { executed: body.execute, ...r } };
      },
    }),
    defineRoute({
      ...ops,
      method: 'post',
      path: '/ops/v1/positions/:externalId/cancel',
      operationId: 'opsCancelPosition',
      summary: 'Cancel a position on an operator decision (audited)',
      params: z.strictObject({ externalId: ExternalId }),
      body: z.strictObject({ domain: FiscalCodePA.optional(), reason: Reason, execute: Execute }),
      responses: {
        200: {
          description: 'The position before and after',
          schema: z.object({ executed: z.boolean(), before: z.unknown(), after: z.unknown() }),
        },
        404: { description: 'No such position', schema: ProblemSchema },
        409: { description: 'Paid positions cannot be cancelled', schema: ProblemSchema },
        ...forbidden,
      },
      handler: async ({ params, body, principal, requestId }) => {
        const domain = resolveDomain(deps, body.domain);
        const r = await cancelPositionByOperator(deps.db, domain.fiscalCode, params.externalId, {
          execute: body.execute,
          actor: actorOf(principal.name, body.reason, requestId),
        });
        return { status: 200, body: { executed: body.execute, ...r } };
      },
    }),
    defineRoute({
      ...ops,
      method: 'post',
      path: '/ops/v1/ledger-entries/:entryId/reverse',
      operationId: 'opsReverseLedgerEntry',
      summary: 'Reverse a wrong credit or debit with a REVERSAL entry (idempotent per entry)',
      params: z.strictObject({ entryId: Id }),
      body: z.strictObject({ reason: Reason, execute: Execute }),
      responses: {
        200: {
          description: 'The reversal entry (posted, already posted, or that would be posted)',
          schema: z.object({
            executed: z.boolean(),
            created: z.boolean(),
            reversalEntryId: z.number().int(),
            amountCents: z.number().int(),
            balanceAfterCents: z.number().int(),
          }),
        },
        404: { description: 'No such entry', schema: ProblemSchema },
        409: { description: 'A reversal cannot be reversed', schema: ProblemSchema },
        ...forbidden,
      },
      handler: async ({ params, body, principal, requestId }) => {
        const r = await reverseLedgerEntry(deps.db, params.entryId, {
          execute: body.execute,
          actor: actorOf(principal.name, body.reason, requestId),
        });
        return {
          status: 200,
          body: {
            executed: body.execute,
            created: r.created,
            reversalEntryId: r.reversal.id,
            amountCents: r.reversal.amountCents,
            balanceAfterCents: r.reversal.balanceAfterCents,
          },
        };
      },
    }),
    defineRoute({
      ...ops,
      method: 'get',
      path: '/ops/v1/audit',
      operationId: 'opsListAudit',
      summary: 'Operator actions (who, when, what, why, before/after), newest first',
      query: z.strictObject({
        ...AuditQuery,
        limit: pageLimit(deps),
        cursor: CursorParam.optional(),
      }),
      responses: {
        200: {
          description: 'A page of audit lines',
          schema: z.object({ items: z.array(AuditOut), nextCursor: z.string().nullable() }),
        },
        ...forbidden,
      },
      handler: async ({ query }) => {
        const beforeId = decodeCursor('ops-audit', query.cursor);
        const fetched = await listAudit(deps.db, {
          ...auditFilterOf(query),
          ...(beforeId === undefined ? {} : { beforeId }),
          limit: query.limit + 1,
        });
        const { items, nextCursor } = page('ops-audit', fetched, query.limit);
        return {
          status: 200,
          body: { items: items.map((a) => toAuditOut(toAuditLine(a))), nextCursor },
        };
      },
    }),
    defineRoute({
      ...ops,
      method: 'get',
      path: '/ops/v1/audit.csv',
      operationId: 'opsExportAudit',
      summary: `The audit trail as CSV (RFC 4180), newest first, at most ${AUDIT_EXPORT_MAX} lines`,
      query: z.strictObject(AuditQuery),
      responses: {
        200: { description: 'CSV', contentType: 'text/csv' },
        ...forbidden,
      },
      handler: async ({ query }) => ({
        status: 200,
        contentType: 'text/csv; charset=utf-8',
        headers: { 'content-disposition': 'attachment; filename="audit.csv"' },
        body: await auditCsv(deps.db, auditFilterOf(query)),
      }),
    }),
  ];
}

/** The queues an operator looks at: reconciliation and billing, when this process has them. */
export function opsQueues(deps: Pick<ApiDeps, 'reconcileQueue' | 'billingQueue'>): Queue[] {
  const queues = [deps.reconcileQueue, deps.billingQueue].filter(
    (q): q is Queue => q !== undefined,
  );
  if (queues.length === 0) {
    throw new AppError('dependency-down', 'this process has no job queues (Redis)');
  }
  return queues;
}

/** The attach target of a request; a card top-up takes the taxonomy code of the domain's service. */
export function attachTargetOf(
  deps: Pick<ApiDeps, 'domains'>,
  domainId: string,
  body:
    | { position: string }
    | { card: { cardCode: string; account: 'CANTEEN' | 'NURSERY_MEALS' | 'SCHOOL_TRANSPORT' } },
): AttachTarget {
  if ('position' in body) return { kind: 'position', externalId: body.position };
  const domain = deps.domains.resolve(domainId);
  const service = domain?.services.find((s) => s.account === body.card.account);
  if (service === undefined) {
    throw new AppError(
      'conflict',
      `domain ${domainId} has no service for the ${body.card.account} account`,
    );
  }
  return {
    kind: 'card',
    cardCode: body.card.cardCode,
    account: body.card.account,
    taxonomyCode: service.taxonomyCode,
  };
}
