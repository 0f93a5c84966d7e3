import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { Registry } from 'prom-client';
import { importTreasury } from '../../../data-access/reporting-repository';
import { centsToDecimalString } from '../../../domain/codes/money';
import { AppError } from '../../../domain/errors';
import { reportToCsv } from '../../../domain/reconciliation/report';
import { parseTreasuryCsv } from '../../../domain/reconciliation/treasury-csv';
import { loadDomains, type DomainConfig, type Domains } from '../../../shared/domains-config';
import { createLogger } from '../../../shared/logger';
import { reconciliationReport } from '../../http/api/reconciliation-routes';
import { fetchReportingFlows, reportingFlowSources } from '../../worker/reporting-fetcher';
import { EXIT, printLine, runCommand } from '../run-command';
import { withDb } from '../with-db';
import { loadConfigOrExit } from './serve';

/**
 * `reports fetch`: download the reporting flows not seen yet, now (what the worker does hourly).
 * `reports reconcile --from --to`: the per-day reconciliation report (same as GET
 * /ops/v1/reconciliation), as text, `--json` or `--csv`.
 * `reports import-treasury FILE.csv --domain CF`: import a treasury statement (audited).
 *
 * Exit codes: 0 done (a report with mismatches is still 0: they are data); 1 bad input;
 * 2 some flows failed to download; 3 the database or the node is unreachable, or another
 * worker is downloading right now.
 */

/** A year of a large city's statement is a few MB. */
const FILE_BYTES_MAX = 20 * 1024 * 1024;

function domainOf(domains: Domains, fiscalCode: string | undefined): DomainConfig {
  const domain = domains.resolve(fiscalCode);
  if (domain === undefined) {
    throw new AppError(
      'domain-unknown',
      fiscalCode === undefined
        ? 'name the domain with --domain: there is no default one'
        : `domain ${fiscalCode} is not in the domains file`,
    );
  }
  return domain;
}

const euro = (cents: number): string => centsToDecimalString(cents);

export function registerReportsCommands(program: Command): void {
  const reports = program
    .command('reports')
    .description('reporting flows (FdR), treasury statements and reconciliation');

  reports
    .command('fetch')
    .description('download the reporting flows not seen yet (every domain, or one)')
    .option('--domain <fiscalCode>', 'only this domain')
    .option('--json', 'print JSON')
    .action((opts: { domain?: string; json?: boolean }) =>
      runCommand(async () => {
        const config = loadConfigOrExit();
        const domains = loadDomains(config.domainsFile);
        const only = opts.domain === undefined ? undefined : domainOf(domains, opts.domain);
        const logger = createLogger(config.logLevel);
        const all = reportingFlowSources(domains, config, { registry: new Registry(), logger });
        const sources =
          only === undefined ? all : new Map([...all].filter(([id]) => id === only.fiscalCode));
        if (sources.size === 0) {
          throw new AppError(
            'invalid-input',
            'no domain can list reporting flows: set NODE_BASE_URL and the domains’ secrets',
          );
        }
        const run = await withDb((db) => fetchReportingFlows({ db, logger, sources }));
        if (run === undefined) {
          process.stderr.write('another process is downloading reporting flows; try again later\n');
          process.exitCode = EXIT.unavailable;
          return;
        }
        printLine(
          opts.json === true
            ? JSON.stringify(run)
            : `reporting flows: ${run.listed} listed, ${run.downloaded} downloaded, ${run.superseded} revisions superseded, ${run.anomalous} ANOMALOUS, ${run.errors} errors`,
        );
        if (run.errors > 0) process.exitCode = EXIT.failure;
      }),
    );

  reports
    .command('reconcile')
    .description('per day: receipts, flows, bank transfers and every mismatch with what to do')
    .requiredOption('--from <YYYY-MM-DD>', 'first day, inclusive')
    .requiredOption('--to <YYYY-MM-DD>', 'last day, inclusive')
    .option('--domain <fiscalCode>', 'the domain (default: the default domain)')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV (as GET /ops/v1/reconciliation.csv)')
    .action((opts: { from: string; to: string; domain?: string; json?: boolean; csv?: boolean }) =>
      runCommand(async () => {
        for (const [name, value] of [
          ['--from', opts.from],
          ['--to', opts.to],
        ] as const) {
          if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) {
            throw new AppError('invalid-input', `${name} must be YYYY-MM-DD`);
          }
        }
        const config = loadConfigOrExit();
        const domain = domainOf(loadDomains(config.domainsFile), opts.domain);
        const report = await withDb((db) =>
          reconciliationReport(
            { db },
            { domainId: domain.fiscalCode, from: opts.from, to: opts.to },
          ),
        );
        if (opts.csv === true) {
          process.stdout.write(reportToCsv(report));
          return;
        }
        if (opts.json === true) {
          const { lineMatches, ...rest } = report;
          const lines: Record<string, number> = {};
          for (const m of lineMatches) lines[m.outcome] = (lines[m.outcome] ?? 0) + 1;
          printLine(
            JSON.stringify({
              domain: domain.fiscalCode,
              from: rest.from,
              to: rest.to,
              asOf: rest.asOf,
              lines,
              days: rest.days,
            }),
          );
          return;
        }
        for (const d of report.days) {
          printLine(
            `${d.date}  receipts ${d.receipts.count} / ${euro(d.receipts.cents)}  flows ${d.flows.count} / ${euro(d.flows.cents)}  bank ${d.bankTransfers.count} / ${euro(d.bankTransfers.cents)}  mismatches ${d.mismatches.length}`,
          );
          for (const m of d.mismatches) {
            printLine(`  ${m.kind}\t${m.ref}\t${m.detail}\n    -> ${m.action}`);
          }
        }
        if (report.days.length === 0) printLine(`nothing between ${opts.from} and ${opts.to}`);
      }),
    );

  reports
    .command('import-treasury')
    .description(
      "import the treasury's statement of incoming transfers: CSV date,amount,causale[,valueDate,bankReference]",
    )
    .argument('<file>', 'the CSV file')
    .option('--domain <fiscalCode>', 'the domain (default: the default domain)')
    .option('--json', 'print JSON')
    .action((file: string, opts: { domain?: string; json?: boolean }) =>
      runCommand(async () => {
        const config = loadConfigOrExit();
        const domain = domainOf(loadDomains(config.domainsFile), opts.domain);
        const csvText = await readStatement(file);
        const movements = parseTreasuryCsv(csvText);
        const result = await withDb((db) =>
          importTreasury(db, {
            domainId: domain.fiscalCode,
            fileName: path.basename(file),
            csvText,
            movements,
            actor: `cli:${os.userInfo().username}`,
          }),
        );
        printLine(
          opts.json === true
            ? JSON.stringify(result)
            : result.kind === 'imported'
              ? `treasury import ${result.importId}: ${result.movements} movements`
              : `already imported as ${result.importId}: nothing new`,
        );
      }),
    );
}

async function readStatement(file: string): Promise<string> {
  try {
    const info = await stat(file);
    if (info.size > FILE_BYTES_MAX) {
      throw new AppError(
        'invalid-input',
        `${file} is ${info.size} bytes; at most ${FILE_BYTES_MAX}`,
      );
    }
    return await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('invalid-input', `cannot read ${file}: ${(err as Error).message}`);
  }
}
