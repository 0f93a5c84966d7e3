import { z } from 'zod';
import { receiptsFeed } from '../../../data-access/receipts-feed-repository';
import type { ApiDeps } from './index';
import {
  CursorParam,
  decodeCursor,
  encodeCursor,
  FiscalCodePA,
  pageLimit,
  resolveDomain,
} from './payments-routes';
import { defineRoute, type RouteSpec } from './route';

const ReceiptOut = z.object({
  id: z.number().int(),
  domain: z.string(),
  iuv: z.string(),
  receiptKey: z.string().describe('receiptId (new model) or CCP (RT model)'),
  source: z.enum(['PA_SEND_RT', 'PA_SEND_RT_V2', 'PAA_INVIA_RT', 'MYPAY', 'RECOVERY']),
  noticeNumber: z.string().nullable(),
  outcome: z.enum(['PAID', 'NOT_PAID', 'PARTIAL', 'TIMED_OUT', 'PARTIAL_TIMED_OUT']),
  amountCents: z.number().int(),
  paidAt: z.string().nullable(),
  state: z.enum(['RECEIVED', 'RECONCILED', 'FAILED', 'QUARANTINED']),
  stateReason: z.string().nullable(),
  receivedAt: z.string(),
  reconciledAt: z.string().nullable(),
  debtPositionExternalId: z.string().nullable(),
});

const FEED = 'receipts';

/** The receipts feed the ERP pages through (webhooks push; this lets the ERP catch up). */
export function receiptsRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/receipts',
      operationId: 'receiptsFeed',
      summary:
        'Receipts in arrival order. Start with `since` (or from the beginning), then follow ' +
        '`nextCursor`: it is always present, so a caller that reached the end polls again with it.',
      tags: ['payments'],
      roles: ['erp', 'operator'],
      query: z.strictObject({
        domain: FiscalCodePA.optional(),
        since: z.iso.datetime({ offset: true }).optional(),
        cursor: CursorParam.optional(),
        limit: pageLimit(deps),
      }),
      responses: {
        200: {
          description: 'A page of the feed',
          schema: z.object({ items: z.array(ReceiptOut), nextCursor: z.string() }),
        },
      },
      handler: async ({ query }) => {
        const domain = resolveDomain(deps, query.domain);
        const afterId = decodeCursor(FEED, query.cursor);
        const rows = await receiptsFeed(deps.db, {
          domainId: domain.fiscalCode,
          limit: query.limit,
          lagMs: deps.config.receiptsFeedLagMs,
          ...(afterId === undefined ? {} : { afterId }),
          ...(query.since === undefined ? {} : { since: new Date(query.since) }),
        });
        const last = rows.at(-1)?.id ?? afterId ?? 0;
        return {
          status: 200,
          body: {
            items: rows.map((r) => ({
              id: r.id,
              domain: r.domainId,
              iuv: r.iuv,
              receiptKey: r.receiptKey,
              source: r.source,
              noticeNumber: r.noticeNumber,
              outcome: r.outcome,
              amountCents: r.amountCents,
              paidAt: r.paidAt?.toISOString() ?? null,
              state: r.state,
              stateReason: r.stateReason,
              receivedAt: r.receivedAt.toISOString(),
              reconciledAt: r.reconciledAt?.toISOString() ?? null,
              debtPositionExternalId: r.debtPositionExternalId,
            })),
            nextCursor: encodeCursor(FEED, last),
          },
        };
      },
    }),
  ];
}
