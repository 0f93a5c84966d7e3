import { z } from 'zod';
import {
  ATTEMPT_CHANNELS,
  ATTEMPT_STATUSES,
  findPayment,
  listPaymentsByIuv,
  type StoredPayment,
} from '../../../data-access/payments-repository';
import { AppError } from '../../../domain/errors';
import { POSITION_KINDS } from '../../../domain/positions/types';
import type { DomainConfig } from '../../../shared/domains-config';
import type { ApiDeps } from './index';
import { defineRoute, ProblemSchema, type RouteSpec } from './route';

/**
 * The read side of payments (`GET /api/v1/payments/...`), and the small helpers every list and
 * every domain-scoped route of the positions feature shares: the domain a request is about, and
 * keyset paging with an opaque cursor.
 */

export const FiscalCodePA = z.string().regex(/^\d{11}$/, 'must be 11 digits');

/**
 * The domain a request names, or the deployment's default one when it names none.
 * @throws AppError('domain-unknown') when the domain is not served, or none is named and there is no default.
 */
export function resolveDomain(deps: ApiDeps, fiscalCode: string | undefined): DomainConfig {
  const domain = deps.domains.resolve(fiscalCode);
  if (domain === undefined) {
    throw new AppError(
      'domain-unknown',
      fiscalCode === undefined
        ? 'this deployment serves several domains and has no default: name the domain'
        : `domain ${fiscalCode} is not served by this deployment`,
    );
  }
  return domain;
}

/** The page size a list accepts: 1 to API_PAGE_SIZE_MAX, 50 (or the max, if lower) when absent. */
export const pageLimit = (deps: ApiDeps) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(deps.config.apiPageSizeMax)
    .default(Math.min(50, deps.config.apiPageSizeMax));

export const CursorParam = z.string().min(1).max(200);

/**
 * Cursors are opaque to callers: base64url of the list's name and the last id served. Binding the
 * list's name means a cursor from one list cannot be replayed on another.
 */
export function encodeCursor(list: string, lastId: number): string {
  return Buffer.from(JSON.stringify({ l: list, a: lastId })).toString('base64url');
}

/**
 * The last id served, from a cursor this API gave for the same list.
 * @throws AppError('invalid-input') for anything else.
 */
export function decodeCursor(list: string, cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      (parsed as { l?: unknown }).l === list &&
      Number.isSafeInteger((parsed as { a?: unknown }).a)
    ) {
      return (parsed as { a: number }).a;
    }
  } catch {
    // Falls through to the refusal below.
  }
  throw new AppError('invalid-input', 'query.cursor: is not a cursor this list gave', {
    errors: [{ path: 'query.cursor', message: 'is not a cursor this list gave' }],
  });
}

/** A page of `limit` items from `fetched` (fetched with limit + 1) and the cursor to the next. */
export function page<T extends { id: number }>(
  list: string,
  fetched: readonly T[],
  limit: number,
): { items: T[]; nextCursor: string | null } {
  const items = fetched.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: fetched.length > limit && last !== undefined ? encodeCursor(list, last.id) : null,
  };
}

export const PaymentOut = z.object({
  paymentId: z.string(),
  status: z.enum(ATTEMPT_STATUSES),
  amountCents: z.number().int(),
  domain: z.string(),
  iuv: z.string(),
  noticeNumber: z.string(),
  channel: z.enum(ATTEMPT_CHANNELS),
  checkoutUrl: z.string().optional(),
  debtPosition: z.object({ externalId: z.string(), kind: z.enum(POSITION_KINDS) }),
  createdAt: z.string(),
});

const toPaymentOut = (p: StoredPayment): z.output<typeof PaymentOut> => ({
  paymentId: p.paymentId,
  status: p.status,
  amountCents: p.amountCents,
  domain: p.domainId,
  iuv: p.iuv,
  noticeNumber: p.noticeNumber,
  channel: p.channel,
  ...(p.checkoutUrl === null ? {} : { checkoutUrl: p.checkoutUrl }),
  debtPosition: { externalId: p.externalId, kind: p.kind },
  createdAt: p.createdAt.toISOString(),
});

/** Payments (EC-initiated attempts: top-ups today) by id, and by the IUV they pay. */
export function paymentsRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/payments/:paymentId',
      operationId: 'getPayment',
      summary: 'A payment (e.g. a top-up) and its status: PENDING until its receipt, then PAID',
      tags: ['payments'],
      roles: ['erp', 'operator'],
      params: z.strictObject({ paymentId: z.string().regex(/^[A-Za-z0-9-]{1,36}$/) }),
      responses: {
        200: { description: 'The payment', schema: PaymentOut },
        404: { description: 'No such payment', schema: ProblemSchema },
      },
      handler: async ({ params }) => {
        const payment = await findPayment(deps.db, params.paymentId);
        if (payment === undefined) {
          throw new AppError('not-found', `no payment ${params.paymentId}`);
        }
        return { status: 200, body: toPaymentOut(payment) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/payments',
      operationId: 'listPayments',
      summary: 'The payments made on the option with this IUV, oldest first',
      tags: ['payments'],
      roles: ['erp', 'operator'],
      query: z.strictObject({
        iuv: z.string().regex(/^[A-Za-z0-9]{1,35}$/, 'must be 1 to 35 letters or digits'),
        domain: FiscalCodePA.optional(),
        limit: pageLimit(deps),
        cursor: CursorParam.optional(),
      }),
      responses: {
        200: {
          description: 'A page of payments',
          schema: z.object({ items: z.array(PaymentOut), nextCursor: z.string().nullable() }),
        },
        422: { description: 'Unknown domain', schema: ProblemSchema },
      },
      handler: async ({ query }) => {
        const domain = resolveDomain(deps, query.domain);
        const fetched = await listPaymentsByIuv(deps.db, {
          domainId: domain.fiscalCode,
          iuv: query.iuv,
          afterId: decodeCursor('payments', query.cursor),
          limit: query.limit + 1,
        });
        const { items, nextCursor } = page('payments', fetched, query.limit);
        return { status: 200, body: { items: items.map(toPaymentOut), nextCursor } };
      },
    }),
  ];
}
