import type { Command } from 'commander';
import { isTransientDbError } from '../../../data-access/errors';
import { describeAccounts, verifyBalances } from '../../../data-access/ledger-repository';
import { AppError } from '../../../domain/errors';
import { EXIT, printLine, runCommand } from '../run-command';
import { withDb } from '../with-db';

export function registerLedgerCommands(program: Command): void {
  const ledger = program.command('ledger').description('card accounts and their ledger');

  ledger
    .command('verify')
    .description(
      'prove every account balance equals the sum of its entries (exit 2 on any mismatch)',
    )
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      runCommand(async () => {
        const report = await withDb(async (db) => {
          const result = await verifyBalances(db);
          const names = new Map(
            (
              await describeAccounts(
                db,
                result.mismatches.map((m) => m.cardAccountId),
              )
            ).map((d) => [d.cardAccountId, d]),
          );
          return {
            accountsChecked: result.accounts,
            mismatches: result.mismatches.map((m) => ({
              ...m,
              differenceCents: m.balanceCents - m.sumOfEntriesCents,
              cardCode: names.get(m.cardAccountId)?.cardCode ?? null,
              domain: names.get(m.cardAccountId)?.domainId ?? null,
              account: names.get(m.cardAccountId)?.account ?? null,
            })),
          };
        }).catch((err: unknown) => {
          // Exit 2 means "the ledger is wrong": an outage must not read as that, so it is 3.
          if (!isTransientDbError(err)) throw err;
          throw new AppError(
            'dependency-down',
            `cannot read the database: ${(err as Error).message}`,
            {},
            { cause: err },
          );
        });
        if (opts.json === true) {
          printLine(JSON.stringify(report));
        } else {
          for (const m of report.mismatches) {
            printLine(
              `MISMATCH card ${m.cardCode ?? '?'} account ${m.account ?? '?'} (card_account_id ${m.cardAccountId}, domain ${m.domain ?? '?'}): balance ${m.balanceCents} cents, sum of entries ${m.sumOfEntriesCents} cents, difference ${m.differenceCents} cents`,
            );
          }
          printLine(
            `${report.accountsChecked} accounts checked, ${report.mismatches.length} mismatched`,
          );
        }
        // A mismatch is not bad input: the ledger itself is wrong and needs an operator.
        if (report.mismatches.length > 0) process.exitCode = EXIT.failure;
      }),
    );
}
