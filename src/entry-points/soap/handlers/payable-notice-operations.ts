import type { SoapDeps } from '../index';
import type { SoapOperation } from '../operations';
import { paDemandPaymentNoticeOperations } from './pa-demand-payment-notice';
import { paGetPaymentOperations } from './pa-get-payment';
import { paVerifyPaymentNoticeOperations } from './pa-verify-payment-notice';
import { paaAttivaRptOperations } from './paa-attiva-rpt';
import { paaVerificaRptOperations } from './paa-verifica-rpt';

/**
 * Every primitive the node calls about a notice before it is paid: verify, get payment (V1, V2),
 * demand (new model), and paaVerificaRPT / paaAttivaRPT (old model 3).
 */
export function payableNoticeOperations(deps: SoapDeps): SoapOperation[] {
  return [
    ...paVerifyPaymentNoticeOperations(deps),
    ...paGetPaymentOperations(deps),
    ...paDemandPaymentNoticeOperations(deps),
    ...paaVerificaRptOperations(deps),
    ...paaAttivaRptOperations(deps),
  ];
}
