import { Option, type Command } from 'commander';
import {
  cancelPositionByOperator,
  markPositionPaidOutside,
  reverseLedgerEntry,
} from '../../../data-access/operations-repository';
import { OFFLINE_CHANNELS, type OfflineChannel } from '../../../data-access/positions-repository';
import { centsFromDecimalString } from '../../../domain/codes/money';
import { AppError } from '../../../domain/errors';
import { centsToDecimal } from '../../../domain/operations/formats';
import { loadDomains } from '../../../shared/domains-config';
import { printLine, runCommand } from '../run-command';
import { withDb } from '../with-db';
import { actorFor, parseId } from './receipts';

/**
 * `pagopa-adapter positions mark-paid|cancel|reverse-entry`: fixing a position or a wrong credit
 * the way an accountant would, with new ledger entries (never edits) and a reason in the audit.
 * Dry runs unless `--execute`: the dry run runs the same transaction and rolls it back.
 */

function domainOf(domainsFile: string, fiscalCode: string | undefined): string {
  const domain = loadDomains(domainsFile).resolve(fiscalCode);
  if (domain === undefined) {
    throw new AppError(
      'domain-unknown',
      fiscalCode === undefined ? 'name the domain with --domain' : `unknown domain ${fiscalCode}`,
    );
  }
  return domain.fiscalCode;
}

const status = (snapshot: unknown): string =>
  (snapshot as { status?: string } | null)?.status ?? '?';

export function registerPositionsFixCommands(program: Command): void {
  const positions = program
    .command('positions')
    .description(
      'operator fixes: mark a position paid outside pagoPA, cancel it, reverse an entry',
    );

  positions
    .command('mark-paid <externalId>')
    .description('record that a position was paid outside pagoPA (counter, postal slip, transfer)')
    .option('--domain <fiscalCode>', 'the domain (default: the only or default one)')
    .requiredOption('--amount <decimal>', 'what was paid, e.g. 12.30')
    .requiredOption('--reference <text>', 'the payment reference (bank transfer CRO, slip number)')
    .option('--paid-at <iso>', 'when it was paid (ISO 8601)', new Date().toISOString())
    .addOption(
      new Option('--channel <channel>', 'how it was paid')
        .choices(OFFLINE_CHANNELS)
        .default('BANK_TRANSFER'),
    )
    .option('--iuv <iuv>', 'the option paid, when the position has several')
    .option('--execute', 'really do it')
    .option('--reason <text>', 'why, for the audit trail (required with --execute)')
    .option('--json', 'print JSON')
    .action(
      (
        externalId: string,
        opts: {
          domain?: string;
          amount: string;
          reference: string;
          paidAt: string;
          channel: OfflineChannel;
          iuv?: string;
          execute?: boolean;
          reason?: string;
          json?: boolean;
        },
      ) =>
        runCommand(async () => {
          const execute = opts.execute === true;
          const actor = actorFor(opts.reason, execute);
          const amountCents = centsFromDecimalString(opts.amount);
          const paidAt = new Date(opts.paidAt);
          if (Number.isNaN(paidAt.getTime())) {
            throw new AppError('invalid-input', '--paid-at must be an ISO 8601 date-time');
          }
          const result = await withDb((db, config) =>
            markPositionPaidOutside(
              db,
              {
                domainId: domainOf(config.domainsFile, opts.domain),
                externalId,
                channel: opts.channel,
                reference: opts.reference,
                amountCents,
                paidAt,
                iuv: opts.iuv,
              },
              { execute, actor },
            ),
          );
          if (opts.json === true) {
            printLine(JSON.stringify({ executed: execute, ...result }));
            return;
          }
          const what = `position ${externalId}: ${status(result.before)} → ${status(result.after)} (${centsToDecimal(amountCents)} by ${opts.channel})`;
          printLine(
            !result.created
              ? `already recorded: ${what}`
              : execute
                ? what
                : `dry run: ${what}; add --execute --reason "<why>"`,
          );
        }),
    );

  positions
    .command('cancel <externalId>')
    .description('cancel a position (paid ones cannot be: refund first)')
    .option('--domain <fiscalCode>', 'the domain (default: the only or default one)')
    .option('--execute', 'really do it')
    .option('--reason <text>', 'why, for the audit trail (required with --execute)')
    .option('--json', 'print JSON')
    .action(
      (
        externalId: string,
        opts: { domain?: string; execute?: boolean; reason?: string; json?: boolean },
      ) =>
        runCommand(async () => {
          const execute = opts.execute === true;
          const actor = actorFor(opts.reason, execute);
          const result = await withDb((db, config) =>
            cancelPositionByOperator(db, domainOf(config.domainsFile, opts.domain), externalId, {
              execute,
              actor,
            }),
          );
          if (opts.json === true) {
            printLine(JSON.stringify({ executed: execute, ...result }));
            return;
          }
          const what = `position ${externalId}: ${status(result.before)} → ${status(result.after)}`;
          printLine(execute ? what : `dry run: ${what}; add --execute --reason "<why>"`);
        }),
    );

  positions
    .command('reverse-entry <entryId>')
    .description('reverse a wrong ledger entry with a REVERSAL entry of the opposite amount')
    .option('--execute', 'really do it')
    .option('--reason <text>', 'why, for the audit trail (required with --execute)')
    .option('--json', 'print JSON')
    .action((id: string, opts: { execute?: boolean; reason?: string; json?: boolean }) =>
      runCommand(async () => {
        const entryId = parseId('<entryId>')(id);
        const execute = opts.execute === true;
        const actor = actorFor(opts.reason, execute);
        const result = await withDb((db) => reverseLedgerEntry(db, entryId, { execute, actor }));
        if (opts.json === true) {
          printLine(
            JSON.stringify({
              executed: execute,
              created: result.created,
              reversalEntryId: result.reversal.id,
              amountCents: result.reversal.amountCents,
              balanceAfterCents: result.reversal.balanceAfterCents,
            }),
          );
          return;
        }
        const what = `entry ${entryId} (${centsToDecimal(result.original.amountCents)}) reversed by entry ${result.reversal.id} (${centsToDecimal(result.reversal.amountCents)}), balance ${centsToDecimal(result.reversal.balanceAfterCents)}`;
        printLine(
          !result.created
            ? `already reversed: ${what}`
            : execute
              ? what
              : `dry run: ${what}; add --execute --reason "<why>"`,
        );
      }),
    );
}
