/**
 * The ops API of reconciliation: treasury statement import (text/csv, audited, idempotent) and
 * the per-day report in JSON and CSV, on the API role with real MariaDB.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { buildReportingFlow, type ReportingFlow } from '../../src/adapters/pagopa/reporting-flow';
import type { Db } from '../../src/data-access/db';
import { storeFlowRevision } from '../../src/data-access/reporting-repository';
import { readFlow } from '../../src/domain/reconciliation/read-flow';
import { ERP, OPERATOR, startApi } from '../helpers/api';
import { REPO_ROOT } from '../helpers/service';

const DOMAIN = '80000000001';
const STATEMENT = fs.readFileSync(
  path.join(REPO_ROOT, 'fixtures', 'treasury', 'statement-2026-11.csv'),
  'utf8',
);

const flow = (
  flowId: string,
  pspId: string,
  payments: ReportingFlow['payments'],
): ReportingFlow => ({
  version: '1.0',
  flowId,
  flowDateTime: '2026-11-21T08:00:00',
  settlementId: `TRN-${flowId.slice(-4)}`,
  settlementDate: '2026-11-20',
  sender: { idKind: 'B', id: pspId },
  receiver: { taxCode: DOMAIN },
  totalCount: payments.length,
  totalCents: payments.reduce((s, p) => s + p.amountCents, 0),
  payments,
});

async function givenReceipt(db: Db, iuv: string, key: string, cents: number): Promise<void> {
  await db('receipts').insert({
    domain_id: DOMAIN,
    iuv,
    receipt_key: key,
    source: 'PA_SEND_RT',
    outcome: 'PAID',
    amount_cents: cents,
    paid_at: new Date('2026-11-19T10:00:00Z'),
    payload_hash: `h-${key}`,
    raw_xml: '<x/>',
    parsed: JSON.stringify({ transfers: [{ transferId: 1, amountCents: cents }] }),
  });
}

describe('ops API: reconciliation', () => {
  let api: Awaited<ReturnType<typeof startApi>>;

  beforeAll(async () => {
    api = await startApi('reporting_api');
    // Flow 1: one line matched, one with another amount, one without a receipt (code 9).
    const f1 = buildReportingFlow(
      flow('2026-11-20BCITITMM-0001', 'BCITITMM', [
        {
          iuv: '01000000000000001',
          iur: 'R1',
          transferIndex: 1,
          amountCents: 2000,
          outcome: 0,
          outcomeDate: '2026-11-19',
        },
        {
          iuv: '01000000000000002',
          iur: 'R2',
          transferIndex: 1,
          amountCents: 1000,
          outcome: 0,
          outcomeDate: '2026-11-19',
        },
        {
          iuv: '01000000000000009',
          iur: 'R9',
          amountCents: 500,
          outcome: 9,
          outcomeDate: '2026-11-19',
        },
      ]),
    );
    await storeFlowRevision(api.db, DOMAIN, readFlow(f1), f1);
    // Flow 2: a revoked line.
    const f2 = buildReportingFlow(
      flow('2026-11-20POSTE3-0002', 'POSTE3', [
        {
          iuv: '01000000000000005',
          iur: 'R5',
          amountCents: 1000,
          outcome: 3,
          outcomeDate: '2026-11-19',
        },
      ]),
    );
    await storeFlowRevision(api.db, DOMAIN, readFlow(f2), f2);
    await givenReceipt(api.db, '01000000000000001', 'R1', 2000);
    await givenReceipt(api.db, '01000000000000002', 'R2', 900);
    await givenReceipt(api.db, '01000000000000003', 'R3', 1200);
    await givenReceipt(api.db, 'RF2301000000000004', 'R4', 750);
  });
  afterAll(() => api.stop());

  test('only operators import statements and read the report', async () => {
    const res = await request(api.url)
      .get('/ops/v1/reconciliation')
      .query({ from: '2026-11-20', to: '2026-11-20' })
      .set(ERP);
    expect(res.status).toBe(403);
  });

  test('a statement is imported once, audited, and matched by both causale forms, /RFB and /RFS', async () => {
    const first = await request(api.url)
      .post('/ops/v1/treasury-imports')
      .query({ fileName: 'statement-2026-11.csv' })
      .set(OPERATOR)
      .set('content-type', 'text/csv')
      .send(STATEMENT);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'imported', movements: 5 });
    const again = await request(api.url)
      .post('/ops/v1/treasury-imports')
      .set(OPERATOR)
      .set('content-type', 'text/csv')
      .send(STATEMENT);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ importId: first.body.importId, status: 'already-imported' });
    const audit = await api.db('audit_events').where({ action: 'treasury.import' }).select('actor');
    expect(audit).toHaveLength(1);

    const bad = await request(api.url)
      .post('/ops/v1/treasury-imports')
      .set(OPERATOR)
      .set('content-type', 'text/csv')
      .send('date,amount,causale\n2026-11-20,12,x\n');
    expect(bad.status).toBe(400);

    const res = await request(api.url)
      .get('/ops/v1/reconciliation')
      .query({ from: '2026-11-19', to: '2026-11-20' })
      .set(OPERATOR);
    expect(res.status).toBe(200);
    expect(res.body.lines).toEqual({ MATCHED: 1, AMOUNT_MISMATCH: 1, NO_RECEIPT: 1, REVOKED: 1 });
    const day19 = res.body.days.find((d: { date: string }) => d.date === '2026-11-19');
    expect(day19.receipts).toEqual({ count: 4, cents: 4850 });
    const day20 = res.body.days.find((d: { date: string }) => d.date === '2026-11-20');
    expect(day20.flows).toEqual({ count: 2, cents: 4500 });
    expect(day20.bankTransfers).toEqual({ count: 5, cents: 16450 });
    const kinds = day20.mismatches.map((m: { kind: string; ref: string }) => `${m.kind} ${m.ref}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'LINE_AMOUNT_MISMATCH 01000000000000002',
        'LINE_NO_RECEIPT 01000000000000009',
        'LINE_REVOKED 01000000000000005',
        'TRANSFER_UNRECOGNISED GIROCONTO TESORERIA',
      ]),
    );
    // Flow 1's transfer (URI form) and /RFB, /RFS agree; flow 2's (TXT form) is matched by id.
    expect(kinds.filter((k: string) => k.startsWith('TRANSFER_'))).toEqual([
      'TRANSFER_UNRECOGNISED GIROCONTO TESORERIA',
    ]);
    expect(kinds.some((k: string) => k.startsWith('FLOW_NOT_CREDITED'))).toBe(false);

    const csv = await request(api.url)
      .get('/ops/v1/reconciliation.csv')
      .query({ from: '2026-11-19', to: '2026-11-20' })
      .set(OPERATOR);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text).toContain('2026-11-20,BANK_TRANSFERS,,5,164.50,,,');
    expect(csv.text).toContain('LINE_NO_RECEIPT,01000000000000009');
  });

  test('a range longer than a quarter is refused', async () => {
    const res = await request(api.url)
      .get('/ops/v1/reconciliation')
      .query({ from: '2026-01-01', to: '2026-12-31' })
      .set(OPERATOR);
    expect(res.status).toBe(400);
  });

  test('the console shows the report per day with the mismatches, and exports it', async () => {
    const anonymous = await request(api.url).get('/ops/reconciliation');
    expect(anonymous.status).toBe(303);
    const login = await request(api.url)
      .post('/ops/login')
      .type('form')
      .send({ key: 'dev-operator-key' });
    const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
    const page = await request(api.url)
      .get('/ops/reconciliation')
      .query({ from: '2026-11-19', to: '2026-11-20' })
      .set('Cookie', cookie);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<td>2026-11-20<\/td>\s*<td class="num">0<\/td>/);
    expect(page.text).toContain('LINE_NO_RECEIPT');
    expect(page.text).toContain('paid without a receipt here');
    const csv = await request(api.url)
      .get('/ops/reconciliation.csv')
      .query({ from: '2026-11-19', to: '2026-11-20' })
      .set('Cookie', cookie);
    expect(csv.status).toBe(200);
    expect(csv.text).toContain('2026-11-19,RECEIPTS,,4,48.50,,,');
    const bad = await request(api.url)
      .get('/ops/reconciliation')
      .query({ from: 'yesterday' })
      .set('Cookie', cookie);
    expect(bad.status).toBe(400);
  });
});
