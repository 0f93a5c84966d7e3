import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { findPayment } from '../../../data-access/payments-repository';
import { findPosition, type StoredPosition } from '../../../data-access/positions-repository';
import { AppError } from '../../../domain/errors';
import { amountInForce } from '../../../domain/positions/amount-in-force';
import { romeDate } from '../../../domain/positions/dates';
import type { DomainConfig } from '../../../shared/domains-config';
import {
  createNodeClient,
  createNodeTransport,
  NodeClientConfigError,
  PagopaNodeClient,
  WsdlCatalog,
  type CheckoutCartInput,
  type NodeTransport,
} from '../../../adapters/node-client';
import { WSDL_DIR } from '../../soap/soap-server';
import type { ApiDeps } from './index';
import { FiscalCodePA, resolveDomain } from './payments-routes';
import { defineRoute, ProblemSchema, type RouteSpec } from './route';

/**
 * EC-initiated payments through the domain's upstream (today the `pagopa` dialect: a Checkout
 * cart). The answer's `checkoutUrl` is where the ERP sends the citizen; the citizen comes back
 * to the ERP's `returnUrl` with `?outcome=OK|CANCEL|ERROR&paymentId=…`, which is only a hint:
 * money moves on a receipt only.
 *
 * Decisions:
 * - without a `returnUrl` no cart is started (the citizen would have nowhere to come back to);
 *   the notice can still be paid at any PSP;
 * - a top-up whose cart fails keeps its position and PENDING attempt and answers without
 *   `checkoutUrl` (a warning is logged); repeating the request with the same Idempotency-Key
 *   tries the cart again;
 * - outside production, a domain whose subscription key is not in the environment uses a
 *   placeholder (the embedded simulator does not check it).
 */

const CART_NOTICES_MAX = 5;

/** Where carts are sent from: one transport and WSDL catalogue per API, clients per domain. */
export class CheckoutStarters {
  private transport: NodeTransport | undefined;
  private wsdl: WsdlCatalog | undefined;
  private readonly clients = new Map<string, PagopaNodeClient | null>();

  constructor(private readonly deps: ApiDeps) {}

  /** The domain's cart starter, or undefined when its dialect has none or Checkout is not set. */
  for(domain: DomainConfig): PagopaNodeClient | undefined {
    const config = this.deps.config;
    if (config.checkoutBaseUrl === undefined || domain.dialect !== 'pagopa') return undefined;
    const known = this.clients.get(domain.fiscalCode);
    if (known !== undefined) return known ?? undefined;
    // Its own registry: the API's metrics registry is not among ApiDeps (yet).
    this.transport ??= createNodeTransport(config, {
      registry: new Registry(),
      logger: this.deps.logger,
    });
    this.wsdl ??= WsdlCatalog.load(WSDL_DIR);
    const keyEnv = domain.subscriptionKeyEnv;
    const env =
      config.env !== 'production' && keyEnv !== undefined && !process.env[keyEnv]
        ? { ...process.env, [keyEnv]: 'not-a-real-key' }
        : process.env;
    try {
      const client = createNodeClient(domain, {
        settings: config,
        transport: this.transport,
        wsdl: this.wsdl,
        env,
      });
      const starter = client instanceof PagopaNodeClient ? client : null;
      this.clients.set(domain.fiscalCode, starter);
      return starter ?? undefined;
    } catch (err) {
      if (!(err instanceof NodeClientConfigError)) throw err;
      this.deps.logger.warn({ domain: domain.fiscalCode, err: err.message }, 'no Checkout');
      this.clients.set(domain.fiscalCode, null);
      return undefined;
    }
  }
}

/** The ERP's return URL with the outcome hint. */
export function returnUrls(
  returnUrl: string,
  ref: { paymentId?: string; cartId?: string },
): CheckoutCartInput['returnUrls'] {
  const at = (outcome: string): string => {
    const url = new URL(returnUrl);
    url.searchParams.set('outcome', outcome);
    if (ref.paymentId !== undefined) url.searchParams.set('paymentId', ref.paymentId);
    if (ref.cartId !== undefined) url.searchParams.set('cartId', ref.cartId);
    return url.toString();
  };
  return { ok: at('OK'), cancel: at('CANCEL'), error: at('ERROR') };
}

/**
 * The Checkout URL of a top-up: the one already recorded on its attempt (a replay), or a new
 * cart. Undefined when there is no return URL, no Checkout for the domain, or the cart failed.
 */
export async function topUpCheckoutUrl(
  deps: ApiDeps,
  starters: CheckoutStarters,
  input: {
    domain: DomainConfig;
    paymentId: string;
    noticeNumber: string;
    amountCents: number;
    description: string;
    returnUrl: string | undefined;
  },
): Promise<string | undefined> {
  if (input.returnUrl === undefined) return undefined;
  const starter = starters.for(input.domain);
  if (starter === undefined) return undefined;
  const recorded = (await findPayment(deps.db, input.paymentId))?.checkoutUrl;
  if (recorded !== undefined && recorded !== null) return recorded;
  try {
    const started = await starter.start({
      notices: [
        {
          noticeNumber: input.noticeNumber,
          domainFiscalCode: input.domain.fiscalCode,
          amountCents: input.amountCents,
          companyName: input.domain.name.slice(0, 140),
          description: input.description.slice(0, 140),
        },
      ],
      returnUrls: returnUrls(input.returnUrl, { paymentId: input.paymentId }),
      cartId: input.paymentId,
    });
    await deps
      .db('payment_attempts')
      .where({ payment_id: input.paymentId })
      .whereNull('checkout_url')
      .update({ checkout_url: started.redirectUrl.slice(0, 1000), updated_at: new Date() });
    return started.redirectUrl;
  } catch (err) {
    deps.logger.warn(
      { paymentId: input.paymentId, err: (err as Error).message },
      'top-up: Checkout cart not started; the notice stays payable at any PSP',
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
    .max(CART_NOTICES_MAX - 1)
    .optional()
    .describe('Other positions of the same debtor paid in the same cart (up to 5 in all)'),
  returnUrl: z
    .url({ protocol: /^https?$/ })
    .max(900)
    .describe('Where the citizen comes back, with ?outcome=OK|CANCEL|ERROR&cartId= (a hint)'),
  email: z.email().max(256).optional().describe("Where Checkout sends the payer's receipt"),
});

const CheckoutOut = z.object({
  cartId: z.string(),
  checkoutUrl: z.string(),
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

export function checkoutRoutes(deps: ApiDeps, starters = new CheckoutStarters(deps)): RouteSpec[] {
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
      responses: {
        201: { description: 'The cart and its PENDING payment attempts', schema: CheckoutOut },
        400: {
          description:
            'Invalid body, or no online checkout for the domain (its dialect or CHECKOUT_BASE_URL)',
          schema: ProblemSchema,
        },
        404: { description: 'No such position', schema: ProblemSchema },
        409: { description: 'Paid, cancelled, or debtors differ', schema: ProblemSchema },
        422: { description: 'Unknown domain', schema: ProblemSchema },
        502: { description: 'The upstream refused the cart', schema: ProblemSchema },
        503: { description: 'The upstream is unreachable', schema: ProblemSchema },
      },
      handler: async ({ params, body }) => {
        const domain = resolveDomain(deps, body.domain);
        const starter = starters.for(domain);
        if (starter === undefined) {
          throw new AppError(
            'invalid-input',
            `domain ${domain.fiscalCode} (${domain.dialect}): no online checkout is configured (CHECKOUT_BASE_URL)`,
          );
        }
        const ids = [params.externalId, ...(body.alsoPay ?? [])];
        if (new Set(ids).size !== ids.length) {
          throw new AppError('invalid-input', 'body.alsoPay: a position is named twice');
        }
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
          };
        });
        const cartId = randomUUID();
        const started = await starter.start({
          notices: lines.map((l) => ({
            noticeNumber: l.option.noticeNumber,
            domainFiscalCode: domain.fiscalCode,
            amountCents: l.amountCents,
            companyName: domain.name.slice(0, 140),
            description: l.position.description.slice(0, 140),
          })),
          returnUrls: returnUrls(body.returnUrl, { cartId }),
          cartId,
          ...(body.email === undefined ? {} : { emailNotice: body.email }),
        });
        const now = new Date();
        await deps.db('payment_attempts').insert(
          lines.map((l) => ({
            payment_id: l.paymentId,
            debt_position_id: l.position.id,
            payment_option_id: l.option.id,
            channel: 'CHECKOUT',
            status: 'PENDING',
            amount_cents: l.amountCents,
            session_id: cartId,
            checkout_url: started.redirectUrl.slice(0, 1000),
            return_url: body.returnUrl,
            created_at: now,
            updated_at: now,
          })),
        );
        return {
          status: 201,
          body: {
            cartId,
            checkoutUrl: started.redirectUrl,
            payments: lines.map((l) => ({
              paymentId: l.paymentId,
              externalId: l.position.externalId,
              noticeNumber: l.option.noticeNumber,
              amountCents: l.amountCents,
              status: 'PENDING' as const,
            })),
          },
        };
      },
    }),
  ];
}
