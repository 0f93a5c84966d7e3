import { randomUUID } from 'node:crypto';
import {
  buildPaDemandPaymentNoticeResponse,
  parseCardTopUpDocument,
  readPaDemandPaymentNoticeRequest,
  type CardTopUp,
} from '../../../adapters/pagopa/pa-for-node';
import { optText } from '../../../adapters/pagopa/xml';
import { findCardByCode } from '../../../data-access/cards-repository';
import { insertTopUp } from '../../../data-access/positions-repository';
import { parseCardCode } from '../../../domain/codes/card-code';
import { AppError, isAppError } from '../../../domain/errors';
import { draftTopUp } from '../../../domain/positions/top-up';
import type { CardAccountName } from '../../../domain/positions/types';
import { checkCaller } from '../caller';
import type { SoapDeps } from '../index';
import type { SoapOperation } from '../operations';
import { noticeSchemeOf } from '../../../shared/domains-config';
import { today } from './notice-common';

/**
 * Our entries in the pagoPA service catalogue (wsdl/README.md, "Service catalogue"): the only
 * service is the card top-up, whose request document is wsdl/xsd/demand-card-top-up.xsd.
 */
export const CARD_TOP_UP_SERVICE_ID = '00001';
export const CARD_TOP_UP_SERVICE_SUBJECT_ID = '00001';

/** Prepaid accounts, topped up before use (PRODUCT.md); SCHOOL_TRANSPORT is billed, not topped up. */
const PREPAID_ACCOUNTS: readonly CardAccountName[] = ['CANTEEN', 'NURSERY_MEALS'];

/**
 * paDemandPaymentNotice: a PSP or a regional portal asks for a notice on demand: Capannori's
 * "pagamento spontaneo" with the Codice Iris. The base64 service document names the card code,
 * the account and the amount; we check the code's check digits with the domain's algorithm, the
 * account (prepaid, in the catalogue) and the domain's top-up limits, then create the top-up
 * exactly as `POST /api/v1/cards/{cardCode}/top-ups` does (draftTopUp + insertTopUp: a TOP_UP
 * position and a PENDING attempt) and answer with the new notice and its amount.
 *
 * The payer is unknown at this point, so the debtor of the notice is the card's holder. Each
 * demand is a new top-up: the primitive carries no idempotency key, and a repeated demand is, for
 * the node, a new request for a new notice. The answer is built inside the transaction, so a
 * failure at any step stores nothing.
 */
export function paDemandPaymentNoticeOperations(deps: SoapDeps): SoapOperation[] {
  return [
    {
      name: 'paDemandPaymentNoticeRequest',
      service: 'paForNode',
      handle: async (payload, ctx) => {
        const request = readPaDemandPaymentNoticeRequest(payload);
        const { station } = request;
        const domain = checkCaller(
          deps.domains,
          { idPA: station.domainId, idBrokerPA: station.brokerId, idStation: station.stationId },
          ctx.remoteAddress,
        );
        if (
          request.serviceId !== CARD_TOP_UP_SERVICE_ID ||
          request.serviceSubjectId !== CARD_TOP_UP_SERVICE_SUBJECT_ID
        ) {
          throw new AppError(
            'xml-semantic-invalid',
            `servizio ${request.serviceId}/${request.serviceSubjectId} non previsto: the catalogue has only ${CARD_TOP_UP_SERVICE_ID}/${CARD_TOP_UP_SERVICE_SUBJECT_ID} (card top-up)`,
          );
        }
        const topUp = readServiceDocument(request.serviceDataXml);
        try {
          parseCardCode(topUp.cardCode, domain.cardCodeAlgorithm);
        } catch (err) {
          if (!isAppError(err)) throw err;
          throw new AppError('card-code-invalid', `codice carta non valido: ${err.message}`);
        }
        const card = await findCardByCode(deps.db, topUp.cardCode);
        if (card === undefined || card.domainId !== domain.fiscalCode) {
          throw new AppError(
            'xml-semantic-invalid',
            `codice carta sconosciuto: no card ${topUp.cardCode} in domain ${domain.fiscalCode}`,
          );
        }
        const service = domain.services.find((s) => s.account === topUp.account);
        if (!PREPAID_ACCOUNTS.includes(topUp.account) || service === undefined) {
          throw new AppError(
            'xml-semantic-invalid',
            `account ${topUp.account} cannot be topped up: ${domain.fiscalCode} tops up ${PREPAID_ACCOUNTS.join(' and ')} only, when its catalogue has them`,
          );
        }
        const draft = draftTopUp(
          {
            account: topUp.account,
            amountCents: topUp.amountCents,
            payer: {
              type: 'F',
              fiscalCode: card.holder.fiscalCode,
              fullName: card.holder.fullName,
            },
          },
          {
            domainId: domain.fiscalCode,
            limits: domain.accounts[topUp.account],
            service,
            today: today(),
          },
        );
        const option = draft.options[0];
        if (option === undefined) throw new AppError('internal', 'a top-up has one option');
        return deps.db.transaction(async (trx) => {
          const stored = await insertTopUp(deps.db, trx, {
            paymentId: randomUUID(),
            draft,
            cardId: card.id,
            scheme: noticeSchemeOf(domain),
            returnUrl: null,
          });
          return buildPaDemandPaymentNoticeResponse({
            outcome: 'OK',
            notice: { domainFiscalCode: domain.fiscalCode, noticeNumber: stored.noticeNumber },
            paymentOption: {
              amountCents: option.amountCents,
              amountOption: 'EQ',
              dueDate: option.dueDate,
              detailDescription: draft.description,
              allPostal: service.postalIban !== undefined,
            },
            paymentDescription: draft.description,
            domainFiscalCode: domain.fiscalCode,
            companyName: domain.name,
            ...(domain.office === undefined ? {} : { officeName: domain.office }),
          });
        });
      },
      ko: (fault) => buildPaDemandPaymentNoticeResponse({ outcome: 'KO', fault }),
      domainOf: (payload) => optText(payload, 'idPA'),
    },
  ];
}

/**
 * The card top-up document inside datiSpecificiServizioRequest.
 * @throws AppError('xml-embedded-invalid') (PAA_SINTASSI_XSD) when it is not XML, not ours, or
 * breaks wsdl/xsd/demand-card-top-up.xsd.
 */
function readServiceDocument(xml: string): CardTopUp {
  try {
    return parseCardTopUpDocument(xml);
  } catch (err) {
    if (!isAppError(err)) throw err;
    throw new AppError(
      'xml-embedded-invalid',
      `datiSpecificiServizioRequest: ${err.message}`,
      {},
      { cause: err },
    );
  }
}
