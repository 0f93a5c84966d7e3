import { createDb, ensureDatabase, migrateLatest, type Db } from '../../data-access/db';
import type { Config } from '../../shared/config';
import { loadConfigOrExit } from './commands/serve';

/**
 * Runs an operator command against the configured database and always closes the pool.
 * Like `serve`, it brings the schema up to date first unless DATABASE_MIGRATE_ON_START=false.
 */
export async function withDb<T>(fn: (db: Db, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit();
  if (config.databaseMigrateOnStart) await ensureDatabase(config.databaseUrl);
  const db = createDb({ url: config.databaseUrl, poolMax: 4 });
  try {
    if (config.databaseMigrateOnStart) await migrateLatest(db);
    return await fn(db, config);
  } finally {
    await db.destroy();
  }
}
