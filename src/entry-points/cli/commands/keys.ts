import { Option, type Command } from 'commander';
import { listKeys, revokeKeyByName } from '../../../data-access/api-keys-repository';
import { AppError } from '../../../domain/errors';
import { createApiKey, ROLES, type Role } from '../../http/api/auth';
import { printLine, runCommand } from '../run-command';
import { withDb } from '../with-db';

const KEY_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('API keys for the ERP and operators');

  keys
    .command('create')
    .description('make a new key; it is printed once and only its SHA-256 is stored')
    .requiredOption('--name <name>', 'who the key is for (letters, digits, . _ -)')
    .addOption(
      new Option('--role <role...>', 'one or more roles').choices(ROLES).makeOptionMandatory(),
    )
    .option('--json', 'print JSON')
    .action((opts: { name: string; role: Role[]; json?: boolean }) =>
      runCommand(async () => {
        if (!KEY_NAME.test(opts.name)) {
          throw new AppError(
            'invalid-input',
            'the name must be 1-100 letters, digits, dots, dashes or underscores',
          );
        }
        const key = await withDb((db) => createApiKey(db, opts.name, opts.role));
        if (opts.json === true) {
          printLine(JSON.stringify({ name: opts.name, roles: opts.role, key }));
        } else {
          printLine(key);
          process.stderr.write(
            `key "${opts.name}" (${opts.role.join(', ')}) created: store it now, it is not shown again\n`,
          );
        }
      }),
    );

  keys
    .command('list')
    .description('list keys (names and roles; keys themselves are never stored)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      runCommand(async () => {
        const rows = await withDb((db) => listKeys(db));
        if (opts.json === true) {
          printLine(JSON.stringify(rows));
          return;
        }
        for (const r of rows) {
          const state = r.revokedAt === null ? 'active' : `revoked ${r.revokedAt.toISOString()}`;
          printLine(`${r.name}\t${r.roles}\t${r.createdAt.toISOString()}\t${state}`);
        }
      }),
    );

  keys
    .command('revoke')
    .description('revoke a key by name (it stops working at once)')
    .requiredOption('--name <name>', 'the key to revoke')
    .action((opts: { name: string }) =>
      runCommand(async () => {
        const revoked = await withDb((db) => revokeKeyByName(db, opts.name));
        if (!revoked) throw new AppError('not-found', `no active key named "${opts.name}"`);
        printLine(`revoked ${opts.name}`);
      }),
    );
}
