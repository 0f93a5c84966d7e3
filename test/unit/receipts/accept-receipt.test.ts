import { AppError } from '../../../src/domain/errors';
import {
  acceptReceipt,
  type AcceptReceiptDeps,
  type ReceiptInbox,
} from '../../../src/domain/receipts/accept-receipt';
import type {
  IncomingReceipt,
  NewReceipt,
  ReceiptLinks,
  StoreResult,
} from '../../../src/domain/receipts/types';
import { contentHash } from '../../../src/shared/hash';

const aReceipt = (overrides: Partial<IncomingReceipt> = {}): IncomingReceipt => ({
  key: { domainId: '80000000001', iuv: '02000000000010100', receiptKey: 'r-1' },
  source: 'PA_SEND_RT',
  noticeNumber: '302000000000010100',
  brokerId: '80000000099',
  stationId: '80000000099_01',
  outcome: 'PAID',
  amountCents: 4560,
  rawXml: '<x/>',
  parsed: { receiptId: 'r-1', amountCents: 4560 },
  ...overrides,
});

/** An in-memory inbox with the same key/hash rules as the MariaDB one. */
function memoryInbox(links: ReceiptLinks): ReceiptInbox & {
  stored: NewReceipt[];
  conflicts: string[];
} {
  const stored: NewReceipt[] = [];
  const conflicts: string[] = [];
  const keyOf = (r: NewReceipt): string => `${r.key.domainId}|${r.key.iuv}|${r.key.receiptKey}`;
  return {
    stored,
    conflicts,
    findLinks: () => Promise.resolve(links),
    store: (r): Promise<StoreResult> => {
      const i = stored.findIndex((s) => keyOf(s) === keyOf(r));
      if (i < 0) {
        stored.push(r);
        return Promise.resolve({ kind: 'stored', receiptId: stored.length });
      }
      if (stored[i]!.payloadHash === r.payloadHash) {
        return Promise.resolve({ kind: 'identical', receiptId: i + 1 });
      }
      const recorded = !conflicts.includes(r.payloadHash);
      if (recorded) conflicts.push(r.payloadHash);
      return Promise.resolve({ kind: 'conflict', receiptId: i + 1, recorded });
    },
  };
}

function deps(
  inbox: ReceiptInbox,
  schedule: AcceptReceiptDeps['scheduleReconcile'] = () => Promise.resolve(),
): AcceptReceiptDeps & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    inbox,
    scheduleReconcile: schedule,
    scheduleTimeoutMs: 50,
    hash: contentHash,
    log: { warn: (_o, msg) => warnings.push(msg), info: () => undefined },
    warnings,
  };
}

describe('acceptReceipt', () => {
  test('a new receipt for a known option is stored RECEIVED with its hash and links, then scheduled', async () => {
    const inbox = memoryInbox({ debtPositionId: 7, paymentOptionId: 9 });
    const scheduled: unknown[] = [];
    const d = deps(inbox, (id, key) => {
      scheduled.push({ id, key });
      return Promise.resolve();
    });

    const result = await acceptReceipt(d, aReceipt());

    expect(result).toEqual({ kind: 'accepted', receiptId: 1, state: 'RECEIVED', scheduled: true });
    expect(inbox.stored[0]).toMatchObject({
      state: 'RECEIVED',
      payloadHash: contentHash({ amountCents: 4560, receiptId: 'r-1' }),
      links: { debtPositionId: 7, paymentOptionId: 9 },
    });
    expect(scheduled).toEqual([{ id: 1, key: aReceipt().key }]);
  });

  test('a receipt for nothing known is QUARANTINED with a reason and not scheduled', async () => {
    const inbox = memoryInbox({});
    let calls = 0;
    const d = deps(inbox, () => {
      calls += 1;
      return Promise.resolve();
    });

    const result = await acceptReceipt(d, aReceipt({ attemptCcp: 'ccp-9' }));

    expect(result).toMatchObject({ kind: 'accepted', state: 'QUARANTINED', scheduled: false });
    expect(inbox.stored[0]?.stateReason).toBe(
      'no payment option for domain 80000000001 IUV 02000000000010100 nor a payment attempt with CCP ccp-9',
    );
    expect(calls).toBe(0);
  });

  test('a misdirected receipt is QUARANTINED with the caller reason even for a known option', async () => {
    const inbox = memoryInbox({ debtPositionId: 7, paymentOptionId: 9 });
    let calls = 0;
    const d = deps(inbox, () => {
      calls += 1;
      return Promise.resolve();
    });

    const result = await acceptReceipt(
      d,
      aReceipt({ misdirected: 'idStation 80000000099_02 is not the station of 80000000001' }),
    );

    expect(result).toMatchObject({ kind: 'accepted', state: 'QUARANTINED', scheduled: false });
    expect(inbox.stored[0]).toMatchObject({
      state: 'QUARANTINED',
      stateReason: 'unexpected caller: idStation 80000000099_02 is not the station of 80000000001',
      links: { debtPositionId: 7, paymentOptionId: 9 },
    });
    expect(calls).toBe(0);
  });

  test('an identical resend is already-accepted and is not scheduled again', async () => {
    const inbox = memoryInbox({ paymentOptionId: 1 });
    let calls = 0;
    const d = deps(inbox, () => {
      calls += 1;
      return Promise.resolve();
    });
    await acceptReceipt(d, aReceipt());

    // Same content, fields in another order: the canonical hash is the same.
    const again = await acceptReceipt(
      d,
      aReceipt({ parsed: { amountCents: 4560, receiptId: 'r-1' } }),
    );

    expect(again).toEqual({ kind: 'already-accepted', receiptId: 1 });
    expect(calls).toBe(1);
    expect(inbox.stored).toHaveLength(1);
  });

  test('the same key with different content throws receipt-modified after the conflict is recorded', async () => {
    const inbox = memoryInbox({ paymentOptionId: 1 });
    const d = deps(inbox);
    await acceptReceipt(d, aReceipt());

    const modified = aReceipt({ parsed: { receiptId: 'r-1', amountCents: 9999 } });
    const attempt = acceptReceipt(d, modified);

    await expect(attempt).rejects.toBeInstanceOf(AppError);
    await expect(acceptReceipt(d, modified)).rejects.toMatchObject({ code: 'receipt-modified' });
    expect(inbox.conflicts).toHaveLength(1);
    expect(inbox.stored).toHaveLength(1);
  });

  test('a failing enqueue does not fail the acceptance: it is logged for the sweeper', async () => {
    const d = deps(memoryInbox({ paymentOptionId: 1 }), () =>
      Promise.reject(new Error('Stream isn’t writeable')),
    );

    const result = await acceptReceipt(d, aReceipt());

    expect(result).toMatchObject({ kind: 'accepted', state: 'RECEIVED', scheduled: false });
    expect(d.warnings).toEqual(['reconcile enqueue failed; the sweeper will enqueue it']);
  });

  test('a hanging enqueue is given up after the timeout, and its late failure is not unhandled', async () => {
    let rejectLate: (err: Error) => void = () => undefined;
    const d = deps(
      memoryInbox({ paymentOptionId: 1 }),
      () => new Promise<void>((_resolve, reject) => (rejectLate = reject)),
    );
    const started = Date.now();

    const result = await acceptReceipt(d, aReceipt());

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result).toMatchObject({ scheduled: false });
    rejectLate(new Error('late'));
    await new Promise((r) => setImmediate(r));
  });

  test('an inbox failure propagates (the door answers a system error, the node retries)', async () => {
    const inbox: ReceiptInbox = {
      findLinks: () => Promise.resolve({ paymentOptionId: 1 }),
      store: () => Promise.reject(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })),
    };
    await expect(acceptReceipt(deps(inbox), aReceipt())).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});
