import { z } from 'zod';
import { importTreasury, loadReconciliationInput } from '../../../data-access/reporting-repository';
import { addDays, italianDate } from '../../../domain/reconciliation/calendar';
import {
  reconcile,
  reportToCsv,
  type ReconciliationReport,
} from '../../../domain/reconciliation/report';
import { parseTreasuryCsv } from '../../../domain/reconciliation/treasury-csv';
import { AppError } from '../../../domain/errors';
import type { ApiDeps } from './index';
import { FiscalCodePA, resolveDomain } from './payments-routes';
import { defineRoute, ProblemSchema, type RouteSpec } from './route';

/**
 * Reconciliation for operators: the per-day report (receipts, flows, bank transfers, every
 * mismatch with what to do), its CSV, and the treasury statement import. The report is computed
 * on every request from what is stored (src/domain/reconciliation): never cached, so it changes
 * as soon as a late receipt, flow or statement arrives.
 */

/** A report spans at most this many days (one quarter). */
export const RECONCILIATION_DAYS_MAX = 92;

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');
const ReportQuery = z.strictObject({
  domain: FiscalCodePA.optional(),
  from: IsoDate.describe('first day (Italian calendar), inclusive'),
  to: IsoDate.describe('last day, inclusive'),
});
const Tally = z.object({ count: z.number().int(), cents: z.number().int() });
const MismatchOut = z.object({
  date: z.string(),
  kind: z.string(),
  ref: z.string(),
  detail: z.string(),
  action: z.string(),
  amountCents: z.number().int().optional(),
  expectedCents: z.number().int().optional(),
});
const ReportOut = z.object({
  domain: z.string(),
  from: z.string(),
  to: z.string(),
  asOf: z.string(),
  lines: z.record(z.string(), z.number().int()),
  days: z.array(
    z.object({
      date: z.string(),
      receipts: Tally,
      flows: Tally,
      bankTransfers: Tally,
      mismatches: z.array(MismatchOut),
    }),
  ),
});
const ImportQuery = z.strictObject({
  domain: FiscalCodePA.optional(),
  fileName: z.string().min(1).max(255).optional(),
});
const ImportOut = z.object({
  importId: z.number().int(),
  status: z.enum(['imported', 'already-imported']),
  movements: z.number().int().optional(),
});

function checkRange(from: string, to: string): void {
  if (from > to) throw new AppError('invalid-input', 'from must not be after to');
  if (addDays(from, RECONCILIATION_DAYS_MAX - 1) < to) {
    throw new AppError('invalid-input', `at most ${RECONCILIATION_DAYS_MAX} days per report`);
  }
}

/**
 * The report for a domain and a range, computed now.
 * @throws AppError('invalid-input') for a range backwards or longer than RECONCILIATION_DAYS_MAX.
 */
export async function reconciliationReport(
  deps: Pick<ApiDeps, 'db'>,
  q: { domainId: string; from: string; to: string; now?: Date },
): Promise<ReconciliationReport> {
  checkRange(q.from, q.to);
  const input = await loadReconciliationInput(deps.db, {
    domainId: q.domainId,
    from: q.from,
    to: q.to,
    asOf: italianDate(q.now ?? new Date()),
  });
  return reconcile(input);
}

const lineTally = (r: ReconciliationReport): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const m of r.lineMatches) out[m.outcome] = (out[m.outcome] ?? 0) + 1;
  return out;
};

export function reconciliationRoutes(deps: ApiDeps): RouteSpec[] {
  const ops = { roles: ['operator'] as const, tags: ['ops'] };
  const forbidden = { 403: { description: 'Not an operator key', schema: ProblemSchema } };
  return [
    defineRoute({
      ...ops,
      method: 'get',
      path: '/ops/v1/reconciliation',
      operationId: 'opsReconciliation',
      summary:
        'Per day: receipts, reporting flows and bank transfers with amounts, and every mismatch with what to do',
      query: ReportQuery,
      responses: {
        200: { description: 'The report, computed now', schema: ReportOut },
        ...forbidden,
        422: { description: 'Unknown domain', schema: ProblemSchema },
      },
      handler: async ({ query }) => {
        const domain = resolveDomain(deps, query.domain);
        const report = await reconciliationReport(deps, { domainId: domain.fiscalCode, ...query });
        return {
          status: 200,
          body: {
            domain: domain.fiscalCode,
            from: report.from,
            to: report.to,
            asOf: report.asOf,
            lines: lineTally(report),
            days: report.days,
          },
        };
      },
    }),
    defineRoute({
      ...ops,
      method: 'get',
      path: '/ops/v1/reconciliation.csv',
      operationId: 'opsReconciliationCsv',
      summary:
        'The reconciliation report as CSV (RFC 4180): per day totals, then one row per mismatch',
      query: ReportQuery,
      responses: {
        200: { description: 'CSV', contentType: 'text/csv' },
        ...forbidden,
        422: { description: 'Unknown domain', schema: ProblemSchema },
      },
      handler: async ({ query }) => {
        const domain = resolveDomain(deps, query.domain);
        const report = await reconciliationReport(deps, { domainId: domain.fiscalCode, ...query });
        return {
          status: 200,
          contentType: 'text/csv; charset=utf-8',
          headers: {
            'content-disposition': `attachment; filename="reconciliation-${domain.fiscalCode}-${query.from}-${query.to}.csv"`,
          },
          body: reportToCsv(report),
        };
      },
    }),
    defineRoute({
      ...ops,
      method: 'post',
      path: '/ops/v1/treasury-imports',
      operationId: 'opsImportTreasury',
      summary:
        "Import the treasury's statement of incoming transfers (text/csv: date,amount,causale[,valueDate,bankReference]); audited",
      query: ImportQuery,
      rawBodyTypes: ['text/csv'],
      responses: {
        201: { description: 'Imported', schema: ImportOut },
        200: { description: 'The same statement was imported before', schema: ImportOut },
        ...forbidden,
        422: { description: 'Unknown domain', schema: ProblemSchema },
      },
      handler: async ({ query, rawBody, principal, requestId, header }) => {
        if (rawBody === undefined || !/^text\/csv\b/i.test(header('content-type') ?? '')) {
          throw new AppError('invalid-input', 'send the statement as text/csv');
        }
        const domain = resolveDomain(deps, query.domain);
        const movements = parseTreasuryCsv(rawBody);
        const result = await importTreasury(deps.db, {
          domainId: domain.fiscalCode,
          fileName: query.fileName ?? 'treasury.csv',
          csvText: rawBody,
          movements,
          actor: principal.name,
          requestId,
        });
        return result.kind === 'imported'
          ? {
              status: 201,
              body: { importId: result.importId, status: 'imported', movements: result.movements },
            }
          : { status: 200, body: { importId: result.importId, status: 'already-imported' } };
      },
    }),
  ];
}
