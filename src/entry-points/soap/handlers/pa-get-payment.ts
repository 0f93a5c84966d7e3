import {
  buildPaGetPaymentResponse,
  readPaGetPaymentRequest,
  type PaGetPaymentVersion,
  type PaymentTransfer,
} from '../../../adapters/pagopa/pa-for-node';
import { optText } from '../../../adapters/pagopa/xml';
import { recordPendingAttempt } from '../../../data-access/notice-lookup-repository';
import { AppError } from '../../../domain/errors';
import type { StatedTransfer } from '../../../domain/positions/payable-notice';
import { checkCaller } from '../caller';
import type { SoapDeps } from '../index';
import type { SoapOperation } from '../operations';
import { assertOwnNotice, loadPayableNotice, paymentMetadata, xsdEmail } from './notice-common';

/**
 * paGetPayment (V1) and paGetPaymentV2: the node is about to collect a notice and asks for the
 * payment data: today's amount, the transfers (postal IBANs when `transferType=POSTAL`, the marca
 * da bollo in V2), the taxonomy code as transferCategory, metadata.
 *
 * Activation: an OK answer means "you may collect". We record it as a PENDING payment attempt
 * (channel NOTICE) on the option, one per option however often the node asks, so recovery can
 * find payments whose receipt never arrived. The request carries no paymentToken (paForNode.xsd):
 * the token first reaches us as the receipt's receiptId. The attempt is written after the answer
 * is built, so an answer we cannot build leaves nothing behind.
 */
export function paGetPaymentOperations(deps: SoapDeps): SoapOperation[] {
  const operation = (name: string, version: PaGetPaymentVersion): SoapOperation => ({
    name,
    service: 'paForNode',
    handle: async (payload, ctx) => {
      const request = readPaGetPaymentRequest(version, payload);
      const { station, notice: ref } = request;
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
        { postal: request.transferType === 'POSTAL' },
      );
      if (version === 1 && notice.hasStamp) {
        throw new AppError(
          'xml-semantic-invalid',
          `notice ${ref.noticeNumber} includes a marca da bollo, which paGetPayment (V1) cannot carry: the station must call paGetPaymentV2`,
        );
      }
      const email = xsdEmail(position.debtor.email);
      const answer = buildPaGetPaymentResponse(version, {
        outcome: 'OK',
        payment: {
          iuv: notice.option.iuv,
          amountCents: notice.amountCents,
          dueDate: notice.dueDate,
          description: position.description,
          companyName: domain.name,
          ...(domain.office === undefined ? {} : { officeName: domain.office }),
          debtor: {
            idType: position.debtor.type,
            idValue: position.debtor.fiscalCode,
            fullName: position.debtor.fullName,
            ...(email === undefined ? {} : { email }),
          },
          transfers: notice.transfers.map(wireTransfer),
          metadata: paymentMetadata(position),
        },
      });
      await recordPendingAttempt(deps.db, {
        domainId: domain.fiscalCode,
        iuv: notice.option.iuv,
        channel: 'NOTICE',
        amountCents: notice.amountCents,
      });
      return answer;
    },
    ko: (fault) => buildPaGetPaymentResponse(version, { outcome: 'KO', fault }),
    domainOf: (payload) => optText(payload, 'idPA'),
  });
  return [operation('paGetPaymentReq', 1), operation('paGetPaymentV2Request', 2)];
}

function wireTransfer(t: StatedTransfer): PaymentTransfer {
  const head = {
    transferId: t.index,
    amountCents: t.amountCents,
    domainFiscalCode: t.beneficiaryFiscalCode,
    remittanceInformation: t.remittanceInformation,
    transferCategory: t.taxonomyCode,
  };
  if (t.stamp !== undefined) {
    return {
      ...head,
      stamp: {
        hashDocument: t.stamp.documentHash,
        stampType: t.stamp.type,
        provincialResidence: t.stamp.province,
      },
    };
  }
  return { ...head, iban: t.iban };
}
