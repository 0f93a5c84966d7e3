import fs from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { Registry } from 'prom-client';
import type { NodeClientSettings } from '../../src/adapters/node-client';
import {
  buildPaSendRtRequest,
  parsePaSendRtRequest,
  receiptIdentity,
  type Receipt,
} from '../../src/adapters/pagopa/pa-for-node';
import { receiptsRepository } from '../../src/data-access/receipts-repository';
import type { AcceptReceiptDeps } from '../../src/domain/receipts/accept-receipt';
import type { ReceiptBusinessKey } from '../../src/domain/receipts/types';
import type { ReceiptSource } from '../../src/domain/recovery/receipt-source';
import {
  receiptSources,
  recoverOnce,
  type RecoverySchedulerDeps,
} from '../../src/entry-points/worker/recovery-scheduler';
import { parseDomainsConfig } from '../../src/shared/domains-config';
import { contentHash } from '../../src/shared/hash';
import { createLogger } from '../../src/shared/logger';
import { DOMAIN, givenPositions, iuvFor } from '../chaos/world';
import { createTestDatabase } from '../helpers/db';
import { REPO_ROOT } from '../helpers/service';

/**
 * Missing-receipt recovery for the new model (`pagopa` dialect): the real node client asks
 * pagoPA's biz-events (mocked by nock with real JSON: a BizEvent and a CtReceiptModelResponse)
 * for the receipt id of the IUV, then for the receipt, and the copy enters the real MariaDB inbox
 * as a pushed paSendRT would.
 */

const HELPDESK = 'http://bizevents.test/bizevents/helpdesk/v1';
const SERVICE = 'http://bizevents.test/bizevents/service/v1';
const KEY_ENV = 'BORGO_VERDE_SUBSCRIPTION_KEY';
const KEY = 'sub-key-borgo-verde-0001';
const TEN_MINUTES_MS = 600_000;
/** The IUV the fixtures were written with; replaced by each test's own. */
const FIXTURE_IUV = '02000000000012345';
const FIXTURE_IUR = '9b2e4c1d7a6f4e0b8c3d2a1f0e9d8c7b';

const fixture = (name: string, iuv: string): string =>
  fs
    .readFileSync(path.join(REPO_ROOT, 'fixtures', 'node', name), 'utf8')
    .replaceAll(FIXTURE_IUV, iuv);

const domains = parseDomainsConfig(
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'domains.demo.json'), 'utf8')),
  'demo',
);

const settings: NodeClientSettings = {
  nodeBaseUrl: undefined,
  checkoutBaseUrl: undefined,
  nodeRestBaseUrl: SERVICE,
  nodeRestHelpdeskBaseUrl: HELPDESK,
  mypayBaseUrl: undefined,
  nodeTimeoutMs: 2_000,
  nodeRetryAttemptsMax: 2,
  nodeRetryBackoffBaseMs: 1,
  nodeCircuitFailuresMax: 4,
  nodeCircuitOpenMs: 60_000,
  nodeTls: {},
};

describe('missing-receipt recovery (new model, biz-events)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let scheduled: ReceiptBusinessKey[];
  let intake: AcceptReceiptDeps;
  let seq = 0;
  const nextIuv = () => iuvFor(process.pid, 500 + ++seq);

  const deps = (extra: Partial<RecoverySchedulerDeps> = {}): RecoverySchedulerDeps => ({
    db: database.db,
    logger: createLogger('silent'),
    domains,
    intake,
    nodeBaseUrl: undefined,
    nodeTimeoutMs: 2_000,
    client: { settings, registry: new Registry() },
    delayMs: TEN_MINUTES_MS,
    intervalMs: 60_000,
    ...extra,
  });
  const overdue = (iuv: string, cents = 1800) =>
    givenPositions(database.db, [
      { kind: 'TOP_UP', iuv, transfersCents: [cents], attemptAgeMs: TEN_MINUTES_MS + 60_000 },
    ]);
  const helpdesk = () =>
    nock('http://bizevents.test', { reqheaders: { 'ocp-apim-subscription-key': KEY } });
  const byIuv = (iuv: string) =>
    `/bizevents/helpdesk/v1/events/organizations/${DOMAIN}/iuvs/${iuv}`;
  const byIur = `/bizevents/service/v1/organizations/${DOMAIN}/receipts/${FIXTURE_IUR}`;

  beforeAll(async () => {
    database = await createTestDatabase('worker_recovery_pagopa');
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    process.env[KEY_ENV] = KEY;
  });

  beforeEach(() => {
    nock.cleanAll();
    scheduled = [];
    intake = {
      inbox: receiptsRepository(database.db),
      scheduleReconcile: (_id, key) => {
        scheduled.push(key);
        return Promise.resolve();
      },
      scheduleTimeoutMs: 500,
      hash: contentHash,
      log: { warn: () => undefined, info: () => undefined },
    };
  });

  afterAll(async () => {
    delete process.env[KEY_ENV];
    nock.cleanAll();
    nock.enableNetConnect();
    await database.drop();
  });

  test('an overdue attempt is found by IUV, its receipt read by IUR, and it enters the inbox with the hash of the pushed paSendRTV2', async () => {
    const iuv = nextIuv();
    const fresh = nextIuv();
    await overdue(iuv);
    await givenPositions(database.db, [
      { kind: 'TOP_UP', iuv: fresh, transfersCents: [900], attemptAgeMs: 60_000 },
    ]);
    const model = fixture('bizevents-receipt.model.json', iuv);
    const upstream = helpdesk()
      .get(byIuv(iuv))
      .reply(200, fixture('bizevents-event.ok.json', iuv), { 'content-type': 'application/json' })
      .get(byIur)
      .reply(200, model, { 'content-type': 'application/json' });

    const result = await recoverOnce(deps());

    expect(result).toMatchObject({ asked: 1, recovered: 1, notYet: 0, unsupported: 0, errors: 0 });
    expect(upstream.isDone()).toBe(true);
    const stored = (await database.db('receipts').where({ iuv }).first()) as Record<
      string,
      unknown
    >;
    expect(stored).toMatchObject({
      source: 'RECOVERY',
      state: 'RECEIVED',
      outcome: 'PAID',
      amount_cents: 1800,
      receipt_key: FIXTURE_IUR,
      notice_number: `3${iuv}`,
      raw_xml: model,
    });
    expect(stored['payment_option_id']).not.toBeNull();
    expect(scheduled).toEqual([{ domainId: DOMAIN, iuv, receiptKey: FIXTURE_IUR }]);
    expect(await database.db('receipts').where({ iuv: fresh })).toHaveLength(0);

    // What the node pushes for the same payment: V2 with paymentNote, a per-transfer companyName,
    // the time to the millisecond, the debtor spelt otherwise. Same identity, same hash.
    const parsed = (
      typeof stored['parsed'] === 'string' ? JSON.parse(stored['parsed']) : stored['parsed']
    ) as Receipt;
    const pushed: Receipt = {
      ...parsed,
      debtor: { ...parsed.debtor, fullName: 'Mario Rossi' },
      transfers: parsed.transfers.map((t) => ({ ...t, companyName: 'Comune di Borgo Verde' })),
      paymentNote: 'cart-0001',
      paymentDateTime: '2026-11-20T10:21:03.512',
    };
    const wire = parsePaSendRtRequest(
      buildPaSendRtRequest({
        version: 2,
        station: { domainId: DOMAIN, brokerId: '80000000099', stationId: '80000000099_01' },
        receipt: pushed,
      }),
    ).receipt;
    expect(contentHash(receiptIdentity(wire))).toBe(stored['payload_hash']);
    expect(contentHash(wire)).not.toBe(contentHash(parsed));
  });

  test('no biz-event for the IUV (404) is "not yet": nothing stored, asked again after the delay', async () => {
    const iuv = nextIuv();
    await overdue(iuv);
    const upstream = helpdesk()
      .get(byIuv(iuv))
      .reply(404, { title: 'Not Found', status: 404, detail: 'no event', code: 'BZ_404_004' });

    expect(await recoverOnce(deps())).toMatchObject({ asked: 1, notYet: 1, errors: 0 });
    expect(upstream.isDone()).toBe(true);
    expect(await database.db('receipts').where({ iuv })).toHaveLength(0);
    // Claimed for this delay: the next run does not ask again at once.
    expect(await recoverOnce(deps())).toMatchObject({ asked: 0 });
  });

  test('a 5xx is retried; a biz-events down for good opens the circuit and later runs ask nothing', async () => {
    const iuv = nextIuv();
    await overdue(iuv);
    const retried = helpdesk()
      .get(byIuv(iuv))
      .reply(503, { title: 'Service Unavailable', status: 503 })
      .get(byIuv(iuv))
      .reply(404, { title: 'Not Found', status: 404, code: 'BZ_404_004' });
    expect(await recoverOnce(deps())).toMatchObject({ asked: 1, notYet: 1, errors: 0 });
    expect(retried.isDone()).toBe(true);

    // Sources built once, as the scheduler does: the breaker outlives a run.
    const sources: ReadonlyMap<string, ReceiptSource> = receiptSources(deps());
    const down = [nextIuv(), nextIuv()];
    for (const d of down) await overdue(d);
    helpdesk()
      .get(/\/iuvs\//)
      .times(4)
      .reply(500, { title: 'boom', status: 500 });
    expect(await recoverOnce(deps({ sources }))).toMatchObject({ asked: 2, errors: 2 });
    expect(nock.pendingMocks()).toEqual([]);

    const later = nextIuv();
    await overdue(later);
    const never = helpdesk().get(byIuv(later)).reply(404, {});
    const run = await recoverOnce(deps({ sources }));
    expect(run).toMatchObject({ asked: 1, errors: 1 });
    expect(never.isDone()).toBe(false);
    await expect(sources.get(DOMAIN)!.findReceipt(attemptOf(later))).rejects.toMatchObject({
      code: 'dependency-down',
    });
  });

  test('an answer that is not JSON, or not a receipt, is an upstream-error', async () => {
    const iuv = nextIuv();
    const source = receiptSources(deps()).get(DOMAIN)!;
    // Not JSON: an unreadable answer is upstream trouble, read again once (2 attempts).
    helpdesk()
      .get(byIuv(iuv))
      .reply(200, fixture('bizevents-event.ok.json', iuv))
      .get(byIur)
      .times(2)
      .reply(200, '{"receiptId": "9b2e4c1d', { 'content-type': 'application/json' });
    await expect(source.findReceipt(attemptOf(iuv))).rejects.toMatchObject({
      code: 'upstream-error',
    });
    // JSON, but the amounts do not add up: refused like a paSendRT would be (PAA_SEMANTICA).
    const broken = JSON.parse(fixture('bizevents-receipt.model.json', iuv)) as {
      paymentAmount: number;
    };
    broken.paymentAmount = 19;
    helpdesk()
      .get(byIuv(iuv))
      .reply(200, fixture('bizevents-event.ok.json', iuv))
      .get(byIur)
      .reply(200, JSON.stringify(broken));
    await expect(source.findReceipt(attemptOf(iuv))).rejects.toMatchObject({
      code: 'upstream-error',
      message: expect.stringMatching(/paymentAmount 19\.00 != sum of transferAmount 18\.00/),
    });
    // Several biz-events for one IUV (BZ_422_003): a refusal, not retried, nothing guessed.
    helpdesk()
      .get(byIuv(iuv))
      .reply(422, { title: 'Unprocessable Entity', status: 422, code: 'BZ_422_003' });
    await expect(source.findReceipt(attemptOf(iuv))).rejects.toMatchObject({
      code: 'upstream-error',
      details: { status: 422, title: 'Unprocessable Entity' },
    });
    // A biz-event without a payment token cannot name the receipt.
    helpdesk().get(byIuv(iuv)).times(2).reply(200, { id: 'x', debtorPosition: { iuv } });
    await expect(source.findReceipt(attemptOf(iuv))).rejects.toMatchObject({
      code: 'upstream-error',
    });
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('without the biz-events configuration or the subscription key, pagopa attempts are unsupported', async () => {
    const iuv = nextIuv();
    await overdue(iuv);
    const noHelpdesk = { ...settings, nodeRestHelpdeskBaseUrl: undefined };
    expect(
      receiptSources(deps({ client: { settings: noHelpdesk, registry: new Registry() } })).size,
    ).toBe(0);
    delete process.env[KEY_ENV];
    try {
      expect(receiptSources(deps()).size).toBe(0);
      expect(await recoverOnce(deps())).toMatchObject({ asked: 0, unsupported: 1 });
    } finally {
      process.env[KEY_ENV] = KEY;
    }
  });
});

function attemptOf(iuv: string) {
  return { attemptId: 0, domainId: DOMAIN, iuv, noticeNumber: `3${iuv}`, ccp: null };
}
