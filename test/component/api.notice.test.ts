import fs from 'node:fs';
import path from 'node:path';
import jsQR from 'jsqr';
import request from 'supertest';
import { groupNoticeNumber } from '../../src/adapters/notice-pdf/render-notice';
import { ERP, startApi } from '../helpers/api';
import { crop, greyToRgba, readPdfPages, type PdfPage } from '../helpers/pdf-pages';

/**
 * The notice route through the real door: the PDF of a stored position carries its notice
 * numbers and amounts, and its QR code decodes to the pagoPA string of the option.
 */
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(
    fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'erp', name), 'utf8'),
  ) as Record<string, unknown>;

/** The transport month of a family without a card: a plain debt position. */
const transportMonth = (): Record<string, unknown> => {
  const body = fixture('transport-month.json');
  delete body['cardCode'];
  return body;
};

function decodeQr(page: PdfPage): string | undefined {
  // Scan overlapping tiles: the page also carries a Data Matrix, and a tile holds one code.
  for (let y = 0; y < 1; y += 0.25) {
    for (let x = 0; x < 1; x += 0.25) {
      const tile = crop(page, {
        x: x * page.width,
        y: y * page.height,
        width: page.width / 2,
        height: page.height / 2,
      });
      const found = jsQR(greyToRgba(tile), tile.width, tile.height);
      if (found !== null) return found.data;
    }
  }
  return undefined;
}

const pdfOf = async (url: string, externalId: string) =>
  request(url)
    .get(`/api/v1/debt-positions/${externalId}/notice.pdf`)
    .set(ERP)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });

describe('GET /api/v1/debt-positions/{externalId}/notice.pdf', () => {
  let app: Awaited<ReturnType<typeof startApi>>;

  beforeAll(async () => {
    app = await startApi('notice');
  });
  afterAll(async () => {
    await app.stop();
  });

  test('a transport month prints one page whose QR is the pagoPA string of its notice', async () => {
    const put = await request(app.url)
      .put('/api/v1/debt-positions/transport-2026-10-a')
      .set(ERP)
      .send(transportMonth());
    expect(put.status).toBe(201);
    const option = (put.body as { paymentOptions: { noticeNumber: string; amountCents: number }[] })
      .paymentOptions[0];
    if (option === undefined) throw new Error('no option');

    const res = await pdfOf(app.url, 'transport-2026-10-a');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    const pages = readPdfPages(res.body as Buffer);
    expect(pages).toHaveLength(1);
    const page = pages[0] as PdfPage;
    expect(page.text).toMatch(/AVVISO DI PAGAMENTO/);
    expect(page.text).toContain('Comune di Borgo Verde (demo)');
    expect(page.text.replace(/\s/g, '')).toContain(option.noticeNumber);
    expect(decodeQr(page)).toBe(
      `PAGOPA|002|${option.noticeNumber}|80000000001|${option.amountCents}`,
    );
  });

  test('instalments print a summary and a page each; after one is paid only the rest are printed', async () => {
    const put = await request(app.url)
      .put('/api/v1/debt-positions/nursery-q1')
      .set(ERP)
      .send(fixture('nursery-instalments.json'));
    expect(put.status).toBe(201);
    const options = (
      put.body as { paymentOptions: { noticeNumber: string; amountCents: number }[] }
    ).paymentOptions;
    const all = readPdfPages((await pdfOf(app.url, 'nursery-q1')).body as Buffer);
    expect(all).toHaveLength(4);
    expect(all[0]?.text).toMatch(/Puoi pagare in 3 rate/);

    const first = options[0];
    if (first === undefined) throw new Error('no option');
    await request(app.url)
      .post('/api/v1/debt-positions/nursery-q1/offline-payments')
      .set(ERP)
      .send({
        amountCents: first.amountCents,
        channel: 'COUNTER',
        reference: 'URP-0001',
        paidAt: '2026-11-20T10:00:00+01:00',
        noticeNumber: first.noticeNumber,
      })
      .expect((r) => expect([200, 201]).toContain(r.status));
    const rest = readPdfPages((await pdfOf(app.url, 'nursery-q1')).body as Buffer);
    expect(rest).toHaveLength(3);
    expect(rest[0]?.text).toMatch(/Restano da pagare 2 rate di 3/);
    expect(rest.map((p) => p.text).join('\n')).not.toContain(groupNoticeNumber(first.noticeNumber));
    expect(rest[1]?.text).toMatch(/RATA 2 DI 3/);
  });

  test('an unknown position is 404, a cancelled one 409', async () => {
    const missing = await pdfOf(app.url, 'no-such-position');
    expect(missing.status).toBe(404);
    await request(app.url)
      .put('/api/v1/debt-positions/transport-cancelled')
      .set(ERP)
      .send(transportMonth())
      .expect(201);
    await request(app.url)
      .delete('/api/v1/debt-positions/transport-cancelled')
      .set(ERP)
      .expect(200);
    const cancelled = await pdfOf(app.url, 'transport-cancelled');
    expect(cancelled.status).toBe(409);
  });
});
