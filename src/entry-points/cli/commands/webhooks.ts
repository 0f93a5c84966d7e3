import os from 'node:os';
import { Option, type Command } from 'commander';
import {
  findForRedelivery,
  listOutboxEvents,
  OUTBOX_STATES,
  redeliverOutboxEvents,
  type OutboxEvent,
  type OutboxState,
  type RedeliverySelection,
} from '../../../data-access/outbox-repository';
import { AppError } from '../../../domain/errors';
import { printLine, runCommand } from '../run-command';
import { withDb } from '../with-db';

/**
 * Operator commands over the ERP webhook outbox: see what is stuck, put DEAD events back in line.
 * Redelivery is a dry run unless `--execute` is given, and then needs a `--reason` for the audit.
 */

const LIMIT_MAX = 1_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REASON_MAX_CHARS = 1_000;

const parseLimit = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > LIMIT_MAX) {
    throw new AppError('invalid-input', `--limit must be an integer from 1 to ${LIMIT_MAX}`);
  }
  return n;
};

/** Who ran the command, for the audit trail: the operating-system user. */
function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`.slice(0, 100);
  } catch {
    return 'cli';
  }
}

const toJson = (e: OutboxEvent) => ({
  eventId: e.eventId,
  type: e.type,
  domainId: e.domainId,
  state: e.state,
  attempts: e.attempts,
  nextAttemptAt: e.nextAttemptAt.toISOString(),
  lastStatus: e.lastStatus,
  lastError: e.lastError,
  createdAt: e.createdAt.toISOString(),
  deliveredAt: e.deliveredAt?.toISOString() ?? null,
});

const toLine = (e: OutboxEvent): string =>
  [
    e.eventId,
    e.type,
    e.state,
    `attempts=${e.attempts}`,
    `status=${e.lastStatus ?? '-'}`,
    `created=${e.createdAt.toISOString()}`,
    e.state === 'PENDING' ? `next=${e.nextAttemptAt.toISOString()}` : '',
    e.lastError === null ? '' : `error=${e.lastError}`,
  ]
    .filter((part) => part !== '')
    .join('\t');

export function registerWebhooksCommands(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('ERP webhooks: list outbox events, redeliver DEAD ones');

  webhooks
    .command('list')
    .description('list outbox events, newest first')
    .addOption(new Option('--state <state>', 'only events in this state').choices(OUTBOX_STATES))
    .option('--limit <n>', `at most this many (1-${LIMIT_MAX})`, '50')
    .option('--json', 'print JSON')
    .action((opts: { state?: OutboxState; limit: string; json?: boolean }) =>
      runCommand(async () => {
        const limit = parseLimit(opts.limit);
        const events = await withDb((db) =>
          listOutboxEvents(db, {
            limit,
            ...(opts.state === undefined ? {} : { state: opts.state }),
          }),
        );
        if (opts.json === true) {
          printLine(JSON.stringify(events.map(toJson)));
          return;
        }
        for (const e of events) printLine(toLine(e));
        printLine(`${events.length} event(s)`);
      }),
    );

  webhooks
    .command('redeliver')
    .description(
      'put events back in the delivery line (PENDING, attempts 0, due now); dry run unless --execute',
    )
    .addOption(new Option('--event <id>', 'one event, by the id the ERP sees').conflicts('state'))
    .addOption(
      new Option('--state <state>', 'every event in this state, oldest first').choices(['DEAD']),
    )
    .option('--limit <n>', `with --state: at most this many (1-${LIMIT_MAX})`, '100')
    .option('--execute', 'really do it (otherwise only show what would be redelivered)')
    .option('--reason <text>', 'why, for the audit trail (required with --execute)')
    .option('--json', 'print JSON')
    .action(
      (opts: {
        event?: string;
        state?: 'DEAD';
        limit: string;
        execute?: boolean;
        reason?: string;
        json?: boolean;
      }) =>
        runCommand(async () => {
          let selection: RedeliverySelection;
          if (opts.event !== undefined) {
            if (!UUID.test(opts.event)) {
              throw new AppError('invalid-input', '--event must be an event id (a UUID)');
            }
            selection = { eventId: opts.event.toLowerCase() };
          } else if (opts.state !== undefined) {
            selection = { state: opts.state, limit: parseLimit(opts.limit) };
          } else {
            throw new AppError('invalid-input', 'give --event <id> or --state DEAD');
          }
          const execute = opts.execute === true;
          const reason = opts.reason?.trim() ?? '';
          if (execute && reason === '') {
            throw new AppError('invalid-input', '--execute needs --reason "<why>" for the audit');
          }
          if (reason.length > REASON_MAX_CHARS) {
            throw new AppError('invalid-input', `--reason is longer than ${REASON_MAX_CHARS}`);
          }

          const events = await withDb(async (db) => {
            if (execute) return redeliverOutboxEvents(db, selection, { actor: cliActor(), reason });
            const found = await findForRedelivery(db, selection);
            if ('eventId' in selection && found.length === 0) {
              throw new AppError('not-found', `no outbox event ${selection.eventId}`);
            }
            return found.filter((e) => e.state !== 'PENDING');
          });

          if (opts.json === true) {
            printLine(JSON.stringify({ executed: execute, events: events.map(toJson) }));
            return;
          }
          for (const e of events)
            printLine(`${execute ? 'redelivering' : 'would redeliver'}\t${toLine(e)}`);
          printLine(
            execute
              ? `${events.length} event(s) back in line`
              : `${events.length} event(s) would be redelivered; add --execute --reason "<why>" to do it`,
          );
        }),
    );
}
