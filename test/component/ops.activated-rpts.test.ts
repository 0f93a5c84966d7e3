import { randomUUID } from 'node:crypto';
import nock from 'nock';
import request from 'supertest';
import { sendActivatedOnce } from '../../src/entry-points/worker/activated-rpt-sender';
import { OPERATOR } from '../helpers/api';
import { spawnCli, waitForExit } from '../helpers/service';
import {
  DOMAIN,
  nodeAnswer,
  startActivationWorld,
  type ActivationWorld,
} from './activated-rpt.fixtures';
import { auditOf } from './ops.fixtures';

/**
 * Operators see and re-send FAILED activated RPTs (old model 3) through the ops API and the CLI,
 * without SQL. The FAILED rows are made the real way: paaAttivaRPT on the adapter's SOAP door, then
 * a send run against a node (nock) that refuses with PPT_SEMANTICA. The service runs the api and
 * soap roles and no worker, so the only sender is the run the test calls: a re-armed row stays
 * PENDING until the test sends it.
 */

type SendRow = {
  id: number;
  state: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
};
type Item = { id: number; state: string; attempts: number; lastError: string | null };

describe('ops: activated RPTs (list, resend) through the ops API and the CLI', () => {
  let world: ActivationWorld;
  let database: ActivationWorld['database'];
  let apiUrl: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => waitForExit(spawnCli(args, env));

  /** One send run; the node answers each nodoInviaRPT with the next of `answers`. */
  const sendRun = async (answers: ReturnType<typeof nodeAnswer>[]) => {
    let scope = nock('http://node.test');
    for (const a of answers) scope = scope.post(/.*/).reply(a.status, a.body);
    const result = await sendActivatedOnce({
      db: database.db,
      logger: world.logger,
      domains: world.domains,
      senders: world.senders,
    });
    expect(scope.isDone()).toBe(true);
    return result;
  };
  const rowOf = async (id: number) =>
    (await database
      .db('activated_rpt_sends')
      .where({ id })
      .first('id', 'state', 'attempts', 'last_error', 'next_attempt_at')) as SendRow;

  /** An activation through the SOAP door whose RPT the node refuses: FAILED. */
  const givenFailed = async (): Promise<number> => {
    const iuv = await world.newPosition(2_000);
    const ccp = randomUUID().replace(/-/g, '');
    expect(await world.activate(iuv, ccp, '20.00')).toMatchObject({ outcome: 'OK' });
    expect(await sendRun([nodeAnswer('PPT_SEMANTICA')])).toMatchObject({ claimed: 1, failed: 1 });
    const row = (await database.db('activated_rpt_sends').where({ ccp }).first('id')) as {
      id: number;
    };
    expect(await rowOf(row.id)).toMatchObject({ state: 'FAILED', attempts: 1 });
    return Number(row.id);
  };

  beforeAll(async () => {
    world = await startActivationWorld('ops_arpt', { LOG_LEVEL: 'silent' });
    ({ database, apiUrl } = world);
    env = world.serviceEnv;
  });

  afterEach(() => {
    nock.cleanAll();
  });

  afterAll(async () => {
    await world.stop();
  });

  test('the API lists sends by state with the route and last error, paged', async () => {
    const first = await givenFailed();
    const second = await givenFailed();
    const res = await request(apiUrl)
      .get('/ops/v1/activated-rpts')
      .query({ state: 'FAILED', limit: 1 })
      .set(OPERATOR);
    expect(res.status).toBe(200);
    const body = res.body as { items: Item[]; nextCursor: string | null };
    expect(body.items).toEqual([
      expect.objectContaining({
        id: second,
        state: 'FAILED',
        domain: DOMAIN,
        attempts: 1,
        psp: { pspId: 'BCITITMM', pspBrokerId: '00799960158', channelId: '00799960158_01' },
        lastError: expect.stringMatching(/PPT_SEMANTICA/) as unknown,
        paymentId: expect.any(String) as unknown,
        ccp: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown,
        activatedAt: expect.any(String) as unknown,
      }),
    ]);
    expect(body.nextCursor).not.toBeNull();
    const next = await request(apiUrl)
      .get('/ops/v1/activated-rpts')
      .query({ state: 'FAILED', limit: 1, cursor: body.nextCursor })
      .set(OPERATOR);
    expect((next.body as { items: Item[] }).items.map((i) => i.id)).toEqual([first]);
    const pending = await request(apiUrl)
      .get('/ops/v1/activated-rpts')
      .query({ state: 'PENDING' })
      .set(OPERATOR);
    expect((pending.body as { items: Item[] }).items.map((i) => i.id)).not.toContain(first);
    const tooMany = await request(apiUrl)
      .get('/ops/v1/activated-rpts')
      .query({ limit: 100_000 })
      .set(OPERATOR);
    expect(tooMany.status).toBe(400);
  });

  test('API resend: a dry run changes nothing; execute re-arms, audits, and the next run sends it', async () => {
    const id = await givenFailed();
    const before = await rowOf(id);
    const dry = await request(apiUrl)
      .post('/ops/v1/activated-rpts/resend')
      .set(OPERATOR)
      .send({ ids: [id], reason: 'node fixed the station' });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ executed: false, items: [{ id, state: 'FAILED' }] });
    expect(await rowOf(id)).toEqual(before);
    expect(await auditOf(database.db, 'activated_rpt_send', String(id))).toEqual([]);

    const done = await request(apiUrl)
      .post('/ops/v1/activated-rpts/resend')
      .set(OPERATOR)
      .send({ ids: [id], reason: 'node fixed the station', execute: true });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ executed: true, items: [{ id, state: 'FAILED' }] });
    const rearmed = await rowOf(id);
    expect(rearmed).toMatchObject({ state: 'PENDING', attempts: 0, last_error: null });
    expect(rearmed.next_attempt_at.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await auditOf(database.db, 'activated_rpt_send', String(id))).toEqual([
      {
        actor: 'api:demo-operator',
        action: 'activated-rpt.resend',
        reason: 'node fixed the station',
      },
    ]);
    const [line] = (await database
      .db('audit_events')
      .where({ subject_type: 'activated_rpt_send', subject_id: String(id) })
      .select('before_state', 'after_state')) as { before_state: unknown; after_state: unknown }[];
    const parse = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);
    expect(parse(line!.before_state)).toMatchObject({ state: 'FAILED', attempts: 1 });
    expect(parse(line!.after_state)).toMatchObject({ state: 'PENDING', attempts: 0 });

    expect(await sendRun([nodeAnswer()])).toMatchObject({ claimed: 1, sent: 1 });
    expect(await rowOf(id)).toMatchObject({ state: 'SENT', attempts: 1 });
  });

  test('API resend: an unknown id, a SENT one without force or a PENDING one is refused and nothing changes; force re-sends a SENT one', async () => {
    const failed = await givenFailed();
    const sent = await givenFailed();
    await request(apiUrl)
      .post('/ops/v1/activated-rpts/resend')
      .set(OPERATOR)
      .send({ ids: [sent], reason: 'r', execute: true })
      .expect(200);
    await sendRun([nodeAnswer()]);
    expect(await rowOf(sent)).toMatchObject({ state: 'SENT' });
    const failedBefore = await rowOf(failed);
    const sentBefore = await rowOf(sent);

    const resend = (body: Record<string, unknown>) =>
      request(apiUrl)
        .post('/ops/v1/activated-rpts/resend')
        .set(OPERATOR)
        .send({ reason: 'try', execute: true, ...body });
    const unknown = await resend({ ids: [failed, 999_999_999] });
    expect(unknown.status).toBe(404);
    expect((unknown.body as { detail: string }).detail).toMatch(/999999999/);
    const notForced = await resend({ ids: [failed, sent] });
    expect(notForced.status).toBe(409);
    expect((notForced.body as { detail: string }).detail).toMatch(/SENT/);
    expect(await rowOf(failed)).toEqual(failedBefore);
    expect(await rowOf(sent)).toEqual(sentBefore);
    expect((await resend({ ids: [] })).status).toBe(400);
    expect((await resend({ ids: [failed], reason: '' })).status).toBe(400);
    expect(await auditOf(database.db, 'activated_rpt_send', String(failed))).toEqual([]);

    const forced = await resend({ ids: [sent], force: true });
    expect(forced.status).toBe(200);
    expect(await rowOf(sent)).toMatchObject({ state: 'PENDING', attempts: 0 });
    const pending = await resend({ ids: [sent], force: true });
    expect(pending.status).toBe(409);
    expect((pending.body as { detail: string }).detail).toMatch(/PENDING/);
    await sendRun([nodeAnswer('PPT_RPT_DUPLICATA')]);
    expect(await rowOf(sent)).toMatchObject({ state: 'SENT' });
  });

  test('CLI: rpts list and rpts resend (dry run, --execute needs --reason, audited), exit 1 for unknown or wrong state, 3 with MariaDB down', async () => {
    const id = await givenFailed();
    const listed = await cli('rpts', 'list', '--state', 'FAILED', '--json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { items: Item[] }).items).toContainEqual(
      expect.objectContaining({ id, state: 'FAILED', attempts: 1 }),
    );
    const tableOut = await cli('rpts', 'list', '--state', 'FAILED');
    expect(tableOut.code).toBe(0);
    expect(tableOut.stdout).toMatch(new RegExp(`^${id}\\s+FAILED\\s+${DOMAIN}\\s`, 'm'));
    expect((await cli('rpts', 'list', '--state', 'LOST')).code).toBe(1);

    const before = await rowOf(id);
    const dry = await cli('rpts', 'resend', String(id));
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/dry run: 1 send\(s\) would be re-sent/);
    const noReason = await cli('rpts', 'resend', String(id), '--execute');
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toMatch(/--reason/);
    const unknown = await cli(
      'rpts',
      'resend',
      String(id),
      '999999999',
      '--execute',
      '--reason',
      'x',
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not-found: no activated RPT 999999999/);
    expect((await cli('rpts', 'resend', 'abc')).code).toBe(1);
    const down = await waitForExit(
      spawnCli(['rpts', 'resend', String(id), '--execute', '--reason', 'x'], {
        ...env,
        DATABASE_URL: 'mysql://root@127.0.0.1:1/none',
      }),
    );
    expect(down.code).toBe(3);
    expect(await rowOf(id)).toEqual(before);
    expect(await auditOf(database.db, 'activated_rpt_send', String(id))).toEqual([]);

    const done = await cli(
      'rpts',
      'resend',
      String(id),
      '--execute',
      '--reason',
      'PSP asked',
      '--json',
    );
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({
      executed: true,
      items: [{ id, state: 'FAILED' }],
    });
    expect(await rowOf(id)).toMatchObject({ state: 'PENDING', attempts: 0 });
    expect(await auditOf(database.db, 'activated_rpt_send', String(id))).toEqual([
      {
        actor: expect.stringMatching(/^cli/) as unknown,
        action: 'activated-rpt.resend',
        reason: 'PSP asked',
      },
    ]);
    const again = await cli('rpts', 'resend', String(id), '--execute', '--reason', 'twice');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/conflict: .*PENDING/);
    await sendRun([nodeAnswer()]);
    expect(await rowOf(id)).toMatchObject({ state: 'SENT' });
  });

  test('console: the Activated RPTs page lists FAILED ones with a Re-send form; it needs a reason, re-arms and audits', async () => {
    const id = await givenFailed();
    const login = await request(apiUrl)
      .post('/ops/login')
      .type('form')
      .send({ key: 'dev-operator-key' });
    expect(login.status).toBe(303);
    const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
    expect((await request(apiUrl).get('/ops/activated-rpts')).status).toBe(303);
    const listed = await request(apiUrl).get('/ops/activated-rpts').set('Cookie', cookie);
    expect(listed.status).toBe(200);
    expect(listed.text).toContain(`action="/ops/activated-rpts/${id}/resend"`);
    expect(listed.text).toMatch(/PPT_SEMANTICA/);
    const token = /name="_csrf" value="([^"]+)"/.exec(listed.text)?.[1] ?? '';
    const post = (reason: string) =>
      request(apiUrl)
        .post(`/ops/activated-rpts/${id}/resend`)
        .set('Cookie', cookie)
        .type('form')
        .send({ _csrf: token, reason });

    const before = await rowOf(id);
    expect((await post(' ')).status).toBe(303);
    const refused = await request(apiUrl).get('/ops/activated-rpts').set('Cookie', cookie);
    expect(refused.text).toMatch(/A reason \(1 to \d+ characters\) is required/);
    expect(await rowOf(id)).toEqual(before);

    expect((await post('station password fixed')).status).toBe(303);
    const after = await request(apiUrl)
      .get('/ops/activated-rpts')
      .query({ state: 'PENDING' })
      .set('Cookie', cookie);
    expect(after.text).toContain(`Activated RPT ${id} re-armed`);
    expect(await rowOf(id)).toMatchObject({ state: 'PENDING', attempts: 0 });
    expect(await auditOf(database.db, 'activated_rpt_send', String(id))).toEqual([
      {
        actor: 'console:demo-operator',
        action: 'activated-rpt.resend',
        reason: 'station password fixed',
      },
    ]);
    // Already PENDING: refused with the reason, nothing written.
    await post('again');
    const again = await request(apiUrl).get('/ops/activated-rpts').set('Cookie', cookie);
    expect(again.text).toMatch(/conflict: activated RPT \d+ is PENDING/);
    expect(await auditOf(database.db, 'activated_rpt_send', String(id))).toHaveLength(1);
    await sendRun([nodeAnswer()]);
  });
});
