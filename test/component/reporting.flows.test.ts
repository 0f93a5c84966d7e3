/**
 * Reporting flows through the real doors: the pagopa node client against nock (flow list and
 * flows built with our codecs), MariaDB for storage, then the reconciliation read.
 */
import nock from 'nock';
import { buildFlowListResponse, buildFlowResponse } from '../../src/adapters/pagopa/node-for-pa';
import { buildReportingFlow, type ReportingFlow } from '../../src/adapters/pagopa/reporting-flow';
import { createNodeClient, PagopaNodeClient } from '../../src/adapters/node-client';
import { claimPendingAttempts } from '../../src/data-access/reconcile-repository';
import {
  expediteRecoveryForFlow,
  loadReconciliationInput,
  storeFlowRevision,
} from '../../src/data-access/reporting-repository';
import { readFlow } from '../../src/domain/reconciliation/read-flow';
import { reconcile } from '../../src/domain/reconciliation/report';
import { fetchReportingFlows } from '../../src/entry-points/worker/reporting-fetcher';
import { aDomain, harness, wsdl } from '../unit/node-client/helpers';
import { createTestDatabase } from '../helpers/db';
import { DOMAIN as WORLD_DOMAIN, givenPositions } from '../chaos/world';

const NODE = 'https://api.uat.platform.pagopa.it';
const DOMAIN = '77777777777';
const FLOW_ID = '2026-11-20BCITITMM-0001';
const silent = { info: () => undefined, warn: () => undefined };

const flow = (over: Partial<ReportingFlow>): ReportingFlow => ({
  version: '1.0',
  flowId: FLOW_ID,
  flowDateTime: '2026-11-21T08:00:00',
  settlementId: 'TRN-0001',
  settlementDate: '2026-11-20',
  sender: { idKind: 'B', id: 'BCITITMM' },
  receiver: { taxCode: DOMAIN },
  totalCount: 1,
  totalCents: 2500,
  payments: [
    {
      iuv: '01000000000000001',
      iur: 'RCPT-1',
      transferIndex: 1,
      amountCents: 2500,
      outcome: 0,
      outcomeDate: '2026-11-19',
    },
  ],
  ...over,
});

describe('reporting flows: download, revisions, anomalies, re-runnable matching', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let client: PagopaNodeClient;

  beforeAll(async () => {
    database = await createTestDatabase('reporting_flows');
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const c = createNodeClient(
      aDomain({ dialect: 'pagopa', subscriptionKeyEnv: 'PG_KEY', stationPasswordEnv: 'PG_PWD' }),
      {
        settings: {
          nodeBaseUrl: NODE,
          checkoutBaseUrl: undefined,
          nodeRestBaseUrl: undefined,
          mypayBaseUrl: undefined,
          nodeTimeoutMs: 2_000,
          nodeRetryAttemptsMax: 1,
          nodeRetryBackoffBaseMs: 1,
          nodeCircuitFailuresMax: 50,
          nodeCircuitOpenMs: 30_000,
          nodeTls: {},
        },
        transport: harness().transport,
        wsdl,
        env: { PG_KEY: 'k', PG_PWD: 'St4tionPwd!' },
      },
    );
    if (!(c instanceof PagopaNodeClient)) throw new Error('expected the pagopa client');
    client = c;
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await database.drop();
  });
  beforeEach(() => nock.cleanAll());

  const nodeServes = (listed: { flowId: string; flowDateTime: string }[], docs: string[]) => {
    const scope = nock(NODE)
      .post('/nodo-auth/node-for-pa/v1')
      .reply(
        200,
        buildFlowListResponse({ outcome: 'OK', totalReturned: listed.length, flows: listed }),
      );
    for (const flowXml of docs) {
      scope
        .post('/nodo-auth/node-for-pa/v1')
        .reply(200, buildFlowResponse({ outcome: 'OK', flowXml }));
    }
    return scope;
  };
  const fetchNow = () =>
    fetchReportingFlows({
      db: database.db,
      logger: silent,
      sources: new Map([[DOMAIN, client]]),
      now: () => new Date('2026-11-23T10:00:00Z'),
    });
  const report = async () =>
    reconcile(
      await loadReconciliationInput(database.db, {
        domainId: DOMAIN,
        from: '2026-11-19',
        to: '2026-11-20',
        asOf: '2026-11-23',
      }),
    );

  test('a new flow is downloaded once; a later revision supersedes it; an inconsistent one is ANOMALOUS', async () => {
    const first = buildReportingFlow(flow({}));
    let scope = nodeServes([{ flowId: FLOW_ID, flowDateTime: '2026-11-21T08:00:00' }], [first]);
    expect(await fetchNow()).toMatchObject({ listed: 1, downloaded: 1, errors: 0 });
    expect(scope.isDone()).toBe(true);

    // Listed again with the same date: not downloaded again.
    scope = nodeServes([{ flowId: FLOW_ID, flowDateTime: '2026-11-21T08:00:00' }], []);
    expect(await fetchNow()).toMatchObject({ listed: 1, downloaded: 0 });

    // The PSP overwrites the flow (D+4): two lines now, code 9 for a payment without RPT.
    const second = buildReportingFlow(
      flow({
        flowDateTime: '2026-11-22T09:30:00',
        totalCount: 2,
        totalCents: 3500,
        payments: [
          ...flow({}).payments,
          {
            iuv: '01000000000000002',
            iur: 'RCPT-2',
            amountCents: 1000,
            outcome: 9,
            outcomeDate: '2026-11-19',
          },
        ],
      }),
    );
    scope = nodeServes([{ flowId: FLOW_ID, flowDateTime: '2026-11-22T09:30:00' }], [second]);
    expect(await fetchNow()).toMatchObject({ downloaded: 1, superseded: 1 });
    const rows = (await database
      .db('reporting_flows')
      .where({ flow_id: FLOW_ID })
      .orderBy('flow_date')
      .select('id', 'superseded_by_id', 'computed_count')) as {
      id: number;
      superseded_by_id: number | null;
      computed_count: number;
    }[];
    expect(rows).toHaveLength(2);
    expect(rows[0]?.superseded_by_id).toBe(rows[1]?.id);
    expect(rows[1]).toMatchObject({ superseded_by_id: null, computed_count: 2 });

    // Only the latest revision is matched: two lines, neither has a receipt yet.
    const before = await report();
    expect(before.lineMatches.map((m) => m.outcome)).toEqual(['NO_RECEIPT', 'NO_RECEIPT']);

    // An inconsistent flow from another PSP: stored, ANOMALOUS, declared totals kept.
    const bad = buildReportingFlow(
      flow({ flowId: '2026-11-20POSTE3-0002', sender: { idKind: 'B', id: 'POSTE3' } }),
    ).replace('<importoTotalePagamenti>25.00<', '<importoTotalePagamenti>99.00<');
    nodeServes([{ flowId: '2026-11-20POSTE3-0002', flowDateTime: '2026-11-21T08:00:00' }], [bad]);
    expect(await fetchNow()).toMatchObject({ downloaded: 1, anomalous: 1 });
    const anomalous = (await database
      .db('reporting_flows')
      .where({ flow_id: '2026-11-20POSTE3-0002' })
      .first('status', 'total_cents', 'computed_cents')) as Record<string, unknown>;
    expect(anomalous).toMatchObject({ status: 'ANOMALOUS', computed_cents: 2500 });
    expect(Number(anomalous['total_cents'])).toBe(9900);
    const day = (await report()).days.find((d) => d.date === '2026-11-20');
    expect(day?.mismatches.map((m) => m.kind)).toContain('FLOW_ANOMALOUS');

    // The late receipt arrives: the same read now says MATCHED (nothing was memoised).
    await database.db('receipts').insert({
      domain_id: DOMAIN,
      iuv: '01000000000000001',
      receipt_key: 'RCPT-1',
      source: 'PA_SEND_RT',
      outcome: 'PAID',
      amount_cents: 2500,
      paid_at: new Date('2026-11-19T10:00:00Z'),
      payload_hash: 'h1',
      raw_xml: '<x/>',
      parsed: JSON.stringify({ transfers: [{ transferId: 1, amountCents: 2500 }] }),
    });
    const after = await report();
    const latestLines = after.lineMatches.filter((m) => m.flowRowId === rows[1]?.id);
    expect(latestLines.map((m) => m.outcome)).toEqual(['MATCHED', 'NO_RECEIPT']);
  });

  test('a flow the node fails to serve is retried on the next run', async () => {
    const id = '2026-11-20BCITITMM-0009';
    nock(NODE)
      .post('/nodo-auth/node-for-pa/v1')
      .reply(
        200,
        buildFlowListResponse({
          outcome: 'OK',
          totalReturned: 1,
          flows: [{ flowId: id, flowDateTime: '2026-11-21T08:00:00' }],
        }),
      )
      .post('/nodo-auth/node-for-pa/v1')
      .reply(500, 'boom');
    expect(await fetchNow()).toMatchObject({ downloaded: 0, errors: 1 });
    nodeServes(
      [{ flowId: id, flowDateTime: '2026-11-21T08:00:00' }],
      [buildReportingFlow(flow({ flowId: id }))],
    );
    expect(await fetchNow()).toMatchObject({ downloaded: 1, errors: 0 });
  });

  test('NO_RECEIPT lines make their pending attempts due for missing-receipt recovery now', async () => {
    const iuvs = ['03000000000000001', '03000000000000002'];
    const [withoutReceipt] = await givenPositions(database.db, [
      {
        kind: 'DEBT',
        iuv: iuvs[0]!,
        transfersCents: [2500],
        ccp: 'CCP-1',
        attemptAgeMs: 86_400_000,
      },
    ]);
    // Recovery asked about it a minute ago: not due again for RECOVERY_DELAY_MS.
    await database
      .db('payment_attempts')
      .where({ id: withoutReceipt!.attemptId })
      .update({ updated_at: new Date(Date.now() - 60_000) });
    const delay = { delayMs: 600_000, limit: 10 };
    expect(await claimPendingAttempts(database.db, delay)).toEqual([]);
    const xml = buildReportingFlow(
      flow({
        flowId: '2026-11-20BCITITMM-0077',
        receiver: { taxCode: WORLD_DOMAIN },
        totalCount: 2,
        totalCents: 3500,
        payments: [
          { iuv: iuvs[0]!, iur: 'IUR-1', amountCents: 2500, outcome: 0, outcomeDate: '2026-11-19' },
          { iuv: iuvs[1]!, iur: 'IUR-2', amountCents: 1000, outcome: 9, outcomeDate: '2026-11-19' },
        ],
      }),
    );
    const stored = await storeFlowRevision(database.db, WORLD_DOMAIN, readFlow(xml), xml);
    expect(await expediteRecoveryForFlow(database.db, WORLD_DOMAIN, stored.id)).toBe(1);
    const claimed = await claimPendingAttempts(database.db, delay);
    expect(claimed.map((a) => a.iuv)).toEqual([iuvs[0]]);
  });
});
