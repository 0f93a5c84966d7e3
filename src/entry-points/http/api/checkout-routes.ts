import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  createNodeTransport,
  NodeClientConfigError,
  WsdlCatalog,
  type NodeTransport,
} from '../../../adapters/node-client';
import {
  createOnlinePaymentStarter,
  LINES_MAX,
  withPlaceholderSecrets,
  type OnlinePaymentInput,
  type OnlinePaymentLine,
  type OnlinePaymentStarter,
} from '../../../adapters/online-payments';
import {
  insertStartedAttempts,
  listSentRequests,
  recordStartedTopUp,
} from '../../../data-access/online-payments-repository';
import { findPayment } from '../../../data-access/payments-repository';
import { findPosition, type StoredPosition } from '../../../data-access/positions-repository';
import { AppError } from '../../../domain/errors';
import { amountInForce } from '../../../domain/positions/amount-in-force';
import { romeDate } from '../../../domain/positions/dates';
import type { DomainConfig } from '../../../shared/domains-config';
import { WSDL_DIR } from '../../soap/soap-server';
import { idempotencyKeyHeader, runIdempotent } from './idempotency';
import type { ApiDeps } from './index';
import { FiscalCodePA, resolveDomain } from './payments-routes';
import { defineRoute, ProblemSchema, type RouteSpec } from './route';

/**
 * EC-initiated payments through the domain's upstream, by dialect: a Checkout cart (`pagopa`),
 * RPTs through WISP (`rpt`), MyPay dues (`mypay`); see src/adapters/online-payments. The answer's
 * `checkoutUrl` is where the ERP sends the citizen; the citizen comes back to the ERP's
 * `returnUrl` with `?outcome=OK|CANCEL|ERROR&paymentId=…` (MyPay: `idSession` and `esito`),
 * which is only a hint: money moves on a receipt only.
 *
 * Decisions:
 * - without a `returnUrl` no payment is started (the citizen would have nowhere to come back to);
 *   the notice can still be paid at any PSP;
 * - a top-up whose start fails keeps its position and PENDING attempt and answers without
 *   `checkoutUrl` (a warning is logged); repeating the request with the same Idempotency-Key
 *   tries again (an RPT with a new CCP);
 * - POST …/checkout needs an Idempotency-Key: the upstream call runs inside the idempotent
 *   transaction, so a retried request gets the first cart back instead of opening a second one.
 *   Two requests with the same key at the same instant may each reach the upstream; the loser's
 *   attempts roll back and its cart is never shown to anyone (nothing is paid on it);
 * - outside production, a domain whose secrets are not in the environment uses placeholders
 *   (the embedded simulator checks none).
 */

/** Where payments are started from: one transport and WSDL catalogue per API, starters per domain. */
export class OnlinePaymentStarters {
  private transport: NodeTransport | undefined;
  private wsdl: WsdlCatalog | undefined;
  private readonly starters = new Map<string, OnlinePaymentStarter | null>();

  constructor(private readonly deps: ApiDeps) {}

  /** The domain's starter, or undefined when its upstream is not configured. */
  for(domain: DomainConfig): OnlinePaymentStarter | undefined {
    const known = this.starters.get(domain.fiscalCode);
    if (known !== undefined) return known ?? undefined;
    const config = this.deps.config;
    this.transport ??= createNodeTransport(config, {
      // The API's registry: node_client_* metrics appear on its /metrics with the rest.
      registry: this.deps.registry,
      logger: this.deps.logger,
    });
    this.wsdl ??= WsdlCatalog.load(WSDL_DIR);
    try {
      const starter = createOnlinePaymentStarter(domain, {
        settings: config,
        transport: this.transport,
        wsdl: this.wsdl,
        env: withPlaceholderSecrets(domain, process.env, config.env === 'production'),
      });
      this.starters.set(domain.fiscalCode, starter);
      return starter;
    } catch (err) {
      if (!(err instanceof NodeClientConfigError)) throw err;
      this.deps.logger.warn({ domain: domain.fiscalCode, err: err.message }, 'no online payments');
      this.starters.set(domain.fiscalCode, null);
      return undefined;
    }
  }
}

/** The ERP's return URL with the outcome hint, and without it (MyPay adds its own). */
export function returnUrls(
  returnUrl: string,
  ref: { paymentId?: string; cartId?: string },
): OnlinePaymentInput['returnUrls'] & { plain: string } {
  const at = (outcome: string | undefined): string => {
    const url = new URL(returnUrl);
    if (outcome !== undefined) url.searchParams.set('outcome', outcome);
    if (ref.paymentId !== undefined) url.searchParams.set('paymentId', ref.paymentId);
    if (ref.cartId !== undefined) url.searchParams.set('cartId', ref.cartId);
    return url.toString();
  };
  return { ok: at('OK'), cancel: at('CANCEL'), error: at('ERROR'), plain: at(undefined) };
}

/**
 * The checkout URL of a top-up: the one already recorded on its attempt (a replay), or a new
 * start upstream. Undefined when there is no return URL, no upstream for the domain, or the
 * start failed.
 */
export async function topUpCheckoutUrl(
  deps: ApiDeps,
  starters: OnlinePaymentStarters,
  input: { domain: DomainConfig; paymentId: string; returnUrl: string | undefined },
): Promise<string | undefined> {
  if (input.returnUrl === undefined) return undefined;
  const starter = starters.for(input.domain);
  if (starter === undefined) return undefined;
  const payment = await findPayment(deps.db, input.paymentId);
  if (payment === undefined) return undefined;
  if (payment.checkoutUrl !== null) return payment.checkoutUrl;
  try {
    const position = await findPosition(deps.db, payment.domainId, payment.externalId);
    const option = position?.options.find((o) => o.iuv === payment.iuv);
    if (position === undefined || option === undefined) {
      throw new AppError('internal', `top-up ${input.paymentId}: its position is gone`);
    }
    const urls = returnUrls(input.returnUrl, { paymentId: input.paymentId });
    const started = await starter.start({
      domain: input.domain,
      cartId: input.paymentId,
      lines: [
        {
          paymentId: input.paymentId,
          position,
          option,
          amountCents: amountInForce(option, romeDate(new Date())),
        },
      ],
      returnUrls: urls,
      returnUrl: urls.plain,
    });
    const recorded = await recordStartedTopUp(deps.db, {
      paymentId: input.paymentId,
      domainId: input.domain.fiscalCode,
      started,
    });
    if (recorded) return started.redirectUrl;
    // A concurrent retry recorded its start first: the citizen is sent to that one.
    return (await findPayment(deps.db, input.paymentId))?.checkoutUrl ?? started.redirectUrl;
  } catch (err) {
    deps.logger.warn(
      { paymentId: input.paymentId, err: (err as Error).message },
      'top-up: online payment not started; the notice stays payable at any PSP',
    );
    return undefined;
  }
}

// ---------------------------------------------------------------- POST …/checkout

const ExternalId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,100}$/, '1 to 100 letters, digits, ".", "_", ":" or "-"');

const CheckoutIn = z.strictObject({
  domain: FiscalCodePA.optional(),
  alsoPay: z
    .array(ExternalId)
    .max(LINES_MAX - 1)
    .optional()
    .describe('Other positions of the same debtor paid in the same cart (up to 5 in all)'),
  returnUrl: z
    .url({ protocol: /^https?$/ })
    .max(900)
    .describe('Where the citizen comes back, with ?outcome=OK|CANCEL|ERROR&cartId= (a hint)'),
  email: z
    .email()
    .max(256)
    .optional()
    .describe("Where Checkout sends the payer's receipt (pagopa dialect; ignored by the others)"),
});

const CheckoutOut = z.object({
  cartId: z.string(),
  checkoutUrl: z.string(),
  channel: z
    .enum(['CHECKOUT', 'RPT', 'MYPAY'])
    .describe("How the payment was started: the domain's dialect's upstream"),
  payments: z.array(
    z.object({
      paymentId: z.string(),
      externalId: z.string(),
      noticeNumber: z.string(),
      amountCents: z.number().int(),
      status: z.literal('PENDING'),
    }),
  ),
});

/** The option a cart pays: the first unpaid one (the single option, or the next instalment). */
function payableOption(p: StoredPosition): StoredPosition['options'][number] {
  if (p.status === 'PAID' || p.status === 'CANCELLED') {
    throw new AppError('conflict', `debt position ${p.externalId} is ${p.status}`);
  }
  const option = p.options.find((o) => o.status === 'UNPAID');
  if (option === undefined) {
    throw new AppError('conflict', `debt position ${p.externalId} has nothing left to pay`);
  }
  return option;
}

export function checkoutRoutes(
  deps: ApiDeps,
  starters = new OnlinePaymentStarters(deps),
): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/debt-positions/:externalId/checkout',
      operationId: 'startCheckout',
      summary:
        'Start paying one or more (up to 5) positions of one debtor online: answers the checkoutUrl',
      tags: ['debt-positions'],
      roles: ['erp'],
      params: z.strictObject({ externalId: ExternalId }),
      body: CheckoutIn,
      headers: [idempotencyKeyHeader(true)],
      responses: {
        201: { description: 'The cart and its PENDING payment attempts', schema: CheckoutOut },
        400: {
          description:
            'Invalid body, no Idempotency-Key, or no online payment for the domain (its upstream is not configured)',
          schema: ProblemSchema,
        },
        404: { description: 'No such position', schema: ProblemSchema },
        409: {
          description:
            'Paid, cancelled, debtors differ, or Idempotency-Key reused with another body',
          schema: ProblemSchema,
        },
        422: { description: 'Unknown domain', schema: ProblemSchema },
        502: { description: 'The upstream refused the payment', schema: ProblemSchema },
        503: { description: 'The upstream is unreachable', schema: ProblemSchema },
      },
      handler: async (ctx) => {
        const { params, body } = ctx;
        const domain = resolveDomain(deps, body.domain);
        const starter = starters.for(domain);
        if (starter === undefined) {
          throw new AppError(
            'invalid-input',
            `domain ${domain.fiscalCode} (${domain.dialect}): no online payment is configured for its upstream`,
          );
        }
        const ids = [params.externalId, ...(body.alsoPay ?? [])];
        if (new Set(ids).size !== ids.length) {
          throw new AppError('invalid-input', 'body.alsoPay: a position is named twice');
        }
        return runIdempotent(
          deps.db,
          ctx,
          {
            operationId: 'startCheckout',
            required: true,
            request: {
              externalId: params.externalId,
              body: { ...body, domain: domain.fiscalCode },
            },
          },
          async (trx) => {
            const positions: StoredPosition[] = [];
            for (const id of ids) {
              const p = await findPosition(deps.db, domain.fiscalCode, id);
              if (p === undefined) throw new AppError('not-found', `no debt position ${id}`);
              positions.push(p);
            }
            const debtor = positions[0]?.debtor.fiscalCode;
            if (positions.some((p) => p.debtor.fiscalCode !== debtor)) {
              throw new AppError('conflict', 'a cart pays positions of one debtor only');
            }
            const today = romeDate(new Date());
            const lines = positions.map((p) => {
              const option = payableOption(p);
              return {
                position: p,
                option,
                paymentId: randomUUID(),
                amountCents: amountInForce(option, today),
              } satisfies OnlinePaymentLine;
            });
            const cartId = randomUUID();
            const urls = returnUrls(body.returnUrl, { cartId });
            // Inside the idempotent transaction: the attempts and the stored answer commit
            // together, after the upstream accepted; an upstream refusal leaves nothing behind.
            const started = await starter.start({
              domain,
              cartId,
              lines,
              returnUrls: urls,
              returnUrl: urls.plain,
              ...(body.email === undefined ? {} : { email: body.email }),
            });
            await insertStartedAttempts(trx, {
              domainId: domain.fiscalCode,
              cartId,
              returnUrl: body.returnUrl,
              lines: lines.map((l) => ({
                paymentId: l.paymentId,
                debtPositionId: l.position.id,
                paymentOptionId: l.option.id,
                amountCents: l.amountCents,
              })),
              started,
            });
            return {
              status: 201,
              body: {
                cartId,
                checkoutUrl: started.redirectUrl,
                channel: started.channel,
                payments: lines.map((l) => ({
                  paymentId: l.paymentId,
                  externalId: l.position.externalId,
                  noticeNumber: l.option.noticeNumber,
                  amountCents: l.amountCents,
                  status: 'PENDING' as const,
                })),
              } satisfies z.output<typeof CheckoutOut>,
            };
          },
        );
      },
    }),
  ];
}

// ---------------------------------------------------------------- GET /ops/…/sent-requests

const SentRequestOut = z.object({
  kind: z.enum(['RPT', 'DOVUTI']),
  iuv: z.string().nullable(),
  ccp: z.string().nullable(),
  cartId: z.string().nullable(),
  sessionId: z.string().nullable(),
  sentAt: z.string(),
  document: z.string().describe('The RPT or Dovuti XML exactly as sent'),
});

/** What was sent upstream to start a payment (RPTs, MyPay dues), for operators. */
export function sentRequestsRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/ops/v1/payments/:paymentId/sent-requests',
      operationId: 'opsListSentRequests',
      summary:
        'The documents sent upstream to start a payment (each RPT with its CCP, or the MyPay Dovuti), oldest first',
      tags: ['ops'],
      roles: ['operator'],
      params: z.strictObject({ paymentId: z.uuid() }),
      responses: {
        200: {
          description:
            'The documents (none for a Checkout cart or a notice paid at a PSP with the new model; for old model 3 the RPT sent after paaAttivaRPT)',
          schema: z.object({ items: z.array(SentRequestOut) }),
        },
        403: { description: 'Not an operator key', schema: ProblemSchema },
        404: { description: 'No such payment', schema: ProblemSchema },
      },
      handler: async ({ params }) => {
        if ((await findPayment(deps.db, params.paymentId)) === undefined) {
          throw new AppError('not-found', `no payment ${params.paymentId}`);
        }
        const items = await listSentRequests(deps.db, params.paymentId);
        return {
          status: 200,
          body: {
            items: items.map((r) => ({
              kind: r.kind,
              iuv: r.iuv,
              ccp: r.ccp,
              cartId: r.cartId,
              sessionId: r.sessionId,
              sentAt: r.sentAt.toISOString(),
              document: r.document,
            })),
          },
        };
      },
    }),
  ];
}
