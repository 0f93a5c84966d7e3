import {
  buildPaVerifyPaymentNoticeResponse,
  readPaVerifyPaymentNoticeRequest,
} from '../../../adapters/pagopa/pa-for-node';
import { optText } from '../../../adapters/pagopa/xml';
import { checkCaller } from '../caller';
import type { SoapDeps } from '../index';
import type { SoapOperation } from '../operations';
import { assertOwnNotice, loadPayableNotice } from './notice-common';

/**
 * paVerifyPaymentNotice: the node asks what a notice costs today. Read-only and repeatable: one
 * option, at the amount in force today, with allCCP when every transfer can go to a postal
 * account (PAGOPA.md §2, §3).
 *
 * parse (PAA_SINTASSI_EXTRAXSD) → who is calling (PAA_ID_*) → the notice (PAA_PAGAMENTO_*).
 */
export function paVerifyPaymentNoticeOperations(deps: SoapDeps): SoapOperation[] {
  return [
    {
      name: 'paVerifyPaymentNoticeReq',
      service: 'paForNode',
      handle: async (payload, ctx) => {
        const { station, notice: ref } = readPaVerifyPaymentNoticeRequest(payload);
        const domain = checkCaller(
          deps.domains,
          { idPA: station.domainId, idBrokerPA: station.brokerId, idStation: station.stationId },
          ctx.remoteAddress,
        );
        assertOwnNotice(station.domainId, ref.domainFiscalCode);
        const { position, notice } = await loadPayableNotice(
          deps,
          domain,
          { noticeNumber: ref.noticeNumber },
          { postal: false },
        );
        return buildPaVerifyPaymentNoticeResponse({
          outcome: 'OK',
          paymentOption: {
            amountCents: notice.amountCents,
            amountOption: 'EQ',
            dueDate: notice.dueDate,
            detailDescription: position.description,
            allPostal: notice.allPostal,
          },
          paymentDescription: position.description,
          domainFiscalCode: domain.fiscalCode,
          companyName: domain.name,
          ...(domain.office === undefined ? {} : { officeName: domain.office }),
        });
      },
      ko: (fault) => buildPaVerifyPaymentNoticeResponse({ outcome: 'KO', fault }),
      domainOf: (payload) => optText(payload, 'idPA'),
    },
  ];
}
