import {
  buildPaSendRtResponse,
  readPaSendRtRequest,
  receiptIdentity,
  type PaSendRtVersion,
  type Receipt,
} from '../../../adapters/pagopa/pa-for-node';
import { optText } from '../../../adapters/pagopa/xml';
import { QUEUES, reconcileJobId } from '../../../adapters/queues';
import { receiptsRepository } from '../../../data-access/receipts-repository';
import { acceptReceipt, type AcceptReceiptDeps } from '../../../domain/receipts/accept-receipt';
import {
  assertNoProblems,
  noticeReceiptProblems,
  wireDateTime,
} from '../../../domain/receipts/semantics';
import type { IncomingReceipt, ReceiptBusinessKey } from '../../../domain/receipts/types';
import { microBatch } from '../../../shared/micro-batch';
import { contentHash } from '../../../shared/hash';
import { checkCaller } from '../caller';
import { deliveryFault } from './misdirected';
import type { SoapDeps } from '../index';
import type { SoapOperation } from '../operations';
import { paaInviaRtOperations } from './paa-invia-rt';

/** The answer never waits longer than this for Redis: the receipt is committed already. */
export const RECONCILE_ENQUEUE_TIMEOUT_MS = 500;

/** The job name of a receipt's reconciliation in the reconcile queue. */
export const RECONCILE_JOB_NAME = 'reconcile';

/** The most reconciliation jobs one Redis round trip carries. */
export const RECONCILE_ENQUEUE_BATCH_MAX = 64;

/** Told the size of each batch the intake runs: option lookups, inserts, enqueues. */
export type IntakeBatchObserver = (step: 'links' | 'insert' | 'enqueue', size: number) => void;

/**
 * What the receipt use case needs, wired to MariaDB and the reconcile queue. Shared by every
 * receipt primitive (paSendRT, paSendRTV2, paaInviaRT) and MyPay's outcome push: one intake per
 * process, so receipts arriving together through any door share statements and round trips.
 */
export function receiptIntakeDeps(
  deps: Omit<SoapDeps, 'intake'>,
  observeBatch?: IntakeBatchObserver,
): AcceptReceiptDeps {
  // The receipts stored in one turn are enqueued in one round trip (addBulk); a job id that
  // exists already is skipped by BullMQ, as with add.
  const enqueue = microBatch<{ receiptId: number; key: ReceiptBusinessKey }, void>({
    maxItems: RECONCILE_ENQUEUE_BATCH_MAX,
    run: async (items) => {
      await deps.reconcileQueue.addBulk(
        items.map(({ receiptId, key }) => ({
          name: RECONCILE_JOB_NAME,
          data: { receiptId },
          opts: { jobId: reconcileJobId(key) },
        })),
      );
      return items.map(() => ({ ok: true, value: undefined }));
    },
    onBatch: (size) => observeBatch?.('enqueue', size),
  });
  return {
    inbox: receiptsRepository(deps.db, {
      onBatch: (step, size) => observeBatch?.(step, size),
    }),
    scheduleReconcile: (receiptId, key) => enqueue({ receiptId, key }),
    scheduleTimeoutMs: RECONCILE_ENQUEUE_TIMEOUT_MS,
    hash: contentHash,
    log: deps.logger.child({ queue: QUEUES.reconcile }),
  };
}

/**
 * Every receipt primitive the node calls: paSendRT, paSendRTV2 (paForNode) and paaInviaRT
 * (PaPerNodo), sharing one intake (one repository, one queue producer).
 */
export function receiptOperations(deps: SoapDeps): SoapOperation[] {
  return [...paSendRtOperations(deps, deps.intake), ...paaInviaRtOperations(deps, deps.intake)];
}

/**
 * paSendRT and paSendRTV2 (new model): the node pushes the receipt of a payment.
 *
 * parse (XSD rules → PAA_SINTASSI_EXTRAXSD) → who is calling → semantic rules (PAA_SEMANTICA) →
 * store, enqueue → OK. A receipt delivered for the wrong domain, broker or station is stored
 * QUARANTINED, then refused with PAA_ID_* (see deliveryFault). A modified resend is PAA_RECEIPT_DUPLICATA, the database
 * down PAA_SYSTEM_ERROR (the node retries); see acceptReceipt for the rest.
 */
export function paSendRtOperations(deps: SoapDeps, intake: AcceptReceiptDeps): SoapOperation[] {
  const operation = (name: string, version: PaSendRtVersion): SoapOperation => ({
    name,
    service: 'paForNode',
    handle: async (payload, ctx) => {
      const request = readPaSendRtRequest(version, payload);
      const { station, receipt } = request;
      const misdirected = deliveryFault(() =>
        checkCaller(
          deps.domains,
          { idPA: station.domainId, idBrokerPA: station.brokerId, idStation: station.stationId },
          ctx.remoteAddress,
        ),
      );
      const paidAt =
        receipt.paymentDateTime === undefined ? undefined : wireDateTime(receipt.paymentDateTime);
      try {
        assertNoProblems(
          noticeReceiptProblems(
            {
              calledDomainId: station.domainId,
              noticeDomainId: receipt.domainFiscalCode,
              noticeNumber: receipt.noticeNumber,
              iuv: receipt.iuv,
              amountCents: receipt.amountCents,
              transfers: receipt.transfers.map((t) => ({
                domainId: t.domainFiscalCode,
                amountCents: t.amountCents,
              })),
              ...(paidAt === undefined ? {} : { paidAt }),
            },
            new Date(),
          ),
        );
      } catch (err) {
        // A delivery fault comes first: it is the one the node can act on.
        throw misdirected ?? err;
      }
      await acceptReceipt(
        intake,
        {
          ...incomingReceipt(version, request.station, receipt, ctx.rawXml, paidAt),
          ...(misdirected === undefined ? {} : { misdirected: misdirected.message }),
        },
        ctx.log,
      );
      if (misdirected !== undefined) throw misdirected;
      return buildPaSendRtResponse(version, { outcome: 'OK' });
    },
    ko: (fault) => buildPaSendRtResponse(version, { outcome: 'KO', fault }),
    domainOf: (payload) => optText(payload, 'idPA'),
  });
  return [operation('paSendRTReq', 1), operation('paSendRTV2Request', 2)];
}

function incomingReceipt(
  version: PaSendRtVersion,
  station: { domainId: string; brokerId: string; stationId: string },
  receipt: Receipt,
  rawXml: string,
  paidAt: Date | undefined,
): IncomingReceipt {
  const paid = receipt.outcome === 'OK';
  return {
    // The called domain is ours (checkCaller); for a secondary beneficiary it differs from the
    // notice's fiscalCode, and the IUV and receiptId still identify the payment.
    key: { domainId: station.domainId, iuv: receipt.iuv, receiptKey: receipt.receiptId },
    source: version === 1 ? 'PA_SEND_RT' : 'PA_SEND_RT_V2',
    noticeNumber: receipt.noticeNumber,
    brokerId: station.brokerId,
    stationId: station.stationId,
    outcome: paid ? 'PAID' : 'NOT_PAID',
    amountCents: paid ? receipt.amountCents : 0,
    ...(paidAt === undefined ? {} : { paidAt }),
    rawXml,
    parsed: receipt,
    // A recovered copy of this receipt (biz-events) must hash the same: compare the identity.
    hashed: receiptIdentity(receipt),
  };
}
