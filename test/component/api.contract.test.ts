import SwaggerParser from '@apidevtools/swagger-parser';
import request from 'supertest';
import { ERP, OPERATOR, startApi } from '../helpers/api';
import { spawnCli, waitForExit } from '../helpers/service';

/**
 * The API as a whole: its OpenAPI document is valid, and every route refuses a missing or unknown
 * key (401) and a key without the route's role (403). The sweep reads the route list itself, so a
 * route added later is covered without touching this file.
 */
describe('ERP API contract', () => {
  let app: Awaited<ReturnType<typeof startApi>>;

  beforeAll(async () => {
    app = await startApi('contract');
  });
  afterAll(async () => {
    await app.stop();
  });

  const concretePath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, 'x1');

  test('the OpenAPI 3.1 document is valid and lists every mounted route', async () => {
    const res = await request(app.url).get('/api/v1/openapi.json').expect(200);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
    expect(app.routes.length).toBeGreaterThan(0);
    for (const route of app.routes) {
      const oasPath = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      expect(doc.paths[oasPath]?.[route.method]).toBeDefined();
    }
  });

  test('the docs page and its assets are served without a key', async () => {
    const page = await request(app.url).get('/docs').expect(200);
    expect(page.text).toMatch(/\/api\/v1\/openapi\.json/);
    await request(app.url).get('/docs/assets/swagger-ui-bundle.js').expect(200);
  });

  test('every route answers 401 problem+json without a key and with an unknown key', async () => {
    for (const route of app.routes) {
      for (const headers of [
        {},
        { Authorization: 'Bearer not-a-key' },
        { Authorization: 'Basic abc' },
      ]) {
        const res = await request(app.url)[route.method](concretePath(route.path)).set(headers);
        expect({ route: route.operationId, status: res.status }).toEqual({
          route: route.operationId,
          status: 401,
        });
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(res.body).toMatchObject({ code: 'unauthenticated', status: 401 });
      }
    }
  });

  test('every route answers 403 to a valid key that lacks its role', async () => {
    let checked = 0;
    for (const route of app.routes) {
      for (const [role, headers] of [
        ['erp', ERP],
        ['operator', OPERATOR],
      ] as const) {
        if (route.roles.includes(role)) continue;
        const res = await request(app.url)[route.method](concretePath(route.path)).set(headers);
        expect({ route: route.operationId, status: res.status }).toEqual({
          route: route.operationId,
          status: 403,
        });
        expect(res.body).toMatchObject({ code: 'forbidden' });
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  test('a demo key works outside production and says who it is', async () => {
    const res = await request(app.url).get('/api/v1/me').set(ERP).expect(200);
    expect(res.body).toEqual({ name: 'demo-erp', roles: ['erp'] });
  });

  test('the service catalogue lists the demo domains without secrets', async () => {
    const res = await request(app.url).get('/api/v1/domains').set(OPERATOR).expect(200);
    const text = JSON.stringify(res.body);
    expect(text).toMatch(/80000000001/);
    expect(text).not.toMatch(/PASSWORD|IT60X/);
  });
});

describe('API keys', () => {
  test('in production the demo keys do not exist', async () => {
    const app = await startApi('prodkeys', {
      NODE_ENV: 'production',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DOMAINS_FILE: 'fixtures/domains.demo.json',
    });
    try {
      await request(app.url).get('/api/v1/me').set(ERP).expect(401);
    } finally {
      await app.stop();
    }
  });

  test('a key configured by its SHA-256 in API_KEYS works with its roles', async () => {
    const { sha256Hex } = await import('../../src/shared/hash');
    const app = await startApi('envkeys', {
      API_KEYS: `erp-main:erp+operator:${sha256Hex('s3cret-key')}`,
    });
    try {
      const res = await request(app.url)
        .get('/ops/v1/api-keys')
        .set({ Authorization: 'Bearer s3cret-key' })
        .expect(200);
      expect(res.body).toEqual({ items: [] });
    } finally {
      await app.stop();
    }
  });

  test('keys create prints a key once; it works; keys revoke stops it at once', async () => {
    const app = await startApi('clikeys');
    const env = {
      DATABASE_URL:
        (await import('../helpers/db')).TEST_MARIADB_URL +
        '/' +
        (await app.db.raw('SELECT DATABASE() AS d'))[0][0].d,
    };
    try {
      const created = await waitForExit(
        spawnCli(['keys', 'create', '--name', 'erp-capannori', '--role', 'erp', '--json'], env),
      );
      expect(created.code).toBe(0);
      const { key } = JSON.parse(created.stdout) as { key: string };
      expect(key).toMatch(/^pak_[A-Za-z0-9_-]{43}$/);
      const stored = JSON.stringify(await app.db('api_keys').select());
      expect(stored).not.toContain(key);

      const me = await request(app.url)
        .get('/api/v1/me')
        .set({ Authorization: `Bearer ${key}` })
        .expect(200);
      expect(me.body).toEqual({ name: 'erp-capannori', roles: ['erp'] });
      await request(app.url)
        .get('/ops/v1/api-keys')
        .set({ Authorization: `Bearer ${key}` })
        .expect(403);

      const again = await waitForExit(
        spawnCli(['keys', 'create', '--name', 'erp-capannori', '--role', 'erp'], env),
      );
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already exists/);

      const listed = await request(app.url).get('/ops/v1/api-keys').set(OPERATOR).expect(200);
      expect(listed.body.items).toEqual([
        expect.objectContaining({ name: 'erp-capannori', roles: ['erp'], revokedAt: null }),
      ]);

      const revoked = await waitForExit(
        spawnCli(['keys', 'revoke', '--name', 'erp-capannori'], env),
      );
      expect(revoked.code).toBe(0);
      await request(app.url)
        .get('/api/v1/me')
        .set({ Authorization: `Bearer ${key}` })
        .expect(401);
    } finally {
      await app.stop();
    }
  });
});
