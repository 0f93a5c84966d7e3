import { z } from 'zod';
import { importTreasury, loadReconciliationInput } from '../../../data-access/reporting-repository';
import { addDays, italianDate } from '../../../domain/reconciliation/calendar';
import {
  reconcile,
  reportToCsv,
  type ReconciliationReport,
} from '../../../domain/reconciliation/report';
import { parseTreasuryCsv } from '../../../domain/reconciliation/treasury-csv';
import { centsToDecimalString } from '../../../domain/codes/money';
import { html, type Html } from '../console/html';
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

// ------------------------------------------------------------------------------------------------
// The operator console's page (server-rendered, mounted by ../console/index.ts).

/** What the console page reads from its query string: the last 7 days by default. */
export function consoleReportQuery(
  deps: Pick<ApiDeps, 'domains'>,
  query: Record<string, unknown>,
  now: Date = new Date(),
): { domainId: string; from: string; to: string } {
  const text = (name: string): string | undefined => {
    const v = query[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const to = text('to') ?? italianDate(now);
  const from = text('from') ?? addDays(to, -6);
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!IsoDate.safeParse(value).success) {
      throw new AppError('invalid-input', `${name} must be YYYY-MM-DD`);
    }
  }
  const domain = deps.domains.resolve(text('domain'));
  if (domain === undefined) throw new AppError('domain-unknown', 'name a domain served here');
  return { domainId: domain.fiscalCode, from, to };
}

/** The page body: a filter form, one row per day, then the mismatches with what to do. */
export function reconciliationPageBody(
  report: ReconciliationReport,
  q: { domainId: string; from: string; to: string },
): Html {
  const euro = (cents: number | undefined): string =>
    cents === undefined ? '' : centsToDecimalString(cents);
  const csvHref = `/ops/reconciliation.csv?domain=${q.domainId}&from=${q.from}&to=${q.to}`;
  const mismatches = report.days.flatMap((d) => d.mismatches);
  return html`<form method="get" action="/ops/reconciliation">
      <input name="domain" value="${q.domainId}" size="11" />
      <input name="from" type="date" value="${q.from}" />
      <input name="to" type="date" value="${q.to}" />
      <button type="submit">Show</button>
      <a href="${csvHref}">Export as CSV</a>
    </form>
    <table id="reconciliation-days">
      <tr>
        <th>Day</th>
        <th>Receipts</th>
        <th>Receipts amount</th>
        <th>Flows</th>
        <th>Flows amount</th>
        <th>Bank transfers</th>
        <th>Transfers amount</th>
        <th>Mismatches</th>
      </tr>
      ${report.days.map(
        (d) =>
          html`<tr>
            <td>${d.date}</td>
            <td class="num">${d.receipts.count}</td>
            <td class="num">${euro(d.receipts.cents)}</td>
            <td class="num">${d.flows.count}</td>
            <td class="num">${euro(d.flows.cents)}</td>
            <td class="num">${d.bankTransfers.count}</td>
            <td class="num">${euro(d.bankTransfers.cents)}</td>
            <td class="num">${d.mismatches.length}</td>
          </tr>`,
      )}
    </table>
    <h2>Mismatches (${mismatches.length})</h2>
    <table id="reconciliation-mismatches">
      <tr>
        <th>Day</th>
        <th>Kind</th>
        <th>Ref</th>
        <th>Amount</th>
        <th>Expected</th>
        <th>Detail</th>
        <th>What to do</th>
      </tr>
      ${mismatches.map(
        (m) =>
          html`<tr>
            <td>${m.date}</td>
            <td><span class="state FAILED">${m.kind}</span></td>
            <td>${m.ref}</td>
            <td class="num">${euro(m.amountCents)}</td>
            <td class="num">${euro(m.expectedCents)}</td>
            <td>${m.detail}</td>
            <td>${m.action}</td>
          </tr>`,
      )}
    </table>`;
}
