import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import type { Command } from 'commander';
import { billingRunStore, insertRun, listRunErrors } from '../../../data-access/billing-repository';
import type { Db } from '../../../data-access/db';
import { isTransientDbError } from '../../../data-access/errors';
import { processRun, prepareRun, type BillingProgress } from '../../../domain/billing/run';
import { AppError, toAppError } from '../../../domain/errors';
import { loadDomains, type Domains } from '../../../shared/domains-config';
import { EXIT, printLine, runCommand } from '../run-command';
import { withDb } from '../with-db';
import { loadConfigOrExit } from './serve';

/**
 * `billing import FILE.csv --service S --period YYYY-MM`: the same run as POST
 * /api/v1/billing-runs (same checks, same tables, same idempotency per service, period and card),
 * processed in this process, without the queue. `billing resume RUN_ID` finishes a run left
 * PENDING or RUNNING (a queue outage, a crash).
 *
 * Exit codes: 0 every line billed or already billed; 1 the request was refused or some lines
 * FAILED (their reasons are printed); 3 the database is unreachable (nothing to conclude).
 */

/** A billing CSV of 20,000 lines is about 1 MB; this leaves room and still bounds the read. */
const FILE_BYTES_MAX = 20 * 1024 * 1024;
/** Failed lines printed in text mode (JSON carries up to ERRORS_JSON_MAX). */
const ERRORS_PRINTED_MAX = 50;
const ERRORS_JSON_MAX = 1_000;
/** How often a non-TTY stderr gets a progress line. */
const PLAIN_PROGRESS_INTERVAL_MS = 1_000;
const BAR_WIDTH = 30;

type ImportOptions = { service: string; period: string; domain?: string; json?: boolean };

/** Progress on stderr: a redrawn bar on a terminal, a line a second otherwise (logs, CI). */
function progressReporter(stream: NodeJS.WriteStream): {
  update: (p: BillingProgress) => void;
  end: () => void;
} {
  const tty = stream.isTTY;
  let lastPlainAt = 0;
  let last: BillingProgress | undefined;
  const text = (p: BillingProgress): string => {
    const settled = p.done + p.failed;
    const pct = p.total === 0 ? 100 : Math.floor((settled / p.total) * 100);
    return `${pct}% ${settled}/${p.total} lines (${p.failed} failed)`;
  };
  return {
    update: (p) => {
      last = p;
      if (tty) {
        const settled = p.done + p.failed;
        const filled = p.total === 0 ? BAR_WIDTH : Math.round((settled / p.total) * BAR_WIDTH);
        stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${text(p)}`);
        return;
      }
      const now = Date.now();
      if (now - lastPlainAt >= PLAIN_PROGRESS_INTERVAL_MS) {
        lastPlainAt = now;
        stream.write(`billing: ${text(p)}\n`);
      }
    },
    end: () => {
      if (last === undefined) return;
      stream.write(tty ? '\n' : `billing: ${text(last)}\n`);
    },
  };
}

const dependencyDown = (err: unknown): never => {
  if (!isTransientDbError(err) && toAppError(err).code !== 'dependency-down') throw err;
  throw new AppError(
    'dependency-down',
    `cannot reach the database: ${(err as Error).message}`,
    {},
    { cause: err },
  );
};

/** Processes a run to its end and prints what happened; sets the exit code. */
async function processAndReport(
  db: Db,
  domains: Domains,
  runId: string,
  json: boolean,
): Promise<void> {
  const reporter = progressReporter(process.stderr);
  const run = await processRun(billingRunStore(db, domains), runId, {
    onProgress: reporter.update,
  }).finally(reporter.end);
  if (run === undefined) throw new AppError('not-found', `no billing run ${runId}`);
  const errors = await listRunErrors(db, run.id, {
    limit: json ? ERRORS_JSON_MAX : ERRORS_PRINTED_MAX,
  });
  if (json) {
    printLine(
      JSON.stringify({
        runId: run.runId,
        domain: run.domainId,
        service: run.service,
        period: run.period,
        status: run.status,
        total: run.total,
        done: run.done,
        skipped: run.skipped,
        failed: run.failed,
        billedCents: run.billedCents,
        errors: errors.map((e) => ({ line: e.line, cardCode: e.cardCode, reason: e.reason })),
      }),
    );
  } else {
    for (const e of errors) printLine(`line ${e.line}\t${e.cardCode}\t${e.reason}`);
    if (run.failed > errors.length) {
      printLine(
        `... and ${run.failed - errors.length} more failed lines: GET /api/v1/billing-runs/${run.runId}/errors`,
      );
    }
    printLine(
      `billing run ${run.runId} ${run.status}: ${run.service} ${run.period}, ${run.total} lines, ${run.done - run.skipped} billed, ${run.skipped} already billed, ${run.failed} failed`,
    );
  }
  if (run.status !== 'FINISHED') process.exitCode = EXIT.failure;
  else if (run.failed > 0) process.exitCode = EXIT.invalid;
}

export function registerBillingCommands(program: Command): void {
  const billing = program
    .command('billing')
    .description('billing runs: a month of a card service billed onto the cards');

  billing
    .command('import')
    .description(
      'bill a CSV (cardCode,amountCents,description) for a service and period; idempotent per card',
    )
    .argument('<file>', 'the CSV file')
    .requiredOption('--service <code>', 'the card service billed, e.g. SCHOOL_TRANSPORT')
    .requiredOption('--period <YYYY-MM>', 'the month billed, e.g. 2026-10')
    .option('--domain <fiscalCode>', 'the domain (default: the default domain)')
    .option('--json', 'print JSON')
    .action((file: string, opts: ImportOptions) =>
      runCommand(async () => {
        const config = loadConfigOrExit();
        const domains = loadDomains(config.domainsFile);
        const domain = domains.resolve(opts.domain);
        if (domain === undefined) {
          throw new AppError(
            'domain-unknown',
            opts.domain === undefined
              ? 'name the domain with --domain: there is no default one'
              : `domain ${opts.domain} is not in the domains file`,
          );
        }
        const csv = await readCsv(file);
        const prepared = prepareRun(
          domain,
          { service: opts.service, period: opts.period, input: { csv } },
          { service: '--service', period: '--period' },
        );
        await withDb(async (db) => {
          const runId = randomUUID();
          await db.transaction((trx) =>
            insertRun(trx, {
              runId,
              prepared,
              source: 'CLI',
              createdBy: `cli:${os.userInfo().username}`,
            }),
          );
          if (opts.json !== true) {
            process.stderr.write(
              `billing run ${runId}: ${prepared.lines.length} lines, ${prepared.rejected} refused at once\n`,
            );
          }
          await processAndReport(db, domains, runId, opts.json === true);
        }).catch(dependencyDown);
      }),
    );

  billing
    .command('resume')
    .description('finish a billing run left PENDING or RUNNING (a queue outage, a crash)')
    .argument('<runId>', 'the run id')
    .option('--json', 'print JSON')
    .action((runId: string, opts: { json?: boolean }) =>
      runCommand(async () => {
        if (!/^[0-9a-f-]{36}$/.test(runId)) {
          throw new AppError('invalid-input', 'the run id is a UUID');
        }
        const config = loadConfigOrExit();
        const domains = loadDomains(config.domainsFile);
        await withDb((db) => processAndReport(db, domains, runId, opts.json === true)).catch(
          dependencyDown,
        );
      }),
    );
}

async function readCsv(file: string): Promise<string> {
  try {
    const info = await stat(file);
    if (info.size > FILE_BYTES_MAX) {
      throw new AppError(
        'invalid-input',
        `${file} is ${info.size} bytes; a billing file is at most ${FILE_BYTES_MAX}`,
      );
    }
    return await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('invalid-input', `cannot read ${file}: ${(err as Error).message}`);
  }
}
