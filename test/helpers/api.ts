import { createTestDatabase } from './db';
import { eventually, startTestService, testConfig } from './service';
import type { Db } from '../../src/data-access/db';
import type { RouteSpec } from '../../src/entry-points/http/api/route';

export type Json = Record<string, unknown>;

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

/**
 * One JSON call through a real door (API, simulator), redirects not followed so a test can read
 * `location`. A body that is not a JSON object or array reads as `{}`.
 */
export async function jsonCall(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; headers: Headers; location: string | null }> {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    redirect: 'manual',
  });
  const text = await res.text();
  return {
    status: res.status,
    body: /^\s*[[{]/.test(text) ? (JSON.parse(text) as Json) : {},
    headers: res.headers,
    location: res.headers.get('location'),
  };
}

/**
 * The ERP's side of a running service, for end-to-end tests: calls with the demo ERP key, and
 * card balances and position states read back through the API. `api` is read at each call (the
 * service starts in beforeAll).
 */
export function erpClient(api: () => string) {
  const erp = (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => jsonCall(api(), method, path, body, { ...ERP, ...headers });
  const balance = async (cardCode: string, account: string): Promise<number> => {
    const card = await erp('GET', `/api/v1/cards/${cardCode}`);
    const accounts = card.body['accounts'] as { account: string; balanceCents: number }[];
    return accounts.find((a) => a.account === account)?.balanceCents ?? NaN;
  };
  const balanceBecomes = (cardCode: string, account: string, cents: number, timeoutMs = 10_000) =>
    eventually(async () => (await balance(cardCode, account)) === cents, timeoutMs, 50);
  const positionStatus = async (externalId: string, domain?: string): Promise<unknown> =>
    (
      await erp(
        'GET',
        `/api/v1/debt-positions/${externalId}${domain === undefined ? '' : `?domain=${domain}`}`,
      )
    ).body['status'];
  return { erp, balance, balanceBecomes, positionStatus };
}
