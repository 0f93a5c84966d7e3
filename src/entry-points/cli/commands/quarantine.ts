import { Option, type Command } from 'commander';
import {
  attachQuarantined,
  findReceiptDetail,
  listReceipts,
  markRefundedOutside,
  releaseQuarantined,
} from '../../../data-access/operations-repository';
import { AppError } from '../../../domain/errors';
import { loadDomains } from '../../../shared/domains-config';
import { attachTargetOf, toReceiptOut } from '../../http/api/ops-routes';
import { printLine, runCommand } from '../run-command';
import { withDb } from '../with-db';
import {
  actorFor,
  parseId,
  parseIntOption,
  RECEIPT_HEADERS,
  receiptRow,
  table,
  withReconcileJobs,
} from './receipts';

/**
 * `pagopa-adapter quarantine list|attach|release|refund`: receipts that matched no known position
 * (or came through an unexpected station) are held QUARANTINED, never lost. An operator attaches
 * one to the position owning its IUV, or to a card as a top-up, then releases it to the normal
 * reconciliation; or closes it as refunded outside pagoPA. Dry runs unless `--execute`.
 */

const ACCOUNTS = ['CANTEEN', 'NURSERY_MEALS', 'SCHOOL_TRANSPORT'] as const;

const done = (execute: boolean, what: string): string =>
  execute ? what : `dry run: would be ${what}; add --execute --reason "<why>" to do it`;

export function registerQuarantineCommands(program: Command): void {
  const quarantine = program
    .command('quarantine')
    .description('quarantined receipts: list, attach to a position or card, release, refund');

  quarantine
    .command('list')
    .description('QUARANTINED receipts, newest first')
    .option('--domain <fiscalCode>', 'receipts of this domain')
    .option('--limit <n>', 'at most this many (1-1000)', parseIntOption('--limit', 1, 1_000), 50)
    .option('--json', 'print JSON')
    .action((opts: { domain?: string; limit: number; json?: boolean }) =>
      runCommand(async () => {
        const items = await withDb((db) =>
          listReceipts(db, { state: 'QUARANTINED', domainId: opts.domain }, { limit: opts.limit }),
        );
        const now = new Date();
        if (opts.json === true) {
          printLine(JSON.stringify({ items: items.map((r) => toReceiptOut(r, now)) }));
          return;
        }
        for (const line of table(
          RECEIPT_HEADERS,
          items.map((r) => receiptRow(r, now)),
        ))
          printLine(line);
        printLine(`${items.length} quarantined receipt(s)`);
      }),
    );

  quarantine
    .command('attach <receiptId>')
    .description(
      'attach a QUARANTINED receipt to the position owning its IUV, or to a card as a top-up',
    )
    .addOption(new Option('--position <externalId>', 'the debt position').conflicts('card'))
    .option('--card <cardCode>', 'a card: a TOP_UP position is made for the receipt')
    .addOption(new Option('--account <account>', 'with --card: the account').choices(ACCOUNTS))
    .option('--execute', 'really do it')
    .option('--reason <text>', 'why, for the audit trail (required with --execute)')
    .option('--json', 'print JSON')
    .action(
      (
        id: string,
        opts: {
          position?: string;
          card?: string;
          account?: (typeof ACCOUNTS)[number];
          execute?: boolean;
          reason?: string;
          json?: boolean;
        },
      ) =>
        runCommand(async () => {
          const receiptId = parseId('<receiptId>')(id);
          const execute = opts.execute === true;
          const actor = actorFor(opts.reason, execute);
          let body:
            | { position: string }
            | { card: { cardCode: string; account: (typeof ACCOUNTS)[number] } };
          if (opts.position !== undefined) body = { position: opts.position };
          else if (opts.card !== undefined && opts.account !== undefined) {
            body = { card: { cardCode: opts.card, account: opts.account } };
          } else {
            throw new AppError(
              'invalid-input',
              'give --position <externalId>, or --card <cardCode> --account <account>',
            );
          }
          const result = await withDb(async (db, config) => {
            const receipt = await findReceiptDetail(db, receiptId);
            if (receipt === undefined) throw new AppError('not-found', `no receipt ${receiptId}`);
            const target = attachTargetOf(
              { domains: loadDomains(config.domainsFile) },
              receipt.domainId,
              body,
            );
            return attachQuarantined(db, receiptId, target, { execute, actor });
          });
          if (opts.json === true) {
            printLine(JSON.stringify({ executed: execute, ...result }));
            return;
          }
          printLine(
            done(
              execute,
              `attached receipt ${receiptId} to position ${result.externalId} (option ${result.optionId}${result.created ? ', a new top-up' : ''}); release it to reconcile`,
            ),
          );
        }),
    );

  quarantine
    .command('release <receiptId>')
    .description('release an attached QUARANTINED receipt to the reconciliation')
    .option('--execute', 'really do it')
    .option('--reason <text>', 'why, for the audit trail (required with --execute)')
    .option('--json', 'print JSON')
    .action((id: string, opts: { execute?: boolean; reason?: string; json?: boolean }) =>
      runCommand(async () => {
        const receiptId = parseId('<receiptId>')(id);
        const execute = opts.execute === true;
        const actor = actorFor(opts.reason, execute);
        const result = await withDb((db, config) =>
          withReconcileJobs(config, (jobs) =>
            releaseQuarantined(db, jobs, receiptId, { execute, actor }),
          ),
        );
        if (opts.json === true) {
          printLine(JSON.stringify({ executed: execute, ...result }));
          return;
        }
        printLine(
          done(
            execute,
            `released receipt ${receiptId}: RECEIVED, job ${result.jobAction ?? 'to be scheduled'}`,
          ),
        );
      }),
    );

  quarantine
    .command('refund <receiptId>')
    .description('close a QUARANTINED (or FAILED) receipt whose money was refunded outside pagoPA')
    .option('--execute', 'really do it')
    .option('--reason <text>', 'why (e.g. the bank refund reference), required with --execute')
    .option('--json', 'print JSON')
    .action((id: string, opts: { execute?: boolean; reason?: string; json?: boolean }) =>
      runCommand(async () => {
        const receiptId = parseId('<receiptId>')(id);
        const execute = opts.execute === true;
        const actor = actorFor(opts.reason, execute);
        const result = await withDb((db) => markRefundedOutside(db, receiptId, { execute, actor }));
        if (opts.json === true) {
          printLine(JSON.stringify({ executed: execute, ...result }));
          return;
        }
        printLine(
          done(
            execute,
            `closed receipt ${receiptId} (${result.stateBefore} → RECONCILED, refunded outside pagoPA)`,
          ),
        );
      }),
    );
}
