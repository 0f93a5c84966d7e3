import request from 'supertest';
import { ERP, OPERATOR, startApi } from '../helpers/api';

/**
 * The receipts feed through the real door, on receipts stored directly in the inbox table (the
 * SOAP intake that normally writes them has its own tests).
 */
describe('GET /api/v1/receipts', () => {
  let app: Awaited<ReturnType<typeof startApi>>;
  let n = 0;

  const storeReceipt = async (over: Record<string, unknown> = {}): Promise<number> => {
    n += 1;
    const [id] = await app.db('receipts').insert({
      domain_id: '80000000001',
      iuv: `0200000000000${String(n).padStart(2, '0')}`,
      receipt_key: `token-${n}`,
      source: 'PA_SEND_RT',
      notice_number: null,
      outcome: 'PAID',
      amount_cents: 1_000 + n,
      payload_hash: 'a'.repeat(64),
      raw_xml: '<x/>',
      parsed: JSON.stringify({}),
      state: 'RECONCILED',
      received_at: new Date(Date.now() - 60_000),
      ...over,
    });
    return Number(id);
  };

  beforeAll(async () => {
    app = await startApi('receipts_feed', { RECEIPTS_FEED_LAG_MS: '2000' });
  });
  afterAll(async () => {
    await app.stop();
  });

  test('pages forward in arrival order and the last cursor picks up what arrives later', async () => {
    const ids = [await storeReceipt(), await storeReceipt(), await storeReceipt()];
    const first = await request(app.url).get('/api/v1/receipts?limit=2').set(ERP).expect(200);
    expect(first.body.items.map((r: { id: number }) => r.id)).toEqual(ids.slice(0, 2));
    expect(first.body.items[0]).toMatchObject({
      domain: '80000000001',
      outcome: 'PAID',
      amountCents: 1_001,
      state: 'RECONCILED',
    });
    const second = await request(app.url)
      .get(`/api/v1/receipts?limit=2&cursor=${first.body.nextCursor}`)
      .set(OPERATOR)
      .expect(200);
    expect(second.body.items.map((r: { id: number }) => r.id)).toEqual(ids.slice(2));
    const end = await request(app.url)
      .get(`/api/v1/receipts?cursor=${second.body.nextCursor}`)
      .set(ERP)
      .expect(200);
    expect(end.body.items).toEqual([]);

    const later = await storeReceipt();
    const resumed = await request(app.url)
      .get(`/api/v1/receipts?cursor=${end.body.nextCursor}`)
      .set(ERP)
      .expect(200);
    expect(resumed.body.items.map((r: { id: number }) => r.id)).toEqual([later]);
  });

  test('a receipt younger than the lag is held back until it is older', async () => {
    const before = await request(app.url).get('/api/v1/receipts?limit=200').set(ERP).expect(200);
    const fresh = await storeReceipt({ received_at: new Date() });
    const now = await request(app.url)
      .get(`/api/v1/receipts?cursor=${before.body.nextCursor}`)
      .set(ERP)
      .expect(200);
    expect(now.body.items.map((r: { id: number }) => r.id)).not.toContain(fresh);
    await new Promise((r) => setTimeout(r, 2_200));
    const after = await request(app.url)
      .get(`/api/v1/receipts?cursor=${before.body.nextCursor}`)
      .set(ERP)
      .expect(200);
    expect(after.body.items.map((r: { id: number }) => r.id)).toContain(fresh);
  });

  test('since starts the feed at a moment; other domains are not served', async () => {
    const old = await storeReceipt({ received_at: new Date('2026-01-01T00:00:00Z') });
    const other = await storeReceipt({
      domain_id: '80000000002',
      received_at: new Date('2026-06-01T00:00:00Z'),
    });
    const res = await request(app.url)
      .get('/api/v1/receipts?since=2026-03-01T00:00:00Z&limit=200')
      .set(ERP)
      .expect(200);
    const ids = res.body.items.map((r: { id: number }) => r.id);
    expect(ids).not.toContain(old);
    expect(ids).not.toContain(other);
    const theirs = await request(app.url)
      .get('/api/v1/receipts?domain=80000000002')
      .set(ERP)
      .expect(200);
    expect(theirs.body.items.map((r: { id: number }) => r.id)).toEqual([other]);
  });

  test('bad queries are refused with the field named', async () => {
    const res = await request(app.url)
      .get('/api/v1/receipts?since=yesterday&limit=0&extra=1')
      .set(ERP)
      .expect(400);
    expect(res.body.code).toBe('invalid-input');
    expect(res.body.detail).toMatch(/since/);
    expect(res.body.detail).toMatch(/limit/);
    await request(app.url).get('/api/v1/receipts?cursor=bm90LWEtY3Vyc29y').set(ERP).expect(400);
    await request(app.url).get('/api/v1/receipts?domain=99999999999').set(ERP).expect(422);
  });
});
