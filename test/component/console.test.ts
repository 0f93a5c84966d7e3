import request from 'supertest';
import { Queue } from 'bullmq';
import { QUEUES } from '../../src/adapters/queues';
import { createTestDatabase } from '../helpers/db';
import { eventually, startTestService, testConfig } from '../helpers/service';
import { OPERATOR } from '../helpers/api';
import { givenCards, iuvFor, type GivenCard } from '../chaos/world';
import {
  auditOf,
  balanceOf,
  givenFailedTopUpReceipt,
  givenQuarantinedReceipt,
  stateOf,
} from './ops.fixtures';

/**
 * The web console at /ops/ through HTTP, as a browser without JavaScript would use it: login
 * with the operator key, a server-side session cookie, CSRF tokens on every form, the inventory,
 * one receipt, replay and quarantine actions, the audit page and the bull-board dashboard.
 */

const QUEUE_PREFIX = `t-console-${process.pid}`;
const RUN = (process.pid % 90_000) + 10_000;

describe('operations console', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let api: string;
  let card: GivenCard;
  let seq = 0;
  const nextIuv = (): string => iuvFor(RUN + 2, ++seq);

  beforeAll(async () => {
    database = await createTestDatabase('console');
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        QUEUE_PREFIX,
        RECONCILE_BACKOFF_BASE_MS: '50',
      }),
      'all',
    );
    api = `http://127.0.0.1:${service.ports.api}`;
    [card] = (await givenCards(database.db, 1, `cs${RUN}`)) as [GivenCard];
  });

  afterAll(async () => {
    await service.stop();
    const queue = new Queue(QUEUES.reconcile, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: QUEUE_PREFIX,
    });
    await queue.obliterate({ force: true });
    await queue.close();
    await database.drop();
  });

  async function login(): Promise<{ cookie: string; csrf: (path: string) => Promise<string> }> {
    const res = await request(api)
      .post('/ops/login')
      .type('form')
      .send({ key: 'dev-operator-key' });
    expect(res.status).toBe(303);
    const setCookie = String(res.headers['set-cookie']);
    const cookie = setCookie.split(';')[0] ?? '';
    return {
      cookie,
      csrf: async (path) => {
        const page = await request(api).get(path).set('Cookie', cookie);
        const match = /name="_csrf" value="([^"]+)"/.exec(page.text);
        if (match?.[1] === undefined) throw new Error(`no CSRF token on ${path}`);
        return match[1];
      },
    };
  }

  test('login: pages need a session; a wrong or non-operator key is refused; the cookie holds no key', async () => {
    const anonymous = await request(api).get('/ops/receipts');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers['location']).toBe('/ops/login');
    expect((await request(api).post('/ops/login').type('form').send({ key: 'nope' })).status).toBe(
      401,
    );
    expect(
      (await request(api).post('/ops/login').type('form').send({ key: 'dev-erp-key' })).status,
    ).toBe(403);

    const res = await request(api)
      .post('/ops/login')
      .type('form')
      .send({ key: 'dev-operator-key' });
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^ops_session=[A-Za-z0-9_-]{43}; Path=\/ops; HttpOnly; SameSite=Strict/,
    );
    expect(setCookie).not.toContain('dev-operator-key');
    const cookie = setCookie.split(';')[0] ?? '';
    const page = await request(api).get('/ops/receipts').set('Cookie', cookie);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");

    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    await request(api)
      .post('/ops/logout')
      .set('Cookie', cookie)
      .type('form')
      .send({ _csrf: token });
    expect((await request(api).get('/ops/receipts').set('Cookie', cookie)).status).toBe(303);
  });

  test('the ops API under /ops/v1 is not shadowed by the console', async () => {
    const res = await request(api).get('/ops/v1/receipts').set(OPERATOR);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/json/);
  });

  test('inventory and inspect: filters FAILED receipts, escapes what it shows, shows history and XML', async () => {
    const id = await givenFailedTopUpReceipt(database.db, {
      iuv: nextIuv(),
      cardId: card.cardId,
      account: 'CANTEEN',
      amountCents: 321,
      reason: 'internal: <script>alert(1)</script>',
    });
    const { cookie } = await login();
    const list = await request(api)
      .get('/ops/receipts')
      .query({ state: 'FAILED' })
      .set('Cookie', cookie);
    expect(list.text).toContain(`href="/ops/receipts/${id}"`);
    expect(list.text).not.toContain('<script>alert(1)</script>');
    expect(list.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(list.text).toMatch(/FAILED \(\d+\)/);

    const shown = await request(api).get(`/ops/receipts/${id}`).set('Cookie', cookie);
    expect(shown.status).toBe(200);
    expect(shown.text).toContain('id="history"');
    expect(shown.text).toMatch(/<pre id="raw-xml">&lt;/);
    expect((await request(api).get('/ops/receipts/999999999').set('Cookie', cookie)).status).toBe(
      404,
    );
  });

  test('replay from the console: refused without the CSRF token, then RECONCILED, credited once and audited as console:<key>', async () => {
    const id = await givenFailedTopUpReceipt(database.db, {
      iuv: nextIuv(),
      cardId: card.cardId,
      account: 'CANTEEN',
      amountCents: 950,
      reason: 'dependency-down: console',
    });
    const before = await balanceOf(database.db, card.accounts.CANTEEN);
    const { cookie, csrf } = await login();
    const noToken = await request(api)
      .post(`/ops/receipts/${id}/replay`)
      .set('Cookie', cookie)
      .type('form')
      .send({ reason: 'x', execute: 'true' });
    expect(noToken.status).toBe(403);
    const token = await csrf(`/ops/receipts/${id}`);
    const noReason = await request(api)
      .post(`/ops/receipts/${id}/replay`)
      .set('Cookie', cookie)
      .type('form')
      .send({ _csrf: token, reason: ' ', execute: 'true' });
    expect(noReason.status).toBe(303);
    expect(await stateOf(database.db, id)).toBe('FAILED');

    const done = await request(api)
      .post(`/ops/receipts/${id}/replay`)
      .set('Cookie', cookie)
      .type('form')
      .send({ _csrf: token, reason: 'db back', execute: 'true' });
    expect(done.status).toBe(303);
    expect(done.headers['location']).toBe(`/ops/receipts/${id}`);
    const flashed = await request(api).get(`/ops/receipts/${id}`).set('Cookie', cookie);
    expect(flashed.text).toMatch(/Replay: replayed/);
    expect(
      await eventually(async () => (await stateOf(database.db, id)) === 'RECONCILED', 15_000),
    ).toBe(true);
    expect(await balanceOf(database.db, card.accounts.CANTEEN)).toBe(before + 950);
    expect(await auditOf(database.db, 'receipt', String(id))).toEqual([
      { actor: 'console:demo-operator', action: 'receipt.replay', reason: 'db back' },
    ]);
    const audit = await request(api).get('/ops/audit').set('Cookie', cookie);
    expect(audit.text).toContain(`receipt ${id}`);
  });

  test('quarantine from the console: attach to a card as a top-up, release, reconciled and credited', async () => {
    const iuv = nextIuv();
    const id = await givenQuarantinedReceipt(database.db, { iuv, amountCents: 410 });
    const { cookie, csrf } = await login();
    const token = await csrf(`/ops/receipts/${id}`);
    const attached = await request(api)
      .post(`/ops/receipts/${id}/attach`)
      .set('Cookie', cookie)
      .type('form')
      .send({
        _csrf: token,
        cardCode: `cs${RUN}C0`,
        account: 'NURSERY_MEALS',
        reason: 'top-up on a foreign notice',
      });
    expect(attached.status).toBe(303);
    const page = await request(api).get(`/ops/receipts/${id}`).set('Cookie', cookie);
    expect(page.text).toMatch(/Attached to position QUARANTINE-\d+/);
    const before = await balanceOf(database.db, card.accounts.NURSERY_MEALS);
    await request(api)
      .post(`/ops/receipts/${id}/release`)
      .set('Cookie', cookie)
      .type('form')
      .send({ _csrf: token, reason: 'attached' });
    expect(
      await eventually(async () => (await stateOf(database.db, id)) === 'RECONCILED', 15_000),
    ).toBe(true);
    expect(await balanceOf(database.db, card.accounts.NURSERY_MEALS)).toBe(before + 410);
  });

  test('jobs, webhooks, awaiting, audit CSV and the bull-board dashboard need the login', async () => {
    const { cookie } = await login();
    for (const path of ['/ops/jobs', '/ops/webhooks', '/ops/awaiting', '/ops/audit']) {
      const res = await request(api).get(path).set('Cookie', cookie);
      expect([path, res.status]).toEqual([path, 200]);
    }
    const csv = await request(api).get('/ops/audit.csv').set('Cookie', cookie);
    expect(csv.text.split('\r\n')[0]).toBe(
      'id,occurred_at,actor,action,subject_type,subject_id,reason,before,after',
    );
    expect((await request(api).get('/ops/queues')).status).toBe(303);
    const board = await request(api).get('/ops/queues').set('Cookie', cookie);
    expect(board.status).toBe(200);
    expect(board.text).toMatch(/bull-board|Bull Dashboard/i);
    const queues = await request(api).get('/ops/queues/api/queues').set('Cookie', cookie);
    expect(queues.status).toBe(200);
    expect(JSON.stringify(queues.body)).toContain(QUEUES.reconcile);
  });
});
