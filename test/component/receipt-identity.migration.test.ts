import fs from 'node:fs';
import path from 'node:path';
import {
  parsePaSendRtRequest,
  receiptIdentity,
  type Receipt,
} from '../../src/adapters/pagopa/pa-for-node';
import { up } from '../../src/data-access/migrations/20261123_0010_new_model_receipt_identity_hash';
import { receiptsRepository } from '../../src/data-access/receipts-repository';
import { acceptReceipt } from '../../src/domain/receipts/accept-receipt';
import { contentHash } from '../../src/shared/hash';
import { createTestDatabase } from '../helpers/db';
import { REPO_ROOT } from '../helpers/service';

/**
 * The migration to identity hashes: new-model receipts stored while the whole content was hashed
 * get their identity hash, so the node's resend of one after the upgrade is still identical.
 */
describe('migration 0010: new-model receipts hashed by identity', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const receipt: Receipt = parsePaSendRtRequest(
    fs.readFileSync(
      path.join(REPO_ROOT, 'fixtures', 'soap', 'intake', 'pa-send-rt.ok.xml'),
      'utf8',
    ),
  ).receipt;
  const key = {
    domainId: receipt.domainFiscalCode,
    iuv: receipt.iuv,
    receiptKey: receipt.receiptId,
  };

  beforeAll(async () => {
    database = await createTestDatabase('receipt_identity_migration');
  });
  afterAll(async () => {
    await database.drop();
  });

  test('a paSendRT row hashed whole is rehashed by identity; an RT row is left alone; a resend is then identical', async () => {
    const row = {
      outcome: 'PAID',
      amount_cents: receipt.amountCents,
      raw_xml: '<stored/>',
      state: 'QUARANTINED',
    };
    await database.db('receipts').insert([
      {
        ...row,
        domain_id: key.domainId,
        iuv: key.iuv,
        receipt_key: key.receiptKey,
        source: 'PA_SEND_RT',
        payload_hash: contentHash(receipt),
        parsed: JSON.stringify(receipt),
      },
      {
        ...row,
        domain_id: key.domainId,
        iuv: '01000000000000099',
        receipt_key: 'ccp-1',
        source: 'PAA_INVIA_RT',
        payload_hash: 'a'.repeat(64),
        parsed: JSON.stringify({ lines: [] }),
      },
    ]);

    await up(database.db);

    const hashes = (await database.db('receipts').select('source', 'payload_hash')) as {
      source: string;
      payload_hash: string;
    }[];
    expect(Object.fromEntries(hashes.map((h) => [h.source, h.payload_hash]))).toEqual({
      PA_SEND_RT: contentHash(receiptIdentity(receipt)),
      PAA_INVIA_RT: 'a'.repeat(64),
    });
    const resend = await acceptReceipt(
      {
        inbox: receiptsRepository(database.db),
        scheduleReconcile: () => Promise.resolve(),
        scheduleTimeoutMs: 500,
        hash: contentHash,
        log: { warn: () => undefined, info: () => undefined },
      },
      {
        key,
        source: 'PA_SEND_RT',
        brokerId: '77777777777',
        stationId: '77777777777_01',
        outcome: 'PAID',
        amountCents: receipt.amountCents,
        rawXml: '<resent/>',
        parsed: receipt,
        hashed: receiptIdentity(receipt),
      },
    );
    expect(resend.kind).toBe('already-accepted');
  });
});
