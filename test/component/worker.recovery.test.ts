import fs from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import {
  buildNodoChiediCopiaRTResponse,
  buildNodoChiediStatoRPTResponse,
} from '../../src/adapters/pagopa/old-model-soap';
import { buildRt } from '../../src/adapters/pagopa/rpt-rt';
import { receiptsRepository } from '../../src/data-access/receipts-repository';
import { acceptReceipt, type AcceptReceiptDeps } from '../../src/domain/receipts/accept-receipt';
import type { ReceiptBusinessKey } from '../../src/domain/receipts/types';
import { recoverOnce } from '../../src/entry-points/worker/recovery-scheduler';
import { parseDomainsConfig } from '../../src/shared/domains-config';
import { contentHash } from '../../src/shared/hash';
import { createLogger } from '../../src/shared/logger';
import { DOMAIN, givenPositions, iuvFor, rtDocument } from '../chaos/world';
import { createTestDatabase } from '../helpers/db';
import { REPO_ROOT } from '../helpers/service';

/**
 * Missing-receipt recovery for the RT model, with the node mocked by nock behind the real
 * adapter (nodoChiediCopiaRT, nodoChiediStatoRPT) and the real MariaDB inbox.
 */

const NODE_URL = 'http://node.test/nodo/nodoPerPa';
const PASSWORD_ENV = 'BORGO_VERDE_STATION_PASSWORD';
const TEN_MINUTES_MS = 600_000;

const demo = JSON.parse(
  fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'domains.demo.json'), 'utf8'),
) as { domains: { fiscalCode: string; dialect: string }[] };
// The demo domain speaks the RT model here.
const domains = parseDomainsConfig(
  {
    ...demo,
    domains: demo.domains.map((d) => (d.fiscalCode === DOMAIN ? { ...d, dialect: 'rpt' } : d)),
  },
  'test',
);

describe('missing-receipt recovery (RT model)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let scheduled: ReceiptBusinessKey[];
  let intake: AcceptReceiptDeps;
  let seq = 0;
  const nextIuv = () => iuvFor(process.pid, ++seq);

  const run = () =>
    recoverOnce({
      db: database.db,
      logger: createLogger('silent'),
      domains,
      intake,
      nodeBaseUrl: NODE_URL,
      nodeTimeoutMs: 2_000,
      delayMs: TEN_MINUTES_MS,
      intervalMs: 60_000,
    });

  beforeAll(async () => {
    database = await createTestDatabase('worker_recovery');
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    process.env[PASSWORD_ENV] = 's3cret-station';
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
    delete process.env[PASSWORD_ENV];
    nock.enableNetConnect();
    await database.drop();
  });

  test('an RPT without its RT after 10 minutes is asked for with nodoChiediCopiaRT, and the copy enters the inbox like a pushed RT', async () => {
    const iuv = nextIuv();
    const ccp = `ccp-${iuv}`;
    const fresh = nextIuv();
    await givenPositions(database.db, [
      { kind: 'DEBT', iuv, transfersCents: [1800], ccp, attemptAgeMs: TEN_MINUTES_MS + 60_000 },
      {
        kind: 'DEBT',
        iuv: fresh,
        transfersCents: [900],
        ccp: `ccp-${fresh}`,
        attemptAgeMs: 60_000,
      },
    ]);
    const rt = rtDocument({ iuv, ccp, outcome: 0, linesCents: [1800] });
    const asked: string[] = [];
    const node = nock('http://node.test')
      .post('/nodo/nodoPerPa', (body: string) => {
        asked.push(body);
        return body.includes('nodoChiediCopiaRT');
      })
      .reply(200, buildNodoChiediCopiaRTResponse({ signatureType: '0', rtXml: buildRt(rt) }));

    const result = await run();

    expect(result).toMatchObject({ asked: 1, recovered: 1, notYet: 0, errors: 0 });
    expect(node.isDone()).toBe(true);
    expect(asked[0]).toContain(`<identificativoUnivocoVersamento>${iuv}<`);
    expect(asked[0]).toContain(`<codiceContestoPagamento>${ccp}<`);
    expect(asked[0]).toContain('<password>s3cret-station</password>');
    const stored = (await database.db('receipts').where({ iuv }).first()) as {
      source: string;
      state: string;
      outcome: string;
      amount_cents: number;
      payment_attempt_id: number | null;
    };
    expect(stored).toMatchObject({
      source: 'RECOVERY',
      state: 'RECEIVED',
      outcome: 'PAID',
      amount_cents: 1800,
    });
    expect(stored.payment_attempt_id).not.toBeNull();
    expect(scheduled).toEqual([{ domainId: DOMAIN, iuv, receiptKey: ccp }]);
    expect(await database.db('receipts').where({ iuv: fresh })).toHaveLength(0);

    // The node's later push of the same RT is an identical resend, not a second receipt.
    const again = await acceptReceipt(intake, {
      key: { domainId: DOMAIN, iuv, receiptKey: ccp },
      source: 'PAA_INVIA_RT',
      brokerId: '80000000099',
      stationId: '80000000099_01',
      outcome: 'PAID',
      amountCents: 1800,
      rawXml: '<pushed/>',
      parsed: JSON.parse(JSON.stringify(rt)) as unknown,
      attemptCcp: ccp,
    });
    expect(again.kind).toBe('already-accepted');
  });

  test('when the node has no RT yet, its RPT state is asked, nothing is stored, and the attempt waits for the next delay', async () => {
    const iuv = nextIuv();
    await givenPositions(database.db, [
      {
        kind: 'DEBT',
        iuv,
        transfersCents: [700],
        ccp: `ccp-${iuv}`,
        attemptAgeMs: TEN_MINUTES_MS + 1_000,
      },
    ]);
    nock('http://node.test')
      .post('/nodo/nodoPerPa', (body: string) => body.includes('nodoChiediCopiaRT'))
      .reply(
        200,
        buildNodoChiediCopiaRTResponse({
          fault: {
            faultCode: 'PPT_RT_NONDISPONIBILE',
            faultString: 'RT non disponibile',
            id: 'NodoDeiPagamentiSPC',
          },
        }),
      )
      .post('/nodo/nodoPerPa', (body: string) => body.includes('nodoChiediStatoRPT'))
      .reply(
        200,
        buildNodoChiediStatoRPTResponse({
          status: { state: 'RPT_ACCETTATA_PSP', rptHistory: [], paymentHistory: [] },
        }),
      );

    expect(await run()).toMatchObject({ asked: 1, recovered: 0, notYet: 1, errors: 0 });
    expect(await database.db('receipts').where({ iuv })).toHaveLength(0);
    // Asked once per delay: an immediate second run claims nothing.
    expect(await run()).toMatchObject({ asked: 0 });
  });

  test('a node that cannot be reached is an error for this run only; nothing is stored', async () => {
    const iuv = nextIuv();
    await givenPositions(database.db, [
      {
        kind: 'DEBT',
        iuv,
        transfersCents: [700],
        ccp: `ccp-${iuv}`,
        attemptAgeMs: TEN_MINUTES_MS + 1_000,
      },
    ]);
    nock('http://node.test').post('/nodo/nodoPerPa').replyWithError({ code: 'ECONNREFUSED' });

    expect(await run()).toMatchObject({ asked: 1, recovered: 0, errors: 1 });
    expect(await database.db('receipts').where({ iuv })).toHaveLength(0);
  });

  test('new-model attempts are not asked without the biz-events configuration (counted unsupported)', async () => {
    const iuv = nextIuv();
    const pagopa = parseDomainsConfig(demo, 'demo');
    await givenPositions(database.db, [
      { kind: 'TOP_UP', iuv, transfersCents: [700], attemptAgeMs: TEN_MINUTES_MS + 1_000 },
    ]);

    const result = await recoverOnce({
      db: database.db,
      logger: createLogger('silent'),
      domains: pagopa,
      intake,
      nodeBaseUrl: NODE_URL,
      nodeTimeoutMs: 2_000,
      delayMs: TEN_MINUTES_MS,
      intervalMs: 60_000,
    });

    expect(result).toMatchObject({ asked: 0, unsupported: 1 });
  });
});
