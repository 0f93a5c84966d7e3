import { Command } from 'commander';
import { registerBillingCommands } from './commands/billing';
import { registerCodesCommands } from './commands/codes';
import { registerKeysCommands } from './commands/keys';
import { registerLedgerCommands } from './commands/ledger';
import { registerMigrateCommands } from './commands/migrate';
import { registerServeCommands } from './commands/serve';
import { registerWebhooksCommands } from './commands/webhooks';
import { registerReceiptsCommands } from './commands/receipts';
import { registerQuarantineCommands } from './commands/quarantine';
import { registerPositionsFixCommands } from './commands/positions-fix';
import { registerAuditCommands } from './commands/audit';
import { registerReportsCommands } from './commands/reports';
import { registerRptsCommands } from './commands/rpts';

/**
 * A CLI command module registers its sub-commands on the root program.
 * Commands print JSON with `--json` (or always, where the output is data) and exit non-zero with a
 * one-line reason on bad input: see `runCommand` in ./run-command.ts.
 */
export type RegisterCommands = (program: Command) => void;

const registrations: RegisterCommands[] = [
  registerServeCommands,
  registerMigrateCommands,
  registerKeysCommands,
  registerLedgerCommands,
  registerWebhooksCommands,
  registerCodesCommands,
  registerBillingCommands,
  registerReceiptsCommands,
  registerQuarantineCommands,
  registerPositionsFixCommands,
  registerAuditCommands,
  registerReportsCommands,
  registerRptsCommands,
];

export function buildProgram(): Command {
  const program = new Command('pagopa-adapter')
    .description('pagoPA / regional-node gateway adapter for municipalities')
    .showHelpAfterError()
    .exitOverride();
  for (const register of registrations) register(program);
  return program;
}
