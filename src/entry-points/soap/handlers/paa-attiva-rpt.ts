import {
  buildPaaAttivaRPTResponse,
  parsePaaAttivaRPTRequest,
} from '../../../adapters/pagopa/old-model-soap';
import { recordPendingAttempt } from '../../../data-access/notice-lookup-repository';
import { AppError, isAppError } from '../../../domain/errors';
import { checkActivationAmount } from '../../../domain/positions/payable-notice';
import { FAULT_STRINGS } from '../error-to-pa-fault';
import type { SoapDeps } from '../index';
import type { SoapOperation } from '../operations';
import {
  creditorPaymentData,
  headerDomainOf,
  loadRptNotice,
  parseEnvelope,
} from './old-model-notice';

const IMPORTO_NON_VALIDO = 'PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO';

/**
 * paaAttivaRPT (old model 3): the PSP activates the payment of a notice for an amount, with the
 * CCP it generated in the header. The amount must be the amount in force today; otherwise the
 * answer is KO PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO with datiPagamentoPA carrying the right amount,
 * so the PSP can activate again with it (PAGOPA.md §6).
 *
 * On success the CCP is recorded on a PENDING payment attempt (channel RPT), so the RT that comes
 * back links to it, and, in the same transaction, the RPT owed to the node (tipoVersamento PO,
 * this CCP, the PSP's route) is queued in activated_rpt_sends; the activated-RPT sender (worker)
 * sends it with nodoInviaRPT. Not sent here: the node expects this answer before the RPT, and a
 * node or Redis outage must not fail the activation. A repeated activation with the same CCP finds
 * the same attempt: it re-arms the same send (the PSP wants the RPT again), never a new attempt.
 * Only `rpt`-dialect domains queue it: the others have no RPT sender.
 *
 * Why the amount fault is answered here and not by the dispatcher's mapper: the mapper turns
 * 'amount-mismatch' into PAA_SEMANTICA, right for every other primitive; this one has its own code
 * and its KO carries data. (The dispatcher therefore counts this KO under outcome OK in its
 * latency metric.)
 */
export function paaAttivaRptOperations(deps: SoapDeps): SoapOperation[] {
  return [
    {
      name: 'paaAttivaRPT',
      service: 'PaPerNodoPagamentoPsp',
      handle: async (_payload, ctx) => {
        const request = parseEnvelope(parsePaaAttivaRPTRequest, ctx.rawXml);
        const { header } = request;
        const { domain, loaded } = await loadRptNotice(deps, header, ctx.remoteAddress);
        if (header.ccp.toLowerCase() === 'n/a') {
          throw new AppError(
            'xml-semantic-invalid',
            'codiceContestoPagamento n/a is for EC-initiated payments: a PSP activation needs its own CCP',
          );
        }
        const paymentData = creditorPaymentData(domain, loaded);
        try {
          checkActivationAmount(request.pspPaymentData.amountCents, loaded.notice);
        } catch (err) {
          if (!isAppError(err) || err.code !== 'amount-mismatch') throw err;
          return buildPaaAttivaRPTResponse({
            outcome: 'KO',
            fault: {
              faultCode: IMPORTO_NON_VALIDO,
              faultString: FAULT_STRINGS[IMPORTO_NON_VALIDO] ?? IMPORTO_NON_VALIDO,
              id: domain.fiscalCode,
              description: err.message,
            },
            paymentData,
          });
        }
        const answer = buildPaaAttivaRPTResponse({ outcome: 'OK', paymentData });
        await recordPendingAttempt(deps.db, {
          domainId: domain.fiscalCode,
          iuv: header.iuv,
          channel: 'RPT',
          amountCents: loaded.notice.amountCents,
          ccp: header.ccp,
          ...(domain.dialect === 'rpt'
            ? {
                sendTo: {
                  pspId: request.pspId,
                  pspBrokerId: request.pspBrokerId,
                  channelId: request.pspChannelId,
                },
              }
            : {}),
        });
        return answer;
      },
      ko: (fault) => buildPaaAttivaRPTResponse({ outcome: 'KO', fault }),
      domainOf: (_payload, header) => headerDomainOf(header),
    },
  ];
}
