import { randomBytes } from 'node:crypto';
import { createDb, ensureDatabase, migrateLatest, type Db } from '../../src/data-access/db';

export const TEST_MARIADB_URL = process.env['TEST_DATABASE_URL'] ?? 'mysql://root@127.0.0.1:3306';

/** A database URL for a fresh, uniquely named schema (not yet created). */
export function uniqueDatabaseUrl(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 30);
  return `${TEST_MARIADB_URL}/pagopa_test_${safe}_${randomBytes(4).toString('hex')}`;
}

/**
 * Creates a schema of its own for one test file, with every migration applied, so test files can
 * run in parallel against the one MariaDB. `drop` removes the schema and closes the pool.
 */
export async function createTestDatabase(
  name: string,
): Promise<{ db: Db; url: string; drop: () => Promise<void> }> {
  const url = uniqueDatabaseUrl(name);
  await ensureDatabase(url);
  const db = createDb({ url, poolMax: 10 });
  await migrateLatest(db);
  const schema = new URL(url).pathname.slice(1);
  return {
    db,
    url,
    drop: async () => {
      await db.raw(`DROP DATABASE IF EXISTS \`${schema}\``);
      await db.destroy();
    },
  };
}
