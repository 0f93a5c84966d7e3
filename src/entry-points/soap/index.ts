import type { Queue } from 'bullmq';
import type { Db } from '../../data-access/db';
import type { AcceptReceiptDeps } from '../../domain/receipts/accept-receipt';
import type { Config } from '../../shared/config';
import type { Domains } from '../../shared/domains-config';
import type { Logger } from '../../shared/logger';
import type { SoapOperation } from './operations';
import { receiptOperations } from './handlers/pa-send-rt';
import { payableNoticeOperations } from './handlers/payable-notice-operations';

/** What the node-facing handlers may use. */
export type SoapDeps = {
  db: Db;
  domains: Domains;
  config: Config;
  logger: Logger;
  /** Producer for reconciliation jobs (fail-fast connection: Redis down never blocks an answer). */
  reconcileQueue: Queue;
  /** The process's one receipt intake (see receiptIntakeDeps), shared with MyPay's push door. */
  intake: AcceptReceiptDeps;
};

/**
 * Every primitive the node may call on us. A feature adds its operations here; the dispatcher
 * routes by service path and operation name.
 */
export function soapOperations(deps: SoapDeps): SoapOperation[] {
  return [...receiptOperations(deps), ...payableNoticeOperations(deps)];
}
