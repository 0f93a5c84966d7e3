import { receiptHistory } from '../../src/data-access/receipts-repository';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import {
  parsePaSendRtResponse,
  receiptIdentity,
  type Receipt,
} from '../../src/adapters/pagopa/pa-for-node';
import { parsePaaInviaRTResponse } from '../../src/adapters/pagopa/old-model-soap';
import { QUEUES, reconcileJobId } from '../../src/adapters/queues';
import type { Db } from '../../src/data-access/db';
import { contentHash } from '../../src/shared/hash';
import { makeNoticeNumber } from '../../src/domain/codes/notice-number';
import { createTestDatabase } from '../helpers/db';
import { REPO_ROOT, startTestService, testConfig } from '../helpers/service';
import { TcpProxy } from '../helpers/tcp-proxy';

/**
 * The receipt doors (paSendRT, paSendRTV2, paaInviaRT) through real HTTP, with the real MariaDB
 * and Redis behind proxies this test can cut. Requests are the XML fixtures in
 * fixtures/soap/intake (demo domain 80000000001, broker 80000000099, station 80000000099_01).
 */

const INTAKE = path.join(REPO_ROOT, 'fixtures', 'soap', 'intake');
const fixture = (name: string): string => fs.readFileSync(path.join(INTAKE, name), 'utf8');
const DOMAIN = '80000000001';
const QUEUE_PREFIX = `t-receipts-${process.pid}`;

type Service = Awaited<ReturnType<typeof startTestService>>;

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body,
  });
  return { status: res.status, text: await res.text() };
}

/** The IUV and notice number a fixture carries (new model) or its header names (RT model). */
function iuvOf(xml: string): string {
  const m =
    /<creditorReferenceId>(\d+)<\/creditorReferenceId>/.exec(xml) ??
    /<identificativoUnivocoVersamento>(\d+)<\/identificativoUnivocoVersamento>/.exec(xml);
  if (m?.[1] === undefined) throw new Error('fixture without IUV');
  return m[1];
}

let positionSeq = 0;
/** A debt position with one option for the IUV (and an attempt with the CCP, when given). */
async function givenPosition(db: Db, iuv: string, opts: { ccp?: string } = {}): Promise<number> {
  positionSeq += 1;
  const [positionId] = (await db('debt_positions').insert({
    domain_id: DOMAIN,
    external_id: `receipts-test-${positionSeq}-${iuv}`,
    kind: 'DEBT',
    service: 'NURSERY_FEE',
    debtor_type: 'F',
    debtor_fiscal_code: 'RSSMRA80A01E715X',
    debtor_full_name: 'Mario Rossi',
    description: 'Retta nido',
    request_hash: 'x'.repeat(64),
  })) as number[];
  const [optionId] = (await db('payment_options').insert({
    debt_position_id: positionId,
    domain_id: DOMAIN,
    iuv,
    notice_number: `3${iuv}`,
    plan: 'SINGLE',
    amount_cents: 4560,
    due_date: '2030-12-31',
  })) as number[];
  if (opts.ccp !== undefined) {
    await db('payment_attempts').insert({
      payment_id: `att-${positionSeq}-${iuv}`.slice(0, 36),
      debt_position_id: positionId,
      payment_option_id: optionId,
      channel: 'RPT',
      amount_cents: 4560,
      ccp: opts.ccp,
    });
  }
  return Number(optionId);
}

type ReceiptRow = {
  id: number;
  domain_id: string;
  iuv: string;
  receipt_key: string;
  source: string;
  outcome: string;
  amount_cents: number;
  state: string;
  state_reason: string | null;
  payload_hash: string;
  raw_xml: string;
  parsed: unknown;
  payment_option_id: number | null;
  debt_position_id: number | null;
  payment_attempt_id: number | null;
  notice_number: string | null;
};

/** mysql2 hands a JSON column back parsed or as text depending on the server's column type. */
const jsonColumn = (value: unknown): unknown =>
  typeof value === 'string' ? (JSON.parse(value) as unknown) : value;

const receiptsFor = (db: Db, iuv: string): Promise<ReceiptRow[]> =>
  db('receipts').where({ iuv }).select() as Promise<ReceiptRow[]>;

const count = async (db: Db, table: string): Promise<number> => {
  const row = (await db(table).count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
};

function newModelFault(text: string): { faultCode: string; id: string; description: string } {
  const res = parsePaSendRtResponse(text);
  if (res.outcome !== 'KO' || res.fault === undefined) throw new Error(`expected KO, got ${text}`);
  return {
    faultCode: res.fault.faultCode,
    id: res.fault.id,
    description: res.fault.description ?? '',
  };
}

function oldModelFault(text: string): { faultCode: string; id: string; description: string } {
  const res = parsePaaInviaRTResponse(text);
  if (res.outcome !== 'KO' || res.fault === undefined) throw new Error(`expected KO, got ${text}`);
  return {
    faultCode: res.fault.faultCode,
    id: res.fault.id,
    description: res.fault.description ?? '',
  };
}

/** The `receipt.failed` events the outbox holds for a receipt. */
async function heldEvents(db: Db, receiptId: number): Promise<Record<string, unknown>[]> {
  const rows = (await db('outbox_events').where({ type: 'receipt.failed' }).select('payload')) as {
    payload: string | Record<string, unknown>;
  }[];
  return rows
    .map((r) =>
      typeof r.payload === 'string'
        ? (JSON.parse(r.payload) as Record<string, unknown>)
        : r.payload,
    )
    .filter((p) => p['receiptId'] === receiptId);
}

/** The intake's batch-size histogram (count and sum per step), from the SOAP port's /metrics. */
async function intakeBatches(
  doorUrl: string,
): Promise<Record<'links' | 'insert' | 'enqueue', { count: number; sum: number }>> {
  const text = await (await fetch(new URL('/metrics', doorUrl))).text();
  const read = (step: string, what: 'count' | 'sum'): number =>
    Number(
      new RegExp(`receipt_intake_batch_size_${what}\\{step="${step}"\\} (\\d+)`).exec(text)?.[1] ??
        0,
    );
  const both = (step: string): { count: number; sum: number } => ({
    count: read(step, 'count'),
    sum: read(step, 'sum'),
  });
  return { links: both('links'), insert: both('insert'), enqueue: both('enqueue') };
}

describe('receipt intake over SOAP', () => {
  const mariadbProxy = new TcpProxy('127.0.0.1', 3306);
  const redisProxy = new TcpProxy('127.0.0.1', 6379);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Service;
  let queue: Queue;
  let paForNode: string;
  let paPerNodo: string;

  beforeAll(async () => {
    database = await createTestDatabase('soap_receipts');
    await mariadbProxy.start();
    await redisProxy.start();
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url.replace(':3306/', `:${mariadbProxy.port}/`),
        DATABASE_MIGRATE_ON_START: 'false',
        REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
        QUEUE_PREFIX,
      }),
      'soap',
    );
    paForNode = `http://127.0.0.1:${service.ports.soap}/pagopa/paForNode`;
    paPerNodo = `http://127.0.0.1:${service.ports.soap}/pagopa/PaPerNodo`;
    queue = new Queue(QUEUES.reconcile, {
      connection: { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 },
      prefix: QUEUE_PREFIX,
    });
  });

  afterAll(async () => {
    await mariadbProxy.restore().catch(() => undefined);
    await redisProxy.restore().catch(() => undefined);
    await service.stop();
    await queue.obliterate({ force: true });
    await queue.close();
    await mariadbProxy.cut();
    await redisProxy.cut();
    await database.drop();
  });

  describe('paSendRT', () => {
    const xml = fixture('pa-send-rt.ok.xml');
    const iuv = iuvOf(xml);
    const key = { domainId: DOMAIN, iuv, receiptKey: 'e1a7c0de0000000000000000000000101' };

    test('a receipt for a known notice is stored raw and parsed, enqueued by its business key, and answered OK', async () => {
      const optionId = await givenPosition(database.db, iuv);

      const res = await post(paForNode, xml);

      expect(res.status).toBe(200);
      expect(parsePaSendRtResponse(res.text)).toEqual({ version: 1, outcome: 'OK' });
      const [row, ...others] = await receiptsFor(database.db, iuv);
      expect(others).toHaveLength(0);
      expect(row).toMatchObject({
        domain_id: DOMAIN,
        receipt_key: key.receiptKey,
        source: 'PA_SEND_RT',
        outcome: 'PAID',
        amount_cents: 4560,
        state: 'RECEIVED',
        payment_option_id: optionId,
        notice_number: `3${iuv}`,
        raw_xml: xml,
      });
      const parsed = jsonColumn(row!.parsed) as Receipt;
      expect(parsed).toMatchObject({ receiptId: key.receiptKey, amountCents: 4560 });
      // Hashed by identity, so a copy recovered from biz-events is the same receipt.
      expect(row!.payload_hash).toBe(contentHash(receiptIdentity(parsed)));
      const history = await receiptHistory(database.db, Number(row!.id));
      expect(history).toEqual([
        expect.objectContaining({ fromState: null, toState: 'RECEIVED', actor: 'soap-intake' }),
      ]);
      const job = await queue.getJob(reconcileJobId(key));
      expect(job?.data).toEqual({ receiptId: row!.id });
    });

    test('an identical resend answers OK and stores and enqueues nothing new', async () => {
      const before = await Promise.all(
        ['receipts', 'receipt_state_changes', 'receipt_conflicts'].map((t) =>
          count(database.db, t),
        ),
      );
      // Remove the job, so a second enqueue would show (BullMQ would otherwise hide it by jobId).
      await (await queue.getJob(reconcileJobId(key)))?.remove();

      const res = await post(paForNode, xml);

      expect(parsePaSendRtResponse(res.text)).toEqual({ version: 1, outcome: 'OK' });
      const after = await Promise.all(
        ['receipts', 'receipt_state_changes', 'receipt_conflicts'].map((t) =>
          count(database.db, t),
        ),
      );
      expect(after).toEqual(before);
      expect(await queue.getJob(reconcileJobId(key))).toBeUndefined();
    });

    test('a resend that differs only in descriptive text (a name) is the same receipt: OK, nothing stored', async () => {
      const renamed = xml.replace(
        '<fullName>Mario Rossi</fullName>',
        '<fullName>ROSSI MARIO</fullName>',
      );
      const res = await post(paForNode, renamed);
      expect(parsePaSendRtResponse(res.text)).toEqual({ version: 1, outcome: 'OK' });
      const [row, ...others] = await receiptsFor(database.db, iuv);
      expect(others).toHaveLength(0);
      expect(row!.raw_xml).toBe(xml);
      expect(await database.db('receipt_conflicts').where({ receipt_id: row!.id })).toHaveLength(0);
    });

    test('the same key with different content is PAA_RECEIPT_DUPLICATA, kept once as a conflict, never applied', async () => {
      // Another account credited: a different receipt, whatever the rest says.
      const modified = xml.replace(
        '<IBAN>IT60X0542811101000000123456</IBAN>',
        '<IBAN>IT02A0301503200000003517230</IBAN>',
      );
      const [original] = await receiptsFor(database.db, iuv);

      const first = await post(paForNode, modified);
      const again = await post(paForNode, modified);

      for (const res of [first, again]) {
        expect(res.status).toBe(200);
        expect(newModelFault(res.text)).toMatchObject({
          faultCode: 'PAA_RECEIPT_DUPLICATA',
          id: DOMAIN,
        });
      }
      const [row, ...others] = await receiptsFor(database.db, iuv);
      expect(others).toHaveLength(0);
      expect(row!.payload_hash).toBe(original!.payload_hash);
      expect(row!.raw_xml).toBe(xml);
      const conflicts = (await database.db('receipt_conflicts').where({
        receipt_id: row!.id,
      })) as { raw_xml: string }[];
      expect(conflicts).toHaveLength(1);
      expect(conflicts[0]!.raw_xml).toBe(modified);
    });

    test('concurrent identical resends all answer OK and leave one receipt', async () => {
      const concurrent = fixture('pa-send-rt.multi-transfer.xml');
      const concurrentIuv = iuvOf(concurrent);
      await givenPosition(database.db, concurrentIuv);

      const answers = await Promise.all(
        Array.from({ length: 12 }, () => post(paForNode, concurrent)),
      );

      for (const res of answers) {
        expect(parsePaSendRtResponse(res.text)).toEqual({ version: 1, outcome: 'OK' });
      }
      expect(await receiptsFor(database.db, concurrentIuv)).toHaveLength(1);
    });

    test('receipts arriving together share statements, and each gets its own row, id and job', async () => {
      const before = await intakeBatches(paForNode);
      const bodies = Array.from({ length: 24 }, (_, i) => {
        const nav = makeNoticeNumber({
          auxDigit: 3,
          segregationCode: '02',
          base: `8${String(process.pid % 1_000_000).padStart(6, '0')}${String(i).padStart(6, '0')}`,
        });
        return {
          iuv: nav.slice(1),
          receiptKey: `together-${i}`,
          xml: xml
            .replace(/<receiptId>[^<]+</, `<receiptId>together-${i}<`)
            .replace(/<noticeNumber>\d+</, `<noticeNumber>${nav}<`)
            .replace(/<creditorReferenceId>\d+</, `<creditorReferenceId>${nav.slice(1)}<`),
        };
      });
      // Every fourth one has no position: held QUARANTINED, outside the batches, still OK.
      const optionIds = await Promise.all(
        bodies.map((b, i) =>
          i % 4 === 3 ? Promise.resolve(undefined) : givenPosition(database.db, b.iuv),
        ),
      );

      const answers = await Promise.all(bodies.map((b) => post(paForNode, b.xml)));

      for (const res of answers) {
        expect(parsePaSendRtResponse(res.text)).toEqual({ version: 1, outcome: 'OK' });
      }
      for (const [i, b] of bodies.entries()) {
        const [row, ...others] = await receiptsFor(database.db, b.iuv);
        expect(others).toHaveLength(0);
        expect(row).toMatchObject({
          receipt_key: b.receiptKey,
          raw_xml: b.xml,
          state: optionIds[i] === undefined ? 'QUARANTINED' : 'RECEIVED',
          payment_option_id: optionIds[i] ?? null,
        });
        const job = await queue.getJob(
          reconcileJobId({ domainId: DOMAIN, iuv: b.iuv, receiptKey: b.receiptKey }),
        );
        // The id read back from the batched insert is this receipt's own.
        expect(job?.data).toEqual(optionIds[i] === undefined ? undefined : { receiptId: row!.id });
      }
      const after = await intakeBatches(paForNode);
      const inserted = after.insert.sum - before.insert.sum;
      const statements = after.insert.count - before.insert.count;
      expect(inserted).toBe(18);
      // Sent at once over separate connections, they cannot all have gone one by one.
      expect(statements).toBeLessThan(18);
      expect(after.links.sum - before.links.sum).toBe(24);
    });

    test('paSendRTV2 with a marca da bollo transfer is stored as PA_SEND_RT_V2', async () => {
      const v2 = fixture('pa-send-rt-v2.ok.stamp.xml');
      await givenPosition(database.db, iuvOf(v2));

      const res = await post(paForNode, v2);

      expect(parsePaSendRtResponse(res.text)).toEqual({ version: 2, outcome: 'OK' });
      const [row] = await receiptsFor(database.db, iuvOf(v2));
      expect(row).toMatchObject({ source: 'PA_SEND_RT_V2', amount_cents: 1652, state: 'RECEIVED' });
      const parsed = jsonColumn(row!.parsed) as { transfers: { stamp?: unknown }[] };
      expect(parsed.transfers[1]?.stamp).toBeDefined();
    });

    test('a receipt for a notice nobody issued is stored QUARANTINED with a reason, answered OK, and not enqueued', async () => {
      const unknown = fixture('pa-send-rt.unknown-notice.xml');
      const unknownIuv = iuvOf(unknown);

      const res = await post(paForNode, unknown);

      expect(parsePaSendRtResponse(res.text)).toEqual({ version: 1, outcome: 'OK' });
      const [row] = await receiptsFor(database.db, unknownIuv);
      expect(row).toMatchObject({ state: 'QUARANTINED', payment_option_id: null });
      expect(row!.state_reason).toMatch(/no payment option/);
      // The ERP is told that money arrived that nothing was credited with.
      expect(await heldEvents(database.db, Number(row!.id))).toEqual([
        expect.objectContaining({
          state: 'QUARANTINED',
          reason: 'unknown-position',
          iuv: unknownIuv,
        }),
      ]);
      const jobId = reconcileJobId({
        domainId: DOMAIN,
        iuv: unknownIuv,
        receiptKey: 'e1a7c0de0000000000000000000000199',
      });
      expect(await queue.getJob(jobId)).toBeUndefined();
    });

    test('a wrong idPA is refused with PAA_ID_DOMINIO_ERRATO and, the receipt naming another creditor, not stored', async () => {
      const before = await count(database.db, 'receipts');
      const wrong = fixture('pa-send-rt.unknown-notice.xml')
        .replace('<idPA>80000000001</idPA>', '<idPA>80000000777</idPA>')
        .replace(/<receiptId>[^<]+</, '<receiptId>wrong-caller-idPA<');

      const res = await post(paForNode, wrong);

      expect(newModelFault(res.text).faultCode).toBe('PAA_ID_DOMINIO_ERRATO');
      expect(await count(database.db, 'receipts')).toBe(before);
    });

    test.each([
      [
        'idBrokerPA',
        'PAA_ID_INTERMEDIARIO_ERRATO',
        '<idBrokerPA>80000000099</idBrokerPA>',
        '<idBrokerPA>80000000098</idBrokerPA>',
      ],
      [
        'idStation',
        'PAA_STAZIONE_INT_ERRATA',
        '<idStation>80000000099_01</idStation>',
        '<idStation>80000000099_02</idStation>',
      ],
    ])(
      'a wrong %s is refused with %s, and the receipt is held QUARANTINED, not lost',
      async (what, code, from, to) => {
        const receiptId = `wrong-caller-${what}`;
        const wrong = fixture('pa-send-rt.unknown-notice.xml')
          .replace(from, to)
          .replace(/<receiptId>[^<]+</, `<receiptId>${receiptId}<`);

        const res = await post(paForNode, wrong);

        expect(newModelFault(res.text).faultCode).toBe(code);
        const held = await database.db('receipts').where({ receipt_key: receiptId });
        expect(held).toHaveLength(1);
        expect(held[0]).toMatchObject({ state: 'QUARANTINED' });
        expect(held[0].state_reason).toMatch(/^unexpected caller: /);

        // The node's resends find it held: the same fault, still one row, still one event.
        const again = await post(paForNode, wrong);
        expect(newModelFault(again.text).faultCode).toBe(code);
        expect(await database.db('receipts').where({ receipt_key: receiptId })).toHaveLength(1);
        expect(await heldEvents(database.db, Number(held[0].id))).toEqual([
          expect.objectContaining({ state: 'QUARANTINED', reason: 'unexpected-caller' }),
        ]);
      },
    );

    test('a misdirected receipt that is also invalid is refused with the caller fault and not stored', async () => {
      const before = await count(database.db, 'receipts');
      const wrong = fixture('pa-send-rt.unknown-notice.xml')
        .replace('<idStation>80000000099_01</idStation>', '<idStation>80000000099_02</idStation>')
        .replace(/<receiptId>[^<]+</, '<receiptId>wrong-and-invalid<')
        .replace(/<creditorReferenceId>(\d)/, '<creditorReferenceId>9');

      const res = await post(paForNode, wrong);

      expect(newModelFault(res.text).faultCode).toBe('PAA_STAZIONE_INT_ERRATA');
      expect(await count(database.db, 'receipts')).toBe(before);
    });

    test.each([
      [
        'pa-send-rt.amounts-mismatch.xml',
        'PAA_SEMANTICA',
        /paymentAmount 54\.60 != sum of transferAmount 45\.60/,
      ],
      ['pa-send-rt.future-date.xml', 'PAA_SEMANTICA', /paymentDateTime .* is in the future/],
      ['pa-send-rt.bad-amount.xml', 'PAA_SINTASSI_EXTRAXSD', /paymentAmount/],
    ])(
      '%s is refused with %s, the reason in description, nothing stored',
      async (name, code, reason) => {
        const before = await count(database.db, 'receipts');

        const res = await post(paForNode, fixture(name));

        expect(res.status).toBe(200);
        const fault = newModelFault(res.text);
        expect(fault).toMatchObject({ faultCode: code, id: DOMAIN });
        expect(fault.description).toMatch(reason);
        expect(res.text).not.toMatch(/at .*\.ts:\d+/);
        expect(await count(database.db, 'receipts')).toBe(before);
      },
    );

    test('a creditorReferenceId that is not the IUV of the notice number is PAA_SEMANTICA', async () => {
      const res = await post(
        paForNode,
        xml
          .replace(/<creditorReferenceId>\d+</, '<creditorReferenceId>02999999999999999<')
          .replace(/<receiptId>[^<]+</, '<receiptId>iuv-mismatch<'),
      );
      const fault = newModelFault(res.text);
      expect(fault.faultCode).toBe('PAA_SEMANTICA');
      expect(fault.description).toMatch(/not the IUV of noticeNumber/);
    });
  });

  describe('paaInviaRT', () => {
    test.each([
      [0, 'PAID', 2500],
      [1, 'NOT_PAID', 0],
      [2, 'PARTIAL', 5000],
      [3, 'TIMED_OUT', 0],
      [4, 'PARTIAL_TIMED_OUT', 2500],
    ])(
      'an RT with outcome %i is stored as %s crediting %i cents, linked to its attempt, and answered OK',
      async (code, outcome, cents) => {
        const xml = fixture(`paa-invia-rt.outcome${code}.xml`);
        const iuv = iuvOf(xml);
        const ccp = `ccp-outcome-${code}`;
        const optionId = await givenPosition(database.db, iuv, { ccp });

        const res = await post(paPerNodo, xml);

        expect(res.status).toBe(200);
        expect(parsePaaInviaRTResponse(res.text)).toEqual({ outcome: 'OK' });
        const [row, ...others] = await receiptsFor(database.db, iuv);
        expect(others).toHaveLength(0);
        expect(row).toMatchObject({
          source: 'PAA_INVIA_RT',
          receipt_key: ccp,
          outcome,
          amount_cents: cents,
          state: 'RECEIVED',
          payment_option_id: optionId,
          raw_xml: xml,
        });
        expect(row!.payment_attempt_id).not.toBeNull();
        const job = await queue.getJob(reconcileJobId({ domainId: DOMAIN, iuv, receiptKey: ccp }));
        expect(job?.data).toEqual({ receiptId: row!.id });
      },
    );

    test('an identical RT resend is OK; a modified one is PAA_RT_DUPLICATA and kept as a conflict', async () => {
      const xml = fixture('paa-invia-rt.outcome0.xml');
      const [original] = await receiptsFor(database.db, iuvOf(xml));
      const modified = xml.replace(/<rt>[\s\S]*<\/rt>/, (rt) => {
        const decoded = Buffer.from(rt.slice(4, -5).replace(/\s+/g, ''), 'base64').toString('utf8');
        const changed = decoded.replace('Luigia Verdi', 'Luigi Verdi');
        return `<rt>${Buffer.from(changed, 'utf8').toString('base64')}</rt>`;
      });

      const identical = await post(paPerNodo, xml);
      const conflict = await post(paPerNodo, modified);

      expect(parsePaaInviaRTResponse(identical.text)).toEqual({ outcome: 'OK' });
      expect(oldModelFault(conflict.text)).toMatchObject({
        faultCode: 'PAA_RT_DUPLICATA',
        id: DOMAIN,
      });
      const rows = await receiptsFor(database.db, iuvOf(xml));
      expect(rows).toHaveLength(1);
      expect(rows[0]!.payload_hash).toBe(original!.payload_hash);
      expect(
        await database.db('receipt_conflicts').where({ receipt_id: original!.id }),
      ).toHaveLength(1);
    });

    test.each([
      ['paa-invia-rt.rt-not-base64.xml', 'PAA_SINTASSI_XSD', /base64/],
      ['paa-invia-rt.rt-breaks-xsd.xml', 'PAA_SINTASSI_XSD', /datiPagamento/],
      [
        'paa-invia-rt.total-mismatch.xml',
        'PAA_SEMANTICA',
        /importoTotalePagato 30\.00 != sum of lines 25\.00/,
      ],
      ['paa-invia-rt.header-mismatch.xml', 'PAA_SEMANTICA', /header IUV/],
    ])('%s is refused with %s and nothing is stored', async (name, code, reason) => {
      const before = await count(database.db, 'receipts');

      const res = await post(paPerNodo, fixture(name));

      const fault = oldModelFault(res.text);
      expect(fault).toMatchObject({ faultCode: code, id: DOMAIN });
      expect(fault.description).toMatch(reason);
      expect(await count(database.db, 'receipts')).toBe(before);
    });

    test.each([
      [
        'identificativoDominio',
        'PAA_ID_DOMINIO_ERRATO',
        /(<identificativoDominio>)80000000001/,
        '$180000000777',
      ],
      [
        'identificativoIntermediarioPA',
        'PAA_ID_INTERMEDIARIO_ERRATO',
        /(<identificativoIntermediarioPA>)80000000099/,
        '$180000000098',
      ],
      [
        'identificativoStazioneIntermediarioPA',
        'PAA_STAZIONE_INT_ERRATA',
        /(<identificativoStazioneIntermediarioPA>)80000000099_01/,
        '$180000000099_07',
      ],
    ])(
      'a wrong %s in intestazionePPT of an invalid RT is %s, nothing stored',
      async (_what, code, from, to) => {
        const before = await count(database.db, 'receipts');
        const res = await post(
          paPerNodo,
          fixture('paa-invia-rt.total-mismatch.xml').replace(from, to),
        );
        expect(oldModelFault(res.text).faultCode).toBe(code);
        expect(await count(database.db, 'receipts')).toBe(before);
      },
    );

    test('a paaInviaRT without the intestazionePPT header is PAA_SINTASSI_EXTRAXSD', async () => {
      const res = await post(
        paPerNodo,
        fixture('paa-invia-rt.outcome1.xml').replace(
          /<soapenv:Header>[\s\S]*<\/soapenv:Header>/,
          '',
        ),
      );
      expect(oldModelFault(res.text).faultCode).toBe('PAA_SINTASSI_EXTRAXSD');
    });
  });

  describe('outages', () => {
    test('with MariaDB down the answer is PAA_SYSTEM_ERROR (the node retries); once it is back the resend is stored', async () => {
      const xml = fixture('pa-send-rt.ok.xml').replace(
        /<receiptId>[^<]+</,
        '<receiptId>outage-mariadb<',
      );
      const iuv = iuvOf(xml);
      await mariadbProxy.cut();
      try {
        const res = await post(paForNode, xml);
        expect(newModelFault(res.text)).toMatchObject({
          faultCode: 'PAA_SYSTEM_ERROR',
          id: DOMAIN,
        });
        expect(res.text).not.toMatch(/ECONNREFUSED|at .*\.ts/);
      } finally {
        await mariadbProxy.restore();
      }
      expect(
        await database.db('receipts').where({ iuv, receipt_key: 'outage-mariadb' }),
      ).toHaveLength(0);

      const retried = await post(paForNode, xml);

      expect(parsePaSendRtResponse(retried.text)).toEqual({ version: 1, outcome: 'OK' });
      expect(
        await database.db('receipts').where({ iuv, receipt_key: 'outage-mariadb' }),
      ).toHaveLength(1);
    }, 30_000);

    test('with Redis down after the commit the answer is still OK, within a second, and the receipt waits RECEIVED for the sweeper', async () => {
      const xml = fixture('pa-send-rt.ok.xml').replace(
        /<receiptId>[^<]+</,
        '<receiptId>outage-redis<',
      );
      const iuv = iuvOf(xml);
      const key = { domainId: DOMAIN, iuv, receiptKey: 'outage-redis' };
      await redisProxy.cut();
      let elapsedMs: number;
      try {
        const started = Date.now();
        const res = await post(paForNode, xml);
        elapsedMs = Date.now() - started;
        expect(parsePaSendRtResponse(res.text)).toEqual({ version: 1, outcome: 'OK' });
      } finally {
        await redisProxy.restore();
      }
      expect(elapsedMs).toBeLessThan(1_000);
      const rows = await database.db('receipts').where({ iuv, receipt_key: 'outage-redis' });
      expect(rows).toEqual([expect.objectContaining({ state: 'RECEIVED' })]);
      expect(await queue.getJob(reconcileJobId(key))).toBeUndefined();
    }, 30_000);
  });

  describe('IP allowlist', () => {
    let restricted: Service;
    let tmpDir: string;

    beforeAll(async () => {
      tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'receipts-allowlist-'));
      const demo = JSON.parse(
        fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'domains.demo.json'), 'utf8'),
      ) as { domains: { allowedIps?: string[] }[] };
      demo.domains[0]!.allowedIps = ['10.11.12.13'];
      const file = path.join(tmpDir, 'domains.json');
      fs.writeFileSync(file, JSON.stringify(demo));
      restricted = await startTestService(
        testConfig({
          DATABASE_URL: database.url,
          DATABASE_MIGRATE_ON_START: 'false',
          QUEUE_PREFIX,
          DOMAINS_FILE: file,
        }),
        'soap',
      );
    });

    afterAll(async () => {
      await restricted.stop();
      fs.rmSync(tmpDir, { recursive: true, force: true });
    });

    test('a call from an address outside the domain allowlist is refused and nothing is stored', async () => {
      const before = await count(database.db, 'receipts');
      const res = await post(
        `http://127.0.0.1:${restricted.ports.soap}/pagopa/paForNode`,
        fixture('pa-send-rt.ok.xml').replace(/<receiptId>[^<]+</, '<receiptId>from-outside<'),
      );
      expect(newModelFault(res.text).faultCode).toBe('PAA_ID_INTERMEDIARIO_ERRATO');
      expect(await count(database.db, 'receipts')).toBe(before);
    });
  });
});
