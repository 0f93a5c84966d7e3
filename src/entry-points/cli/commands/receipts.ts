import os from 'node:os';
import type { Queue } from 'bullmq';
import { Option, type Command } from 'commander';
import { closeRedis, createRedis, waitUntilReady } from '../../../adapters/redis';
import { createQueue, QUEUES } from '../../../adapters/queues';
import { isLiveJobState, queueInventory, reconcileJobs } from '../../../adapters/reconcile-jobs';
import type { Db } from '../../../data-access/db';
import {
  countReceiptsByState,
  findReceiptDetail,
  listAwaitingReceipts,
  listReceipts,
  replayOne,
  selectReceiptIds,
} from '../../../data-access/operations-repository';
import { AppError } from '../../../domain/errors';
import { centsToDecimal, humanAge, prettyXml } from '../../../domain/operations/formats';
import {
  REASON_MAX_CHARS,
  REPLAY_LIMIT_MAX,
  replayReceipts,
  type ReplaySelection,
} from '../../../domain/operations/replay';
import {
  INVENTORY_STATES,
  type Actor,
  type InventoryState,
  type ReceiptFilter,
  type ReceiptSummary,
  type ReconcileJobs,
  type ReplayItem,
} from '../../../domain/operations/types';
import type { Config } from '../../../shared/config';
import { RECONCILE_JOB_NAME } from '../../soap/handlers/pa-send-rt';
import { toReceiptDetailOut, toReceiptOut } from '../../http/api/ops-routes';
import { printLine, runCommand } from '../run-command';
import { withDb } from '../with-db';
import { loadConfigOrExit } from './serve';

/**
 * `pagopa-adapter receipts list|show|replay|jobs|awaiting`: the receipts inventory and replays
 * from a shell. Human tables by default, `--json` for scripts; replays are dry runs unless
 * `--execute` (with `--reason`), sets need `--limit`; exit codes: 0 done, 1 bad input or unknown
 * receipt, 2 a replayed receipt FAILED again (with --wait), 3 MariaDB or Redis down.
 */

const LIST_LIMIT_MAX = 1_000;
const REDIS_READY_WAIT_MS = 3_000;
const WAIT_SECONDS_MAX = 600;

/** Who ran the command, for the audit trail: the operating-system user. */
export function cliActorName(): string {
  try {
    return `cli:${os.userInfo().username}`.slice(0, 100);
  } catch {
    return 'cli';
  }
}

export const parseIntOption =
  (name: string, min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new AppError('invalid-input', `${name} must be an integer from ${min} to ${max}`);
    }
    return n;
  };

export const parseId = (name: string) => parseIntOption(name, 1, Number.MAX_SAFE_INTEGER);

/** The operator's reason: required to execute, bounded. */
export function actorFor(reason: string | undefined, execute: boolean): Actor {
  const text = reason?.trim() ?? '';
  if (execute && text === '') {
    throw new AppError('invalid-input', '--execute needs --reason "<why>" for the audit trail');
  }
  if (text.length > REASON_MAX_CHARS) {
    throw new AppError('invalid-input', `--reason is longer than ${REASON_MAX_CHARS} characters`);
  }
  return { name: cliActorName(), reason: text };
}

/** A plain-text table: columns padded to their widest cell, two spaces apart. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/**
 * Progress on stderr, so stdout stays clean for `--json`: a redrawn bar on a terminal, a line
 * every tenth of the work otherwise (logs, CI).
 */
export function progressReporter(label: string): (done: number, total: number) => void {
  const tty = process.stderr.isTTY;
  let lastShown = 0;
  return (done, total) => {
    if (total <= 1) return;
    if (tty) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(
        `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`,
      );
      if (done === total) process.stderr.write('\n');
      return;
    }
    const step = Math.max(1, Math.floor(total / 10));
    if (done === total || done - lastShown >= step) {
      lastShown = done;
      process.stderr.write(`${label}: ${done}/${total}\n`);
    }
  };
}

/**
 * Runs `fn` with the reconcile queue on a fail-fast Redis connection, and always closes both.
 * @throws AppError('dependency-down') when Redis does not answer within a few seconds.
 */
export async function withReconcileJobs<T>(
  config: Config,
  fn: (jobs: ReconcileJobs, queues: { reconcile: Queue; billing: Queue }) => Promise<T>,
): Promise<T> {
  const redis = createRedis(config.redisUrl, 'producer', 'cli');
  // Reported by the command's own failure (dependency-down); the reconnect loop is not news.
  redis.on('error', () => undefined);
  const options = {
    prefix: config.queuePrefix,
    attempts: config.reconcileAttemptsMax,
    backoffDelayMs: config.reconcileBackoffBaseMs,
  };
  const reconcile = createQueue(QUEUES.reconcile, redis, options, () => undefined);
  const billing = createQueue(QUEUES.billing, redis, options, () => undefined);
  try {
    if (!(await waitUntilReady(redis, REDIS_READY_WAIT_MS))) {
      throw new AppError(
        'dependency-down',
        `Redis is not answering at ${redactUrl(config.redisUrl)}`,
      );
    }
    return await fn(reconcileJobs(reconcile, RECONCILE_JOB_NAME), { reconcile, billing });
  } finally {
    await reconcile.close().catch(() => undefined);
    await billing.close().catch(() => undefined);
    await closeRedis(redis);
  }
}

const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

type FilterOpts = {
  state?: InventoryState;
  domain?: string;
  iuv?: string;
  reasonContains?: string;
  olderThanMinutes?: number;
};

const filterFrom = (opts: FilterOpts): ReceiptFilter => ({
  state: opts.state,
  domainId: opts.domain,
  iuv: opts.iuv,
  reasonContains: opts.reasonContains,
  olderThanMs: opts.olderThanMinutes === undefined ? undefined : opts.olderThanMinutes * 60_000,
});

const addFilterOptions = (cmd: Command, states: readonly string[]): Command =>
  cmd
    .addOption(new Option('--state <state>', 'receipts in this state').choices(states))
    .option('--domain <fiscalCode>', 'receipts of this domain')
    .option('--iuv <iuv>', 'receipts with this IUV')
    .option('--reason-contains <text>', 'receipts whose reason contains this text')
    .option(
      '--older-than-minutes <n>',
      'receipts received at least this long ago',
      parseIntOption('--older-than-minutes', 0, 525_600),
    );

export const receiptRow = (r: ReceiptSummary, now: Date): string[] => [
  String(r.id),
  r.state,
  r.domainId,
  r.iuv,
  centsToDecimal(r.amountCents),
  humanAge(r.receivedAt, now),
  r.conflicts > 0 ? String(r.conflicts) : '',
  (r.reason ?? '').slice(0, 80),
];
export const RECEIPT_HEADERS = [
  'ID',
  'STATE',
  'DOMAIN',
  'IUV',
  'AMOUNT',
  'AGE',
  'CONFLICTS',
  'REASON',
];

const replayRow = (i: ReplayItem): string[] => [
  String(i.receiptId),
  i.stateBefore,
  i.iuv,
  i.action,
  i.jobAction ?? '',
  i.detail,
];

async function waitForOutcome(
  db: Db,
  ids: readonly number[],
  seconds: number,
): Promise<Map<number, string>> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const rows: { id: number; state: string }[] = await db('receipts')
      .whereIn('id', ids)
      .select('id', 'state');
    const states = new Map(rows.map((r) => [Number(r.id), r.state]));
    const pending = [...states.values()].some((s) => s === 'RECEIVED');
    if (!pending || Date.now() >= deadline) return states;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function registerReceiptsCommands(program: Command): void {
  const receipts = program
    .command('receipts')
    .description('the receipts inbox: inventory, inspect one, replay FAILED ones');

  addFilterOptions(
    receipts.command('list').description('receipts by state, newest first'),
    INVENTORY_STATES,
  )
    .option(
      '--limit <n>',
      `at most this many (1-${LIST_LIMIT_MAX})`,
      parseIntOption('--limit', 1, LIST_LIMIT_MAX),
      50,
    )
    .option('--before-id <id>', 'the next page: receipts with a smaller id', parseId('--before-id'))
    .option('--json', 'print JSON')
    .action((opts: FilterOpts & { limit: number; beforeId?: number; json?: boolean }) =>
      runCommand(async () => {
        const { items, counts } = await withDb(async (db) => ({
          items: await listReceipts(db, filterFrom(opts), {
            beforeId: opts.beforeId,
            limit: opts.limit,
          }),
          counts: await countReceiptsByState(db),
        }));
        const now = new Date();
        if (opts.json === true) {
          printLine(JSON.stringify({ items: items.map((r) => toReceiptOut(r, now)), counts }));
          return;
        }
        for (const line of table(
          RECEIPT_HEADERS,
          items.map((r) => receiptRow(r, now)),
        ))
          printLine(line);
        printLine(
          `${items.length} receipt(s) shown; in the inbox: ${Object.entries(counts)
            .map(([s, n]) => `${s} ${n}`)
            .join(', ')}`,
        );
      }),
    );

  receipts
    .command('show <receiptId>')
    .description('one receipt: raw XML, parsed form, history, position, ledger entries, job, audit')
    .option('--json', 'print JSON')
    .action((id: string, opts: { json?: boolean }) =>
      runCommand(async () => {
        const receiptId = parseId('<receiptId>')(id);
        const { detail, config } = await withDb(async (db, cfg) => ({
          detail: await findReceiptDetail(db, receiptId),
          config: cfg,
        }));
        if (detail === undefined) throw new AppError('not-found', `no receipt ${receiptId}`);
        const job = await withReconcileJobs(config, (jobs) =>
          jobs.describe({
            receiptId,
            domainId: detail.domainId,
            iuv: detail.iuv,
            receiptKey: detail.receiptKey,
          }),
        ).catch(() => null);
        const out = toReceiptDetailOut({ receipt: detail, job });
        if (opts.json === true) {
          printLine(JSON.stringify(out));
          return;
        }
        printLine(
          `receipt ${out.id}  ${out.state}${out.reason === null ? '' : `  (${out.reason})`}`,
        );
        printLine(
          `domain ${out.domain}  IUV ${out.iuv}  receipt key ${out.receiptKey}  notice ${out.noticeNumber ?? '-'}`,
        );
        printLine(
          `source ${out.source}  outcome ${out.outcome}  amount ${centsToDecimal(out.amountCents)}  station ${out.stationId ?? '-'}  received ${out.receivedAt}`,
        );
        printLine('');
        printLine('history:');
        for (const line of table(
          ['AT', 'FROM', 'TO', 'ACTOR', 'REASON'],
          out.history.map((h) => [h.at, h.from ?? '-', h.to, h.actor, h.reason ?? '']),
        ))
          printLine(`  ${line}`);
        printLine('');
        if (out.position === null) printLine('position: none');
        else {
          const p = out.position;
          printLine(
            `position ${p.externalId} (${p.kind}, ${p.status}${p.cardId === null ? '' : `, card ${p.cardId} ${p.account ?? ''}`})`,
          );
          for (const o of p.options)
            printLine(
              `  option IUV ${o.iuv}  ${centsToDecimal(o.amountCents)}  paid ${centsToDecimal(o.paidAmountCents)}  ${o.status}`,
            );
        }
        printLine('');
        printLine('ledger entries:');
        for (const line of table(
          ['ID', 'ACCOUNT', 'KIND', 'AMOUNT', 'BALANCE', 'REVERSES', 'AT'],
          out.ledgerEntries.map((e) => [
            String(e.id),
            String(e.cardAccountId),
            e.kind,
            centsToDecimal(e.amountCents),
            centsToDecimal(e.balanceAfterCents),
            e.reversesEntryId === null ? '' : String(e.reversesEntryId),
            e.createdAt,
          ]),
        ))
          printLine(`  ${line}`);
        printLine('');
        if (out.job === null) printLine('job: none (or Redis unavailable)');
        else {
          printLine(
            `job ${out.job.jobId}: ${out.job.state}, ${out.job.attemptsMade} attempt(s)${out.job.failedReason === null ? '' : `, failed: ${out.job.failedReason}`}`,
          );
          for (const e of out.job.errors) printLine(`  error: ${e}`);
        }
        printLine('');
        printLine('audit:');
        for (const a of out.audit)
          printLine(`  ${a.occurredAt}  ${a.actor}  ${a.action}  ${a.reason ?? ''}`);
        if (out.conflictingContents.length > 0) {
          printLine('');
          printLine(`conflicting resends: ${out.conflictingContents.length}`);
          for (const c of out.conflictingContents)
            printLine(`  ${c.receivedAt}  hash ${c.payloadHash}`);
        }
        printLine('');
        printLine('raw XML:');
        printLine(prettyXml(out.rawXml));
      }),
    );

  addFilterOptions(
    receipts
      .command('replay [receiptId]')
      .description(
        'replay one receipt, or a set (FAILED by default, oldest first), through the reconciliation; dry run unless --execute',
      ),
    ['FAILED', 'RECEIVED'],
  )
    .option(
      '--limit <n>',
      `with a set: at most this many (1-${REPLAY_LIMIT_MAX}), required`,
      parseIntOption('--limit', 1, REPLAY_LIMIT_MAX),
    )
    .option('--execute', 'really do it (otherwise only show what would be replayed)')
    .option('--reason <text>', 'why, for the audit trail (required with --execute)')
    .option(
      '--wait <seconds>',
      `with --execute: wait up to this long for the replayed receipts to settle (0-${WAIT_SECONDS_MAX}); exit 2 if any FAILED again`,
      parseIntOption('--wait', 0, WAIT_SECONDS_MAX),
    )
    .option('--json', 'print JSON')
    .action(
      (
        id: string | undefined,
        opts: FilterOpts & {
          limit?: number;
          execute?: boolean;
          reason?: string;
          wait?: number;
          json?: boolean;
        },
      ) =>
        runCommand(async () => {
          const execute = opts.execute === true;
          const actor = actorFor(opts.reason, execute);
          let selection: ReplaySelection;
          if (id !== undefined) {
            const filterGiven = [
              opts.state,
              opts.domain,
              opts.iuv,
              opts.reasonContains,
              opts.olderThanMinutes,
            ].some((v) => v !== undefined);
            if (filterGiven)
              throw new AppError('invalid-input', 'give a receipt id or filters, not both');
            selection = { receiptId: parseId('<receiptId>')(id) };
          } else {
            if (opts.limit === undefined) {
              throw new AppError('invalid-input', 'a set replay needs --limit <n>');
            }
            selection = { filter: filterFrom(opts), limit: opts.limit };
          }
          const showProgress = progressReporter(execute ? 'replaying' : 'checking');
          const { report, settled } = await withDb((db, config) =>
            withReconcileJobs(config, async (jobs) => {
              const report = await replayReceipts(
                {
                  selectReceiptIds: (filter, limit) => selectReceiptIds(db, filter, limit),
                  replayOne: (receiptId, o) => replayOne(db, jobs, isLiveJobState, receiptId, o),
                },
                selection,
                { execute, actor, onProgress: (done, total) => showProgress(done, total) },
              );
              const moved = report.items
                .filter(
                  (i) =>
                    i.action === 'replayed' ||
                    i.action === 'requeued' ||
                    i.action === 'already-queued',
                )
                .map((i) => i.receiptId);
              const settled =
                execute && opts.wait !== undefined && moved.length > 0
                  ? await waitForOutcome(db, moved, opts.wait)
                  : undefined;
              return { report, settled };
            }),
          );
          const finalStates = settled === undefined ? {} : Object.fromEntries(settled);
          if (opts.json === true) {
            printLine(
              JSON.stringify({ ...report, ...(settled === undefined ? {} : { finalStates }) }),
            );
          } else {
            const rows = report.items.map((i) => [
              ...replayRow(i),
              settled?.get(i.receiptId) ?? '',
            ]);
            for (const line of table(
              ['ID', 'STATE', 'IUV', 'ACTION', 'JOB', 'DETAIL', 'NOW'],
              rows,
            ))
              printLine(line);
            const c = report.counts;
            printLine(
              execute
                ? `replayed ${c.replayed}, requeued ${c.requeued}, already queued ${c['already-queued']}, skipped ${c.skipped}`
                : `${report.items.length} receipt(s) checked; dry run: add --execute --reason "<why>" to replay`,
            );
          }
          if (settled !== undefined) {
            const failedAgain = [...settled.entries()].filter(([, s]) => s === 'FAILED');
            const stillWaiting = [...settled.entries()].filter(([, s]) => s === 'RECEIVED');
            if (failedAgain.length > 0 || stillWaiting.length > 0) {
              process.stderr.write(
                `error: ${failedAgain.length} receipt(s) FAILED again (${failedAgain.map(([i]) => i).join(', ')}), ${stillWaiting.length} still RECEIVED after ${opts.wait ?? 0}s\n`,
              );
              process.exitCode = 2;
            }
          }
        }),
    );

  receipts
    .command('jobs')
    .description('job counts per queue and the failed (and stalled) jobs')
    .option(
      '--limit <n>',
      'failed jobs shown per queue (1-1000)',
      parseIntOption('--limit', 1, 1_000),
      50,
    )
    .option('--json', 'print JSON')
    .action((opts: { limit: number; json?: boolean }) =>
      runCommand(async () => {
        const config = loadConfigOrExit();
        const inventory = await withReconcileJobs(config, async (_jobs, queues) => [
          await queueInventory(queues.reconcile, opts.limit),
          await queueInventory(queues.billing, opts.limit),
        ]);
        if (opts.json === true) {
          printLine(JSON.stringify({ queues: inventory }));
          return;
        }
        for (const q of inventory) {
          printLine(
            `${q.queue}: ${Object.entries(q.counts)
              .map(([s, n]) => `${s} ${n}`)
              .join(', ')}`,
          );
          for (const line of table(
            ['JOB', 'RECEIPT', 'ATTEMPTS', 'STALLED', 'REASON'],
            q.failed.map((f) => [
              f.jobId,
              f.receiptId === null ? '' : String(f.receiptId),
              String(f.attemptsMade),
              f.stalled ? 'yes' : '',
              f.failedReason.slice(0, 100),
            ]),
          ))
            printLine(`  ${line}`);
        }
      }),
    );

  receipts
    .command('awaiting')
    .description('payments still PENDING past the recovery delay with no receipt')
    .option('--domain <fiscalCode>', 'payments of this domain')
    .option(
      '--older-than-minutes <n>',
      'instead of RECOVERY_DELAY_MS',
      parseIntOption('--older-than-minutes', 0, 525_600),
    )
    .option('--limit <n>', 'at most this many (1-1000)', parseIntOption('--limit', 1, 1_000), 50)
    .option('--json', 'print JSON')
    .action((opts: { domain?: string; olderThanMinutes?: number; limit: number; json?: boolean }) =>
      runCommand(async () => {
        const items = await withDb((db, config) =>
          listAwaitingReceipts(db, {
            olderThanMs:
              opts.olderThanMinutes === undefined
                ? config.recoveryDelayMs
                : opts.olderThanMinutes * 60_000,
            domainId: opts.domain,
            limit: opts.limit,
          }),
        );
        if (opts.json === true) {
          printLine(JSON.stringify({ items }));
          return;
        }
        const now = new Date();
        for (const line of table(
          ['PAYMENT', 'CHANNEL', 'DOMAIN', 'IUV', 'AMOUNT', 'AGE', 'LAST CHECKED'],
          items.map((p) => [
            p.paymentId,
            p.channel,
            p.domainId,
            p.iuv,
            centsToDecimal(p.amountCents),
            humanAge(p.createdAt, now),
            humanAge(p.lastCheckedAt, now),
          ]),
        ))
          printLine(line);
        printLine(`${items.length} payment(s) awaiting a receipt`);
      }),
    );
}
