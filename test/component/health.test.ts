import request from 'supertest';
import { uniqueDatabaseUrl } from '../helpers/db';
import { TcpProxy } from '../helpers/tcp-proxy';
import { eventually, startTestService, testConfig } from '../helpers/service';
import { createDb, type Db } from '../../src/data-access/db';

/**
 * Readiness against the real MariaDB and Redis, reached through proxies this test can cut:
 * an outage must read as 503 naming the dependency within 5 s, and heal without a restart.
 */
describe('health and metrics', () => {
  const mariadbProxy = new TcpProxy('127.0.0.1', 3306);
  const redisProxy = new TcpProxy('127.0.0.1', 6379);
  let service: Awaited<ReturnType<typeof startTestService>>;
  let api: string;
  let dbUrl: string;

  beforeAll(async () => {
    await mariadbProxy.start();
    await redisProxy.start();
    dbUrl = uniqueDatabaseUrl('health').replace(':3306/', `:${mariadbProxy.port}/`);
    service = await startTestService(
      testConfig({
        DATABASE_URL: dbUrl,
        REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
        HEALTH_CHECK_TIMEOUT_MS: '1000',
      }),
      'api',
    );
    api = `http://127.0.0.1:${service.ports.api}`;
  });

  afterAll(async () => {
    await mariadbProxy.restore().catch(() => undefined);
    await redisProxy.restore().catch(() => undefined);
    await service.db?.raw(`DROP DATABASE IF EXISTS \`${new URL(dbUrl).pathname.slice(1)}\``);
    await service.stop();
    await mariadbProxy.cut();
    await redisProxy.cut();
  });

  test('at start the database exists with its migration table, and the service is ready', async () => {
    const res = await request(api).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      checks: { mariadb: { status: 'ok' }, redis: { status: 'ok' } },
    });
    const [rows] = (await (service.db as Db).raw(
      "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'knex_migrations'",
    )) as [{ n: number }[]];
    expect(Number(rows[0]?.n)).toBe(1);
  });

  test('liveness does not depend on anything', async () => {
    await request(api).get('/health/live').expect(200, { status: 'ok' });
  });

  test('when Redis goes away, readiness is 503 naming Redis within 5 s, and 200 again when it is back', async () => {
    await redisProxy.cut();
    const started = Date.now();
    let body: { checks?: Record<string, { status: string }> } = {};
    const down = await eventually(async () => {
      const res = await request(api).get('/health/ready');
      body = res.body as typeof body;
      return res.status === 503 && body.checks?.['redis']?.status === 'down';
    }, 5_000);
    expect(down).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(body.checks?.['mariadb']?.status).toBe('ok');

    await redisProxy.restore();
    expect(
      await eventually(
        async () => (await request(api).get('/health/ready')).status === 200,
        10_000,
      ),
    ).toBe(true);
  });

  test('when MariaDB goes away, readiness is 503 naming MariaDB within 5 s, and 200 again when it is back', async () => {
    await mariadbProxy.cut();
    const started = Date.now();
    let body: { checks?: Record<string, { status: string }> } = {};
    const down = await eventually(async () => {
      const res = await request(api).get('/health/ready');
      body = res.body as typeof body;
      return res.status === 503 && body.checks?.['mariadb']?.status === 'down';
    }, 5_000);
    expect(down).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(body.checks?.['redis']?.status).toBe('ok');

    await mariadbProxy.restore();
    expect(
      await eventually(
        async () => (await request(api).get('/health/ready')).status === 200,
        10_000,
      ),
    ).toBe(true);
  });

  test('metrics expose default process metrics and a request histogram by route and status', async () => {
    await request(api).get('/health/live').expect(200);
    await request(api).get('/no/such/route').expect(404);
    const res = await request(api).get('/metrics').expect(200);
    expect(res.text).toMatch(/process_resident_memory_bytes/);
    expect(res.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/health\/live",status_code="200",server="api"\}/,
    );
    expect(res.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404",server="api"\}/,
    );
  });

  test('an unknown route is a problem+json 404 carrying the request id it was given', async () => {
    const res = await request(api).get('/nowhere').set('x-request-id', 'req-42');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.headers['x-request-id']).toBe('req-42');
    expect(res.body).toMatchObject({ status: 404, code: 'not-found', requestId: 'req-42' });
  });

  test('a request id that is not a plain token is replaced, not echoed', async () => {
    const res = await request(api).get('/health/live').set('x-request-id', 'bad id\twith spaces');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('a body over the limit is refused with 413 before anything else', async () => {
    const small = await startTestService(
      testConfig({
        DATABASE_URL: dbUrl.replace(`:${mariadbProxy.port}/`, ':3306/'),
        HTTP_BODY_LIMIT_BYTES: '100',
      }),
      'api',
    );
    try {
      const res = await request(`http://127.0.0.1:${small.ports.api}`)
        .post('/anything')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ filler: 'x'.repeat(500) }));
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ code: 'payload-too-large' });
    } finally {
      await small.stop();
    }
  });
});

describe('database creation', () => {
  test('the service creates a missing database and applies the migrations', async () => {
    const url = uniqueDatabaseUrl('create');
    const service = await startTestService(testConfig({ DATABASE_URL: url }), 'api');
    const db = createDb({ url, poolMax: 1 });
    try {
      const rows = await db<{ name: string }>('knex_migrations').select('name');
      expect(rows.map((r) => r.name)).toContain('20261123_0001_audit_events');
    } finally {
      await db.raw(`DROP DATABASE IF EXISTS \`${new URL(url).pathname.slice(1)}\``);
      await db.destroy();
      await service.stop();
    }
  });
});

describe('processes without the API', () => {
  test.each(['worker', 'soap'] as const)(
    'the %s role answers health and metrics on HTTP_PORT, and no API route',
    async (role) => {
      const url = uniqueDatabaseUrl(`internal_${role}`);
      const service = await startTestService(
        testConfig({ DATABASE_URL: url, QUEUE_PREFIX: `t-internal-${role}-${process.pid}` }),
        role,
      );
      const internal = `http://127.0.0.1:${service.ports.internal ?? 0}`;
      try {
        expect(service.ports.api).toBeUndefined();
        expect((await request(internal).get('/health/live')).status).toBe(200);
        const ready = await request(internal).get('/health/ready');
        expect(ready.status).toBe(200);
        const metrics = await request(internal).get('/metrics');
        expect(metrics.text).toMatch(/^process_cpu_user_seconds_total /m);
        expect((await request(internal).get('/api/v1/cards/x')).status).toBe(404);
      } finally {
        await service.stop();
        const db = createDb({ url: url.replace(/\/[^/]+$/, '/'), poolMax: 1 });
        await db.raw(`DROP DATABASE IF EXISTS \`${new URL(url).pathname.slice(1)}\``);
        await db.destroy();
      }
    },
  );
});
