import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  findRun,
  insertRun,
  listRunErrors,
  listRuns,
  type BillingRunError,
} from '../../../data-access/billing-repository';
import { BILLING_RUN_STATUSES, BILLING_SOURCES } from '../../../domain/billing/bill';
import { BILLING_LINES_MAX } from '../../../domain/billing/lines';
import { prepareRun, type BillingRunView } from '../../../domain/billing/run';
import { AppError } from '../../../domain/errors';
import { contentHash } from '../../../shared/hash';
import { enqueueBillingRun } from '../../worker/billing-processor';
import { idempotencyKeyHeader, runIdempotent } from './idempotency';
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
 * Billing runs ("bollettazione virtuale"): the ERP submits a month's lines for a card service,
 * as JSON or as the CSV its spreadsheet exports, and follows the run's progress.
 *
 * POST checks everything it can at once (period, service, every line), stores the run with all
 * its lines in one transaction (bad lines already FAILED with their reason), enqueues one job and
 * answers 202. The worker bills the PENDING lines. Billing is idempotent per (service, period,
 * card): submitting the same month again bills nothing twice (those lines end SKIPPED_DUPLICATE).
 *
 * Errors of a run: GET of the run carries the first ERRORS_SHOWN_MAX FAILED lines, in line order,
 * and `errorsNextCursor` when there are more; GET .../errors pages through all of them. `failed`
 * is always the full count.
 */

/** FAILED lines carried by GET of a run; the rest are paged by GET .../errors. */
export const ERRORS_SHOWN_MAX = 100;

const Period = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month written YYYY-MM, e.g. 2026-10');
const ServiceCode = z.string().min(1).max(50);
const RunIdParams = z.strictObject({
  runId: z.string().regex(/^[0-9a-f-]{36}$/, 'must be a run id (UUID)'),
});

// Values are checked per line (and a bad line stored FAILED), so the item schema checks types only.
const ItemIn = z.strictObject({
  cardCode: z.string().max(200),
  amountCents: z.number().describe('Whole cents, 1 to 99999999'),
  description: z
    .string()
    .max(1000)
    .optional()
    .describe("The notice's causale (at most 140 characters); default: service and month"),
});

const RunIn = z.strictObject({
  domain: FiscalCodePA.optional(),
  service: ServiceCode.describe('A card service of the domain, e.g. SCHOOL_TRANSPORT'),
  period: Period,
  items: z.array(ItemIn).min(1).max(BILLING_LINES_MAX),
});

const SubmitQuery = z.strictObject({
  domain: FiscalCodePA.optional().describe('text/csv only: the domain (default: the default one)'),
  service: ServiceCode.optional().describe('text/csv only (required there): the service billed'),
  period: Period.optional().describe('text/csv only (required there): the month billed'),
});

const SubmitOut = z.object({
  runId: z.string(),
  status: z.enum(BILLING_RUN_STATUSES),
  total: z.number().int(),
  accepted: z.number().int().describe('Lines queued for billing'),
  rejected: z.number().int().describe('Lines stored FAILED at once (see the run for reasons)'),
});

const ErrorOut = z.object({ line: z.number().int(), cardCode: z.string(), reason: z.string() });

const RunSummaryOut = z.object({
  runId: z.string(),
  domain: z.string(),
  service: z.string(),
  period: z.string(),
  source: z.enum(BILLING_SOURCES),
  status: z.enum(BILLING_RUN_STATUSES),
  total: z.number().int(),
  done: z.number().int().describe('Lines billed or found already billed'),
  skipped: z.number().int().describe('Of done: lines already billed before (nothing new)'),
  failed: z.number().int(),
  billedCents: z.number().int().describe('The sum debited by this run'),
  createdBy: z.string(),
  error: z.string().nullable().describe('Why the run itself FAILED'),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

const RunOut = RunSummaryOut.extend({
  errors: z.array(ErrorOut).describe(`The first ${ERRORS_SHOWN_MAX} FAILED lines, in line order`),
  errorsNextCursor: z
    .string()
    .nullable()
    .describe('Cursor of GET /api/v1/billing-runs/{runId}/errors for the FAILED lines after these'),
});

const toSummary = (run: BillingRunView): z.output<typeof RunSummaryOut> => ({
  runId: run.runId,
  domain: run.domainId,
  service: run.service,
  period: run.period,
  source: run.source,
  status: run.status,
  total: run.total,
  done: run.done,
  skipped: run.skipped,
  failed: run.failed,
  billedCents: run.billedCents,
  createdBy: run.createdBy,
  error: run.error,
  createdAt: run.createdAt.toISOString(),
  startedAt: run.startedAt?.toISOString() ?? null,
  finishedAt: run.finishedAt?.toISOString() ?? null,
});

const toErrorOut = (e: BillingRunError): z.output<typeof ErrorOut> => ({
  line: e.line,
  cardCode: e.cardCode,
  reason: e.reason,
});

const errorsList = (runId: string): string => `billing-run-errors:${runId}`;

const invalid = (path: string, message: string): AppError =>
  new AppError('invalid-input', `${path}: ${message}`, { errors: [{ path, message }] });

export function billingRoutes(deps: ApiDeps): RouteSpec[] {
  const findRunOr404 = async (runId: string): Promise<BillingRunView> => {
    const run = await findRun(deps.db, runId);
    if (run === undefined) throw new AppError('not-found', `no billing run ${runId}`);
    return run;
  };

  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/billing-runs',
      operationId: 'submitBillingRun',
      summary:
        'Bill a month of a card service: JSON items or a text/csv body (cardCode,amountCents,description); 202 with the run id',
      tags: ['billing'],
      roles: ['erp'],
      query: SubmitQuery,
      body: RunIn,
      rawBodyTypes: ['text/csv'],
      headers: [idempotencyKeyHeader(false)],
      responses: {
        202: { description: 'Stored and queued; follow it with GET', schema: SubmitOut },
        409: { description: 'Idempotency-Key reused with another body', schema: ProblemSchema },
        422: { description: 'Unknown domain', schema: ProblemSchema },
        503: {
          description: 'The queue is unavailable (the run id is in the problem)',
          schema: ProblemSchema,
        },
      },
      handler: async (ctx) => {
        const { query, body, rawBody } = ctx;
        let request: {
          domain: string | undefined;
          service: string;
          period: string;
          input: { csv: string } | { items: z.output<typeof ItemIn>[] };
        };
        let paths: { service: string; period: string };
        if (rawBody !== undefined) {
          const type = ctx.header('content-type') ?? '';
          if (!/^text\/csv\b/i.test(type)) {
            throw invalid('body', 'send JSON (application/json) or CSV (text/csv)');
          }
          if (query.service === undefined)
            throw invalid('query.service', 'is required with text/csv');
          if (query.period === undefined)
            throw invalid('query.period', 'is required with text/csv');
          request = {
            domain: query.domain,
            service: query.service,
            period: query.period,
            input: { csv: rawBody },
          };
          paths = { service: 'query.service', period: 'query.period' };
        } else {
          if (Object.values(query).some((v) => v !== undefined)) {
            throw invalid(
              'query',
              'domain, service and period go in the JSON body (the query is for text/csv)',
            );
          }
          request = {
            domain: body.domain,
            service: body.service,
            period: body.period,
            input: { items: body.items },
          };
          paths = { service: 'body.service', period: 'body.period' };
        }
        const domain = resolveDomain(deps, request.domain);
        const prepared = prepareRun(domain, request, paths);
        const queue = deps.billingQueue;
        if (queue === undefined) {
          throw new AppError(
            'dependency-down',
            'this process has no billing queue; nothing was stored',
          );
        }
        const result = await runIdempotent(
          deps.db,
          ctx,
          {
            operationId: 'submitBillingRun',
            required: false,
            request: {
              domain: domain.fiscalCode,
              service: request.service,
              period: request.period,
              // A CSV body is hashed as text, a JSON one as its canonical form.
              input: 'csv' in request.input ? contentHash(request.input.csv) : request.input.items,
            },
          },
          async (trx) => {
            const runId = randomUUID();
            const run = await insertRun(trx, {
              runId,
              prepared,
              source: 'API',
              createdBy: ctx.principal.name,
            });
            return {
              status: 202,
              body: {
                runId,
                status: run.status,
                total: run.total,
                accepted: prepared.accepted,
                rejected: prepared.rejected,
              } satisfies z.output<typeof SubmitOut>,
            };
          },
        );
        const { runId } = result.body as z.output<typeof SubmitOut>;
        // After the commit, so the worker always finds the run; a replayed request enqueues
        // again, which is how a run whose first enqueue failed gets queued (same job id).
        await enqueueBillingRun(queue, runId);
        return {
          ...result,
          headers: { ...result.headers, Location: `/api/v1/billing-runs/${runId}` },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/billing-runs/:runId',
      operationId: 'getBillingRun',
      summary: 'A billing run: status, progress (total, done, failed) and its first failed lines',
      tags: ['billing'],
      roles: ['erp', 'operator'],
      params: RunIdParams,
      responses: {
        200: { description: 'The run', schema: RunOut },
        404: { description: 'No such run', schema: ProblemSchema },
      },
      handler: async ({ params }) => {
        const run = await findRunOr404(params.runId);
        const fetched = await listRunErrors(deps.db, run.id, { limit: ERRORS_SHOWN_MAX + 1 });
        const { items, nextCursor } = page(errorsList(run.runId), fetched, ERRORS_SHOWN_MAX);
        return {
          status: 200,
          body: {
            ...toSummary(run),
            errors: items.map(toErrorOut),
            errorsNextCursor: nextCursor,
          } satisfies z.output<typeof RunOut>,
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/billing-runs/:runId/errors',
      operationId: 'listBillingRunErrors',
      summary: 'The failed lines of a billing run with their reasons, in line order, paginated',
      tags: ['billing'],
      roles: ['erp', 'operator'],
      params: RunIdParams,
      query: z.strictObject({ limit: pageLimit(deps), cursor: CursorParam.optional() }),
      responses: {
        200: {
          description: 'A page of failed lines',
          schema: z.object({ items: z.array(ErrorOut), nextCursor: z.string().nullable() }),
        },
        404: { description: 'No such run', schema: ProblemSchema },
      },
      handler: async ({ params, query }) => {
        const run = await findRunOr404(params.runId);
        const list = errorsList(run.runId);
        const fetched = await listRunErrors(deps.db, run.id, {
          afterLine: decodeCursor(list, query.cursor),
          limit: query.limit + 1,
        });
        const { items, nextCursor } = page(list, fetched, query.limit);
        return { status: 200, body: { items: items.map(toErrorOut), nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/billing-runs',
      operationId: 'listBillingRuns',
      summary: 'Billing runs of a domain, newest first, by service and period, paginated',
      tags: ['billing'],
      roles: ['erp', 'operator'],
      query: z.strictObject({
        domain: FiscalCodePA.optional(),
        service: ServiceCode.optional(),
        period: Period.optional(),
        limit: pageLimit(deps),
        cursor: CursorParam.optional(),
      }),
      responses: {
        200: {
          description: 'A page of runs',
          schema: z.object({ items: z.array(RunSummaryOut), nextCursor: z.string().nullable() }),
        },
        422: { description: 'Unknown domain', schema: ProblemSchema },
      },
      handler: async ({ query }) => {
        const domain = resolveDomain(deps, query.domain);
        const fetched = await listRuns(deps.db, {
          domainId: domain.fiscalCode,
          service: query.service,
          period: query.period,
          beforeId: decodeCursor('billing-runs', query.cursor),
          limit: query.limit + 1,
        });
        const { items, nextCursor } = page('billing-runs', fetched, query.limit);
        return { status: 200, body: { items: items.map(toSummary), nextCursor } };
      },
    }),
  ];
}
