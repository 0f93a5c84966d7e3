import net from 'node:net';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import {
  createNodeClient,
  createNodeTransport,
  WsdlCatalog,
  type ReportingFlowSource,
} from '../../src/adapters/node-client';
import { QUEUES } from '../../src/adapters/queues';
import { addDays, romeDate } from '../../src/domain/positions/dates';
import { WSDL_DIR } from '../../src/entry-points/soap/soap-server';
import { fetchReportingFlows } from '../../src/entry-points/worker/reporting-fetcher';
import type { Config } from '../../src/shared/config';
import { loadDomains } from '../../src/shared/domains-config';
import { createLogger } from '../../src/shared/logger';
import { ERP, OPERATOR, jsonCall } from '../helpers/api';
import { createTestDatabase } from '../helpers/db';
import { eventually, startTestService, testConfig } from '../helpers/service';

/**
 * Reporting flows end to end with the simulator's flows: the simulated PSP pays notices at the
 * adapter's door, publishes a FlussoRiversamento of what it collected, the adapter downloads it
 * over nodeForPa as `reports fetch` does, and the operator's reconciliation report matches every
 * line; a receipt the node holds back is a NO_RECEIPT line until it is delivered, then MATCHED
 * (the report is computed on read: nothing is memoised).
 */

const QUEUE_PREFIX = `t-reporting-sim-${process.pid}`;
const RUN = (process.pid % 9_000) + 1_000;
const DOMAIN = '80000000001';
const today = romeDate(new Date());
// The domain's secrets, as the CLI reads them from its environment (the station password is
// still required by nodeForPa next to the subscription key).
const SECRETS = {
  BORGO_VERDE_STATION_PASSWORD: 'simpass01',
  BORGO_VERDE_SUBSCRIPTION_KEY: 'sim-subscription-key',
};

type Step = { operation: string; outcome: string };

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

describe('reporting flows end to end: simulator PSP, nodeForPa download, reconciliation report', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let config: Config;
  let api: string;
  let sim: string;
  let source: ReportingFlowSource;

  const call = jsonCall;
  const erp = (method: string, path: string, body?: unknown) => call(api, method, path, body, ERP);

  const newPosition = async (externalId: string, amountCents: number): Promise<string> => {
    const res = await erp('PUT', `/api/v1/debt-positions/${externalId}`, {
      service: 'NURSERY_FEE',
      debtor: { type: 'F', fiscalCode: 'BNCLRA90A41H501X', fullName: 'Bianchi Laura' },
      description: `Retta asilo nido ${externalId}`,
      paymentOptions: [{ amountCents, dueDate: addDays(today, 30) }],
    });
    expect(res.status).toBe(201);
    return (res.body['paymentOptions'] as { noticeNumber: string }[])[0]!.noticeNumber;
  };
  const paidEventually = (externalId: string) =>
    eventually(
      async () =>
        (await erp('GET', `/api/v1/debt-positions/${externalId}`)).body['status'] === 'PAID',
      10_000,
      50,
    );
  const payAtPsp = async (noticeNumber: string, delivery?: { mode: string }) => {
    const paid = await call(sim, 'POST', '/sim/psp/pay-notice', {
      noticeNumber,
      fiscalCode: DOMAIN,
      ...(delivery === undefined ? {} : { delivery }),
    });
    expect(paid.status).toBe(200);
    return paid.body;
  };
  /** `pagopa-adapter reports fetch`: the same function, with the domain's nodeForPa client. */
  const fetchFlows = () =>
    fetchReportingFlows({
      db: database.db,
      logger: createLogger('silent'),
      sources: new Map([[DOMAIN, source]]),
    });
  const report = async () => {
    const res = await call(
      api,
      'GET',
      `/ops/v1/reconciliation?domain=${DOMAIN}&from=${addDays(today, -1)}&to=${addDays(today, 1)}`,
      undefined,
      OPERATOR,
    );
    expect(res.status).toBe(200);
    const days = res.body['days'] as { mismatches: { kind: string; ref: string }[] }[];
    return {
      lines: res.body['lines'] as Record<string, number>,
      mismatches: days.flatMap((d) => d.mismatches),
    };
  };

  beforeAll(async () => {
    database = await createTestDatabase('reporting_sim');
    // The simulator's port is chosen here, so that NODE_BASE_URL can point to it.
    const simPort = await freePort();
    config = testConfig({
      DATABASE_URL: database.url,
      DATABASE_MIGRATE_ON_START: 'false',
      QUEUE_PREFIX,
      RECONCILE_BACKOFF_BASE_MS: '50',
      SIMULATOR_PORT: String(simPort),
      NODE_BASE_URL: `http://127.0.0.1:${simPort}`,
    });
    service = await startTestService(config, 'all');
    api = `http://127.0.0.1:${service.ports.api}`;
    sim = `http://127.0.0.1:${service.ports.simulator}`;
    expect(service.ports.simulator).toBe(simPort);

    const domain = loadDomains(config.domainsFile).find(DOMAIN)!;
    source = createNodeClient(domain, {
      settings: config,
      transport: createNodeTransport(config, { registry: new Registry() }),
      wsdl: WsdlCatalog.load(WSDL_DIR),
      env: SECRETS,
    }) as ReportingFlowSource;
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    const queue = new Queue(QUEUES.reconcile, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: QUEUE_PREFIX,
    });
    await queue.obliterate({ force: true });
    await queue.close();
    await database?.drop();
  });

  test('paid notices are reported, downloaded and MATCHED; a held receipt is NO_RECEIPT until delivered', async () => {
    // Nothing collected yet: nothing to publish.
    expect((await call(sim, 'POST', '/sim/flows/publish', { domain: DOMAIN })).status).toBe(409);

    const amounts = [18_000, 4_500, 1_250];
    for (const [i, amountCents] of amounts.entries()) {
      const externalId = `NURSERY-${RUN}-R${i}`;
      const run = await payAtPsp(await newPosition(externalId, amountCents));
      expect((run['steps'] as Step[]).at(-1)).toEqual({ operation: 'paSendRTV2', outcome: 'OK' });
      expect(await paidEventually(externalId)).toBe(true);
    }

    const first = await call(sim, 'POST', '/sim/flows/publish', { domain: DOMAIN });
    expect(first.status).toBe(201);
    const firstId = first.body['flowId'] as string;
    expect(firstId).toMatch(new RegExp(`^${today}SIMPSP01-\\d+$`));
    expect(first.body['settlementDate']).toBe(today);
    expect((first.body['lines'] as { amountCents: number }[]).map((l) => l.amountCents)).toEqual(
      amounts,
    );

    // The node's flow list, as the adapter's client reads it.
    const listed = await source.listFlows(new Date(Date.now() - 86_400_000));
    expect(listed).toEqual([expect.objectContaining({ flowId: firstId, pspId: 'SIMPSP01' })]);

    expect(await fetchFlows()).toMatchObject({ listed: 1, downloaded: 1, anomalous: 0, errors: 0 });
    // A second run finds nothing new.
    expect(await fetchFlows()).toMatchObject({ listed: 1, downloaded: 0, errors: 0 });
    const matched = await report();
    expect(matched.lines).toEqual({ MATCHED: amounts.length });
    expect(matched.mismatches.filter((m) => m.kind.startsWith('LINE_'))).toEqual([]);

    // One more notice, paid at the PSP; the node holds its receipt back.
    const heldId = `NURSERY-${RUN}-R9`;
    const heldNotice = await newPosition(heldId, 2_000);
    const held = await payAtPsp(heldNotice, { mode: 'never' });
    expect((held['steps'] as Step[]).at(-1)).toEqual({
      operation: 'paSendRTV2',
      outcome: 'NOT_SENT',
    });
    const receipt = (held['receipts'] as { receiptId: string }[])[0]!;

    const second = await call(sim, 'POST', '/sim/flows/publish', { domain: DOMAIN });
    expect(second.status).toBe(201);
    const secondId = second.body['flowId'] as string;
    expect(secondId).not.toBe(firstId);
    expect(second.body['lines']).toEqual([
      expect.objectContaining({ iur: receipt.receiptId, transferIndex: 1, amountCents: 2_000 }),
    ]);
    const heldIuv = (second.body['lines'] as { iuv: string }[])[0]!.iuv;

    expect(await fetchFlows()).toMatchObject({ listed: 2, downloaded: 1, errors: 0 });
    const missing = await report();
    expect(missing.lines).toEqual({ MATCHED: amounts.length, NO_RECEIPT: 1 });
    expect(missing.mismatches).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'LINE_NO_RECEIPT', ref: heldIuv })]),
    );
    expect((await erp('GET', `/api/v1/debt-positions/${heldId}`)).body['status']).toBe('OPEN');

    // The node's retry queue delivers it at last; the same report now matches it.
    const late = await call(sim, 'POST', `/sim/receipts/${receipt.receiptId}/deliver`);
    expect(late.body['steps']).toEqual([{ operation: 'paSendRTV2', outcome: 'OK' }]);
    expect(await paidEventually(heldId)).toBe(true);
    const after = await report();
    expect(after.lines).toEqual({ MATCHED: amounts.length + 1 });
    expect(after.mismatches.filter((m) => m.kind.startsWith('LINE_'))).toEqual([]);

    // Nothing new to download, and nothing left to publish.
    expect(await fetchFlows()).toMatchObject({ listed: 2, downloaded: 0, errors: 0 });
    expect((await call(sim, 'POST', '/sim/flows/publish', { domain: DOMAIN })).status).toBe(409);
  }, 60_000);

  test('the simulated node refuses an unknown flow and a station that is not the domain’s', async () => {
    await expect(source.downloadFlow({ flowId: `${today}SIMPSP01-999` })).rejects.toMatchObject({
      code: 'upstream-error',
      details: expect.objectContaining({ faultCode: 'PPT_ID_FLUSSO_SCONOSCIUTO' }),
    });
    const domain = loadDomains(config.domainsFile).find(DOMAIN)!;
    const stranger = createNodeClient(
      { ...domain, stationId: '80000000099_99' },
      {
        settings: config,
        transport: createNodeTransport(config, { registry: new Registry() }),
        wsdl: WsdlCatalog.load(WSDL_DIR),
        env: SECRETS,
      },
    ) as ReportingFlowSource;
    await expect(stranger.listFlows(new Date(0))).rejects.toMatchObject({
      details: expect.objectContaining({ faultCode: 'PPT_AUTORIZZAZIONE' }),
    });
  });
});
