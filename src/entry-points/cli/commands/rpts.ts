import { Option, type Command } from 'commander';
import {
  listActivatedSends,
  resendActivatedSends,
  type ActivatedSendSummary,
} from '../../../data-access/activated-rpt-sends-repository';
import { AppError } from '../../../domain/errors';
import {
  ACTIVATED_RPT_STATES,
  RESEND_IDS_MAX,
  type ActivatedRptState,
} from '../../../domain/operations/activated-rpts';
import { toActivatedRptOut } from '../../http/api/ops-routes';
import { printLine, runCommand } from '../run-command';
import { withDb } from '../with-db';
import { actorFor, parseId, parseIntOption, table } from './receipts';

/**
 * `pagopa-adapter rpts list|resend`: the RPTs owed to the node after paaAttivaRPT (old model 3),
 * and re-sending the FAILED ones (SENT ones with --force) without touching the database. A resend
 * is a dry run unless `--execute` (with `--reason`); exit codes: 0 done, 1 bad input, unknown id
 * or wrong state (nothing changed), 3 MariaDB down.
 */

const LIST_LIMIT_MAX = 1_000;

const row = (s: ActivatedSendSummary): string[] => [
  String(s.id),
  s.state,
  s.domainId,
  s.iuv,
  s.ccp,
  `${s.psp.pspId}/${s.psp.channelId}`,
  String(s.attempts),
  s.updatedAt.toISOString(),
  s.lastError ?? '',
];

const HEADERS = [
  'ID',
  'STATE',
  'DOMAIN',
  'IUV',
  'CCP',
  'PSP/CHANNEL',
  'ATTEMPTS',
  'UPDATED',
  'ERROR',
];

export function registerRptsCommands(program: Command): void {
  const rpts = program
    .command('rpts')
    .description('old model 3: the RPTs sent after paaAttivaRPT; list them, re-send FAILED ones');

  rpts
    .command('list')
    .description('list activated RPT sends, newest first')
    .addOption(
      new Option('--state <state>', 'only sends in this state').choices(ACTIVATED_RPT_STATES),
    )
    .option('--limit <n>', `at most this many (1-${LIST_LIMIT_MAX})`, '50')
    .option('--json', 'print JSON')
    .action((opts: { state?: ActivatedRptState; limit: string; json?: boolean }) =>
      runCommand(async () => {
        const limit = parseIntOption('--limit', 1, LIST_LIMIT_MAX)(opts.limit);
        const sends = await withDb((db) => listActivatedSends(db, { state: opts.state, limit }));
        if (opts.json === true) {
          printLine(JSON.stringify({ items: sends.map(toActivatedRptOut) }));
          return;
        }
        for (const line of table(HEADERS, sends.map(row))) printLine(line);
        printLine(`${sends.length} send(s)`);
      }),
    );

  rpts
    .command('resend')
    .description(
      'send FAILED activated RPTs again (PENDING, attempts 0, due now); dry run unless --execute',
    )
    .argument('<id...>', `the sends' ids from "rpts list" (at most ${RESEND_IDS_MAX})`)
    .option('--force', 'also re-send SENT ones (the node said it has no RPT)')
    .option('--execute', 'really do it (otherwise only show what would be re-sent)')
    .option('--reason <text>', 'why, for the audit trail (required with --execute)')
    .option('--json', 'print JSON')
    .action(
      (
        idArgs: string[],
        opts: { force?: boolean; execute?: boolean; reason?: string; json?: boolean },
      ) =>
        runCommand(async () => {
          if (idArgs.length > RESEND_IDS_MAX) {
            throw new AppError('invalid-input', `at most ${RESEND_IDS_MAX} ids at once`);
          }
          const ids = idArgs.map((id) => parseId('an id')(id));
          const execute = opts.execute === true;
          const actor = actorFor(opts.reason, execute);
          const sends = await withDb((db) =>
            resendActivatedSends(db, ids, { force: opts.force === true, execute, actor }),
          );
          if (opts.json === true) {
            printLine(JSON.stringify({ executed: execute, items: sends.map(toActivatedRptOut) }));
            return;
          }
          for (const line of table(HEADERS, sends.map(row))) printLine(line);
          printLine(
            execute
              ? `${sends.length} send(s) re-armed: the worker sends them within a second`
              : `dry run: ${sends.length} send(s) would be re-sent; add --execute --reason "<why>" to do it`,
          );
        }),
    );
}
