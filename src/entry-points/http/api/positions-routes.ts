import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  cancelPosition,
  findCardIdByCode,
  findPosition,
  insertTopUp,
  listPositions,
  OFFLINE_CHANNELS,
  recordOfflinePayment,
  savePosition,
  type StoredOfflinePayment,
  type StoredPosition,
} from '../../../data-access/positions-repository';
import { ACCOUNTS } from '../../../data-access/ledger-repository';
import { checkCardCode } from '../../../domain/cards/card-code-lookup';
import { parseNoticeNumber } from '../../../domain/codes/notice-number';
import { AppError } from '../../../domain/errors';
import { amountInForce } from '../../../domain/positions/amount-in-force';
import { romeDate } from '../../../domain/positions/dates';
import { OPTIONS_MAX } from '../../../domain/positions/plan';
import {
  AMOUNT_CENTS_MAX,
  draftPosition,
  SCHEDULE_STEPS_MAX,
  TEXT_MAX,
  TRANSFERS_MAX,
} from '../../../domain/positions/position-request';
import { draftTopUp } from '../../../domain/positions/top-up';
import {
  OPTION_STATUSES,
  POSITION_KINDS,
  POSITION_STATUSES,
  REQUESTED_PLANS,
  type Plan,
  type RequestedPlan,
} from '../../../domain/positions/types';
import {
  noticeSchemeOf,
  type DomainConfig,
  type ServiceConfig,
} from '../../../shared/domains-config';
import { contentHash } from '../../../shared/hash';
import { OnlinePaymentStarters, topUpCheckoutUrl } from './checkout-routes';
import { idempotencyKeyHeader, runIdempotent } from './idempotency';
import type { ApiDeps } from './index';
import {
  CursorParam,
  decodeCursor,
  FiscalCodePA,
  page,
  pageLimit,
  paymentsRoutes,
  resolveDomain,
} from './payments-routes';
import { defineRoute, ProblemSchema, type RouteSpec } from './route';

/**
 * The ERP's debt positions, card top-ups and offline payments, and (through paymentsRoutes) the
 * read side of payments. Handlers translate wire shapes, resolve the domain, its catalogue and
 * the card, and hand over to the pure rules (src/domain/positions) and the repository.
 *
 * Positions are keyed by (domain, externalId): the PUT body names the domain (`domain`), the
 * other routes take `?domain=`; both default to the deployment's default domain.
 */

// ---------------------------------------------------------------- wire schemas (requests)

const Day = z.iso.date();
const Cents = z.number().int().min(1).max(AMOUNT_CENTS_MAX);
const Iban = z.string().regex(/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/, 'must be an IBAN (no spaces)');
const ExternalId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,100}$/, '1 to 100 letters, digits, ".", "_", ":" or "-"');
// Shape is left to the card-code check, so a mistyped code answers 422 card-code-invalid as in
// the cards routes.
const CardCode = z.string().min(1).max(64);

/** Printable text without control characters, trimmed: descriptions, names, references. */
const text = (lengthMax: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(lengthMax)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

const DebtorIn = z.strictObject({
  type: z.enum(['F', 'G']).describe('F: natural person; G: legal person'),
  fiscalCode: z.string().min(2).max(16),
  fullName: text(70),
  email: z.email().max(256).optional(),
});

const OptionIn = z.strictObject({
  amountCents: Cents.describe(
    'The amount due; with amountSchedule, the amount after its last step',
  ),
  dueDate: Day,
  validFrom: Day.optional(),
  amountSchedule: z
    .array(z.strictObject({ until: Day, amountCents: Cents }))
    .min(1)
    .max(SCHEDULE_STEPS_MAX)
    .optional()
    .describe(
      'Lower amounts in force up to and including `until` (road fine: reduced within 5 days)',
    ),
  installment: z.number().int().min(1).max(OPTIONS_MAX).optional(),
});

const TransferIn = z.strictObject({
  amountCents: Cents,
  beneficiaryFiscalCode: FiscalCodePA.optional(),
  iban: Iban.optional(),
  postalIban: Iban.optional(),
  stamp: z
    .strictObject({
      documentHash: z.base64().min(4).max(72),
      type: z.literal('01'),
      province: z.string().regex(/^[A-Z]{2}$/),
    })
    .optional()
    .describe('Marca da bollo digitale instead of an IBAN'),
  taxonomyCode: z
    .string()
    .regex(/^\d{7}[A-Z]{2}$/, 'must be a taxonomy code like 0107102SP')
    .optional(),
  remittanceInformation: text(TEXT_MAX).optional(),
});

const PositionIn = z.strictObject({
  domain: FiscalCodePA.optional(),
  service: z.string().min(1).max(50),
  debtor: DebtorIn,
  cardCode: CardCode.optional(),
  description: text(TEXT_MAX),
  plan: z
    .enum(REQUESTED_PLANS)
    .optional()
    .describe(
      'Inferred when absent: one option is SINGLE, numbered options are INSTALLMENTS; several unnumbered options need ALTERNATIVES',
    ),
  paymentOptions: z.array(OptionIn).min(1).max(OPTIONS_MAX),
  transfers: z
    .array(TransferIn)
    .min(1)
    .max(TRANSFERS_MAX)
    .optional()
    .describe("The split of every option; default: one transfer to the service's IBAN"),
});

const DomainQuery = z.strictObject({ domain: FiscalCodePA.optional() });
const ExternalIdParams = z.strictObject({ externalId: ExternalId });

const OfflinePaymentIn = z.strictObject({
  amountCents: Cents,
  channel: z.enum(OFFLINE_CHANNELS),
  reference: text(TEXT_MAX).describe('Unique per position: makes the call idempotent'),
  paidAt: z.iso.datetime({ offset: true }),
  noticeNumber: z
    .string()
    .regex(/^\d{18}$/)
    .optional()
    .describe('The notice paid, when known (a postal slip carries it)'),
});

const TopUpIn = z.strictObject({
  account: z.enum(ACCOUNTS),
  amountCents: Cents,
  payer: DebtorIn,
  returnUrl: z
    .url({ protocol: /^https?$/ })
    .max(1000)
    .optional(),
});

// ---------------------------------------------------------------- wire schemas (answers)

const TransferOut = z.object({
  index: z.number().int(),
  beneficiaryFiscalCode: z.string(),
  amountCents: z.number().int(),
  iban: z.string().nullable(),
  postalIban: z.string().nullable(),
  stamp: z.object({ documentHash: z.string(), type: z.string(), province: z.string() }).nullable(),
  taxonomyCode: z.string(),
  remittanceInformation: z.string(),
});

const OptionOut = z.object({
  iuv: z.string(),
  noticeNumber: z.string(),
  installment: z.number().int().nullable(),
  amountCents: z.number().int(),
  amountInForceCents: z.number().int().describe('The amount the node is told today (Rome)'),
  dueDate: z.string(),
  validFrom: z.string().nullable(),
  amountSchedule: z
    .array(z.object({ until: z.string(), amountCents: z.number().int() }))
    .nullable(),
  status: z.enum(OPTION_STATUSES),
  paidAmountCents: z.number().int(),
  paidAt: z.string().nullable(),
  transfers: z.array(TransferOut),
});

const PositionOut = z.object({
  externalId: z.string(),
  domain: z.string(),
  kind: z.enum(POSITION_KINDS),
  service: z.string(),
  status: z.enum(POSITION_STATUSES),
  plan: z.enum(REQUESTED_PLANS),
  cardCode: z.string().nullable(),
  account: z.enum(ACCOUNTS).nullable(),
  debtor: z.object({
    type: z.enum(['F', 'G']),
    fiscalCode: z.string(),
    fullName: z.string(),
    email: z.string().nullable(),
  }),
  description: z.string(),
  paymentOptions: z.array(OptionOut),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const OfflinePaymentOut = z.object({
  reference: z.string(),
  channel: z.enum(OFFLINE_CHANNELS),
  amountCents: z.number().int(),
  paidAt: z.string(),
  recordedAt: z.string(),
  settledNoticeNumbers: z.array(z.string()),
  debtPosition: PositionOut,
});

const TopUpOut = z.object({
  paymentId: z.string(),
  iuv: z.string(),
  noticeNumber: z.string(),
  amountCents: z.number().int(),
  status: z.literal('PENDING'),
  checkoutUrl: z.string().optional(),
});

const WIRE_PLAN: Record<Plan, RequestedPlan> = {
  SINGLE: 'SINGLE',
  INSTALLMENT: 'INSTALLMENTS',
  ALTERNATIVE: 'ALTERNATIVES',
};

function toPositionOut(p: StoredPosition, today: string): z.output<typeof PositionOut> {
  return {
    externalId: p.externalId,
    domain: p.domainId,
    kind: p.kind,
    service: p.service,
    status: p.status,
    plan: WIRE_PLAN[p.plan],
    cardCode: p.cardCode,
    account: p.account,
    debtor: p.debtor,
    description: p.description,
    paymentOptions: p.options.map((o) => ({
      iuv: o.iuv,
      noticeNumber: o.noticeNumber,
      installment: o.installment,
      amountCents: o.amountCents,
      amountInForceCents: amountInForce(o, today),
      dueDate: o.dueDate,
      validFrom: o.validFrom,
      amountSchedule: o.amountSchedule,
      status: o.status,
      paidAmountCents: o.paidAmountCents,
      paidAt: o.paidAt?.toISOString() ?? null,
      transfers: o.transfers.map((t) => ({ ...t })),
    })),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

const toOfflineOut = (
  payment: StoredOfflinePayment,
  position: StoredPosition,
  today: string,
): z.output<typeof OfflinePaymentOut> => ({
  reference: payment.reference,
  channel: payment.channel,
  amountCents: payment.amountCents,
  paidAt: payment.paidAt.toISOString(),
  recordedAt: payment.createdAt.toISOString(),
  settledNoticeNumbers: payment.settledNoticeNumbers,
  debtPosition: toPositionOut(position, today),
});

// ---------------------------------------------------------------- lookups

function catalogueService(domain: DomainConfig, code: string): ServiceConfig {
  const service = domain.services.find((s) => s.code === code);
  if (service === undefined) {
    const known = domain.services.map((s) => s.code).join(', ');
    throw new AppError(
      'invalid-input',
      `body.service: ${code} is not in the catalogue of domain ${domain.fiscalCode} (${known})`,
      { errors: [{ path: 'body.service', message: `is not one of ${known}` }] },
    );
  }
  return service;
}

/**
 * The card named by a code: check digits first (422 for a typo), then the lookup (404).
 * @throws AppError('card-code-invalid') when no configured algorithm accepts the code.
 * @throws AppError('not-found') when no card has it, or it belongs to another domain.
 */
async function findCard(
  deps: ApiDeps,
  cardCode: string,
  domainId?: string,
): Promise<{ id: number; domainId: string }> {
  checkCardCode(
    cardCode,
    deps.domains.all.map((d) => d.cardCodeAlgorithm),
  );
  const card = await findCardIdByCode(deps.db, cardCode);
  if (card === undefined || (domainId !== undefined && card.domainId !== domainId)) {
    throw new AppError(
      'not-found',
      domainId === undefined ? `no card ${cardCode}` : `no card ${cardCode} in domain ${domainId}`,
    );
  }
  return card;
}

const today = (): string => romeDate(new Date());

/** How far in the future an offline payment's paidAt may be: clocks drift, money does not. */
const PAID_AT_SKEW_MS = 5 * 60_000;
/** pagoPA started in 2012; an earlier paidAt is a typo (and TIMESTAMP columns start in 1970). */
const PAID_AT_MIN = new Date('2012-01-01T00:00:00Z');

// ---------------------------------------------------------------- routes

export function positionsRoutes(
  deps: ApiDeps,
  starters = new OnlinePaymentStarters(deps),
): RouteSpec[] {
  return [
    defineRoute({
      method: 'put',
      path: '/api/v1/debt-positions/:externalId',
      operationId: 'upsertDebtPosition',
      summary:
        'Create or update a debt position (idempotent); its options keep their notice numbers',
      tags: ['debt-positions'],
      roles: ['erp'],
      params: ExternalIdParams,
      body: PositionIn,
      responses: {
        200: { description: 'Updated, or unchanged (same request as stored)', schema: PositionOut },
        201: { description: 'Created', schema: PositionOut },
        404: { description: 'Unknown card', schema: ProblemSchema },
        409: {
          description: 'Paid, cancelled, or the number of options or the plan changes',
          schema: ProblemSchema,
        },
        422: { description: 'Unknown domain or mistyped card code', schema: ProblemSchema },
      },
      handler: async ({ params, body }) => {
        const domain = resolveDomain(deps, body.domain);
        const draft = draftPosition(body, {
          domainId: domain.fiscalCode,
          kind: 'DEBT',
          service: catalogueService(domain, body.service),
        });
        const card =
          body.cardCode === undefined
            ? null
            : await findCard(deps, body.cardCode, domain.fiscalCode);
        const { outcome, position } = await savePosition(deps.db, {
          externalId: params.externalId,
          draft,
          cardId: card?.id ?? null,
          // The domain as resolved: naming the default domain or omitting it is the same request.
          requestHash: contentHash({ ...body, domain: domain.fiscalCode }),
          scheme: noticeSchemeOf(domain),
        });
        return {
          status: outcome === 'created' ? 201 : 200,
          body: toPositionOut(position, today()),
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/debt-positions/:externalId',
      operationId: 'getDebtPosition',
      summary:
        'A debt position with its options (IUV, notice number, amount in force) and transfers',
      tags: ['debt-positions'],
      roles: ['erp', 'operator'],
      params: ExternalIdParams,
      query: DomainQuery,
      responses: {
        200: { description: 'The position', schema: PositionOut },
        404: { description: 'No such position', schema: ProblemSchema },
        422: { description: 'Unknown domain', schema: ProblemSchema },
      },
      handler: async ({ params, query }) => {
        const domain = resolveDomain(deps, query.domain);
        const position = await findPosition(deps.db, domain.fiscalCode, params.externalId);
        if (position === undefined) {
          throw new AppError('not-found', `no debt position ${params.externalId}`);
        }
        return { status: 200, body: toPositionOut(position, today()) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/debt-positions',
      operationId: 'listDebtPositions',
      summary: 'Debt positions of a domain, oldest first, filtered and paginated',
      tags: ['debt-positions'],
      roles: ['erp', 'operator'],
      query: z.strictObject({
        domain: FiscalCodePA.optional(),
        cardCode: CardCode.optional(),
        status: z.enum(POSITION_STATUSES).optional(),
        service: z.string().min(1).max(50).optional(),
        dueBefore: Day.optional().describe('Positions with an option due strictly before this day'),
        limit: pageLimit(deps),
        cursor: CursorParam.optional(),
      }),
      responses: {
        200: {
          description: 'A page of positions',
          schema: z.object({ items: z.array(PositionOut), nextCursor: z.string().nullable() }),
        },
        422: { description: 'Unknown domain or mistyped card code', schema: ProblemSchema },
      },
      handler: async ({ query }) => {
        const domain = resolveDomain(deps, query.domain);
        if (query.cardCode !== undefined) {
          checkCardCode(
            query.cardCode,
            deps.domains.all.map((d) => d.cardCodeAlgorithm),
          );
        }
        const fetched = await listPositions(deps.db, {
          domainId: domain.fiscalCode,
          cardCode: query.cardCode,
          status: query.status,
          service: query.service,
          dueBefore: query.dueBefore,
          afterId: decodeCursor('debt-positions', query.cursor),
          limit: query.limit + 1,
        });
        const { items, nextCursor } = page('debt-positions', fetched, query.limit);
        const day = today();
        return {
          status: 200,
          body: { items: items.map((p) => toPositionOut(p, day)), nextCursor },
        };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/v1/debt-positions/:externalId',
      operationId: 'cancelDebtPosition',
      summary:
        'Cancel a debt position: it and its notices become CANCELLED (not if anything is paid)',
      tags: ['debt-positions'],
      roles: ['erp'],
      params: ExternalIdParams,
      query: DomainQuery,
      responses: {
        200: { description: 'The cancelled position', schema: PositionOut },
        404: { description: 'No such position', schema: ProblemSchema },
        409: { description: 'Something is paid', schema: ProblemSchema },
        422: { description: 'Unknown domain', schema: ProblemSchema },
      },
      handler: async ({ params, query }) => {
        const domain = resolveDomain(deps, query.domain);
        const position = await cancelPosition(deps.db, domain.fiscalCode, params.externalId);
        return { status: 200, body: toPositionOut(position, today()) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/debt-positions/:externalId/offline-payments',
      operationId: 'recordOfflinePayment',
      summary:
        'Record a counter, postal-slip or bank-transfer payment; settles the position as a receipt would',
      tags: ['debt-positions'],
      roles: ['erp'],
      params: ExternalIdParams,
      query: DomainQuery,
      body: OfflinePaymentIn,
      responses: {
        200: {
          description: 'Already recorded with this reference (same content)',
          schema: OfflinePaymentOut,
        },
        201: { description: 'Recorded and settled', schema: OfflinePaymentOut },
        404: { description: 'No such position or notice', schema: ProblemSchema },
        409: {
          description: 'Paid, cancelled, or the reference was used with other content',
          schema: ProblemSchema,
        },
        422: { description: 'The amount matches no unpaid option', schema: ProblemSchema },
      },
      handler: async ({ params, query, body }) => {
        const domain = resolveDomain(deps, query.domain);
        const paidAt = new Date(body.paidAt);
        const paidAtProblem =
          paidAt.getTime() > Date.now() + PAID_AT_SKEW_MS
            ? 'is in the future'
            : paidAt < PAID_AT_MIN
              ? `is before ${PAID_AT_MIN.toISOString().slice(0, 10)}`
              : undefined;
        if (paidAtProblem !== undefined) {
          throw new AppError('invalid-input', `body.paidAt: ${paidAtProblem}`, {
            errors: [{ path: 'body.paidAt', message: paidAtProblem }],
          });
        }
        const iuv =
          body.noticeNumber === undefined ? undefined : parseNoticeNumber(body.noticeNumber).iuv;
        const { created, payment, position } = await recordOfflinePayment(deps.db, {
          domainId: domain.fiscalCode,
          externalId: params.externalId,
          channel: body.channel,
          reference: body.reference,
          amountCents: body.amountCents,
          paidAt,
          iuv,
          // The instant, not its spelling: +01:00 and Z for the same moment are the same payment.
          requestHash: contentHash({ ...body, paidAt: paidAt.toISOString() }),
        });
        return { status: created ? 201 : 200, body: toOfflineOut(payment, position, today()) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/cards/:cardCode/top-ups',
      operationId: 'startTopUp',
      summary:
        'Start a card top-up: a notice (IUV, notice number) payable at any PSP, credited on payment',
      tags: ['cards'],
      roles: ['erp'],
      params: z.strictObject({ cardCode: CardCode }),
      body: TopUpIn,
      headers: [idempotencyKeyHeader(true)],
      responses: {
        201: { description: 'The pending top-up', schema: TopUpOut },
        404: { description: 'Unknown card', schema: ProblemSchema },
        409: { description: 'Idempotency-Key reused with another body', schema: ProblemSchema },
        422: {
          description: 'Mistyped card code, or amount outside the limits',
          schema: ProblemSchema,
        },
      },
      handler: async (ctx) => {
        const { params, body } = ctx;
        const card = await findCard(deps, params.cardCode);
        const domain = deps.domains.find(card.domainId);
        if (domain === undefined) {
          throw new AppError(
            'domain-unknown',
            `card ${params.cardCode} belongs to a domain no longer served`,
          );
        }
        const service = domain.services.find((s) => s.account === body.account);
        if (service === undefined) {
          throw new AppError(
            'invalid-input',
            `body.account: domain ${domain.fiscalCode} has no service for ${body.account} in its catalogue`,
            { errors: [{ path: 'body.account', message: 'has no service in the catalogue' }] },
          );
        }
        const draft = draftTopUp(body, {
          domainId: domain.fiscalCode,
          limits: domain.accounts[body.account],
          service,
          today: today(),
        });
        const result = await runIdempotent(
          deps.db,
          ctx,
          {
            operationId: 'startTopUp',
            required: true,
            request: { cardCode: params.cardCode, body },
          },
          async (trx) => {
            const paymentId = randomUUID();
            const stored = await insertTopUp(deps.db, trx, {
              paymentId,
              draft,
              cardId: card.id,
              scheme: noticeSchemeOf(domain),
              returnUrl: body.returnUrl ?? null,
            });
            return {
              status: 201,
              body: {
                paymentId,
                iuv: stored.iuv,
                noticeNumber: stored.noticeNumber,
                amountCents: body.amountCents,
                status: 'PENDING',
              } satisfies z.output<typeof TopUpOut>,
            };
          },
        );
        // After the commit: the notice must exist when the citizen pays it (and the RT comes).
        const topUp = result.body as z.output<typeof TopUpOut>;
        const checkoutUrl = await topUpCheckoutUrl(deps, starters, {
          domain,
          paymentId: topUp.paymentId,
          returnUrl: body.returnUrl,
        });
        return checkoutUrl === undefined
          ? result
          : { ...result, body: { ...topUp, checkoutUrl } satisfies z.output<typeof TopUpOut> };
      },
    }),
    ...paymentsRoutes(deps),
  ];
}
