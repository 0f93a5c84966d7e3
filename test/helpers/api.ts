import { createTestDatabase } from './db';
import { startTestService, testConfig } from './service';
import type { Db } from '../../src/data-access/db';
import type { RouteSpec } from '../../src/entry-points/http/api/route';

export const ERP = { Authorization: 'Bearer dev-erp-key' } as const;
export const OPERATOR = { Authorization: 'Bearer dev-operator-key' } as const;

/**
 * The API role on a schema of its own (migrated once here), on a free port, with the demo
 * domains and demo keys. Response checking is on (NODE_ENV=test), so every answer a test gets
 * has been validated against the schema its route declares.
 */
export async function startApi(
  name: string,
  env: Record<string, string> = {},
): Promise<{ url: string; db: Db; routes: readonly RouteSpec[]; stop: () => Promise<void> }> {
  const database = await createTestDatabase(name);
  const service = await startTestService(
    testConfig({ DATABASE_URL: database.url, DATABASE_MIGRATE_ON_START: 'false', ...env }),
    'api',
  );
  return {
    url: `http://127.0.0.1:${service.ports.api}`,
    db: database.db,
    routes: service.routes,
    stop: async () => {
      await service.stop();
      await database.drop();
    },
  };
}
