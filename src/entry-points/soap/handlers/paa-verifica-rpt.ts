import {
  buildPaaVerificaRPTResponse,
  parsePaaVerificaRPTRequest,
} from '../../../adapters/pagopa/old-model-soap';
import type { SoapDeps } from '../index';
import type { SoapOperation } from '../operations';
import {
  creditorPaymentData,
  headerDomainOf,
  loadRptNotice,
  parseEnvelope,
} from './old-model-notice';

/**
 * paaVerificaRPT (old model 3): a PSP asks, through the node, what the notice whose IUV is in the
 * intestazionePPT header costs today. Read-only, answered from the same positions as
 * paVerifyPaymentNotice, with the same PAA_PAGAMENTO_* faults.
 */
export function paaVerificaRptOperations(deps: SoapDeps): SoapOperation[] {
  return [
    {
      name: 'paaVerificaRPT',
      service: 'PaPerNodoPagamentoPsp',
      handle: async (_payload, ctx) => {
        const request = parseEnvelope(parsePaaVerificaRPTRequest, ctx.rawXml);
        const { domain, loaded } = await loadRptNotice(deps, request.header, ctx.remoteAddress);
        return buildPaaVerificaRPTResponse({
          outcome: 'OK',
          paymentData: creditorPaymentData(domain, loaded),
        });
      },
      ko: (fault) => buildPaaVerificaRPTResponse({ outcome: 'KO', fault }),
      domainOf: (_payload, header) => headerDomainOf(header),
    },
  ];
}
