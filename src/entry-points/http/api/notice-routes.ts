import { z } from 'zod';
import { renderPaymentNotice } from '../../../adapters/notice-pdf/render-notice';
import { findPosition } from '../../../data-access/positions-repository';
import { AppError } from '../../../domain/errors';
import { romeDate } from '../../../domain/positions/dates';
import { noticeContent } from '../../../domain/positions/notice-document';
import type { ApiDeps } from './index';
import { FiscalCodePA, resolveDomain } from './payments-routes';
import { defineRoute, ProblemSchema, type RouteSpec } from './route';

/** The printable payment notice (avviso di pagamento) of a debt position. */
export function noticeRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/debt-positions/:externalId/notice.pdf',
      operationId: 'getPaymentNoticePdf',
      summary:
        'The PDF payment notice: creditor, debtor, amount(s) in force today, due date(s), notice ' +
        'number, QR code, and the Poste Data Matrix when the domain has a postal account; one page ' +
        'per instalment or alternative',
      tags: ['debt positions'],
      roles: ['erp', 'operator'],
      params: z.strictObject({ externalId: z.string().min(1).max(100) }),
      query: z.strictObject({ domain: FiscalCodePA.optional() }),
      responses: {
        200: { description: 'The notice', contentType: 'application/pdf' },
        404: { description: 'No such position', schema: ProblemSchema },
        409: { description: 'Paid or cancelled: nothing to print', schema: ProblemSchema },
      },
      handler: async ({ params, query }) => {
        const domain = resolveDomain(deps, query.domain);
        const position = await findPosition(deps.db, domain.fiscalCode, params.externalId);
        if (position === undefined) {
          throw new AppError(
            'not-found',
            `no debt position ${params.externalId} in domain ${domain.fiscalCode}`,
          );
        }
        const content = noticeContent(position, romeDate(new Date()));
        const pdf = await renderPaymentNotice({
          creditor: {
            fiscalCode: domain.fiscalCode,
            name: domain.name,
            ...(domain.office === undefined ? {} : { sector: domain.office }),
            ...(domain.cbillCode === undefined ? {} : { cbillCode: domain.cbillCode }),
            ...(domain.postalAccount === undefined
              ? {}
              : {
                  postalAccount: {
                    accountNumber: domain.postalAccount.accountNumber,
                    holderName: domain.postalAccount.holderName,
                    ...(domain.postalAccount.authorisationCode === undefined
                      ? {}
                      : { authorisationCode: domain.postalAccount.authorisationCode }),
                  },
                }),
          },
          debtor: content.debtor,
          subject: content.subject,
          plan: content.plan,
          options: content.options,
        });
        return {
          status: 200,
          body: pdf,
          contentType: 'application/pdf',
          headers: {
            'content-disposition': `inline; filename="avviso-${encodeURIComponent(params.externalId)}.pdf"`,
          },
        };
      },
    }),
  ];
}
