import type { Command } from 'commander';
import { createDb, ensureDatabase, migrateLatest, migrateRollback } from '../../../data-access/db';
import { printLine, runCommand } from '../run-command';
import { loadConfigOrExit } from './serve';

export function registerMigrateCommands(program: Command): void {
  program
    .command('migrate')
    .description('create the database if needed and apply pending migrations')
    .action(() =>
      runCommand(async () => {
        const config = loadConfigOrExit();
        await ensureDatabase(config.databaseUrl);
        const db = createDb({ url: config.databaseUrl, poolMax: 1 });
        try {
          const applied = await migrateLatest(db);
          printLine(applied.length === 0 ? 'already up to date' : `applied: ${applied.join(', ')}`);
        } finally {
          await db.destroy();
        }
      }),
    );
  program
    .command('migrate:rollback')
    .description('roll back the last batch of migrations')
    .action(() =>
      runCommand(async () => {
        const config = loadConfigOrExit();
        const db = createDb({ url: config.databaseUrl, poolMax: 1 });
        try {
          const rolledBack = await migrateRollback(db);
          printLine(
            rolledBack.length === 0
              ? 'nothing to roll back'
              : `rolled back: ${rolledBack.join(', ')}`,
          );
        } finally {
          await db.destroy();
        }
      }),
    );
}
