import { z } from 'zod';
import {
  cardLedger,
  cardRegistry,
  findCardAccounts,
  findCardByCode,
  findOpenDebtPositions,
} from '../../../data-access/cards-repository';
import { ACCOUNTS, ENTRY_KINDS, listCardEntries } from '../../../data-access/ledger-repository';
import {
  ADJUSTMENT_AMOUNT_CENTS_MAX,
  adjustCard,
  REASON_LENGTH_MAX,
} from '../../../domain/cards/adjust-card';
import { checkCardCode } from '../../../domain/cards/card-code-lookup';
import { chargeCard } from '../../../domain/cards/charge-card';
import {
  CHARGE_AMOUNT_CENTS_MAX,
  DESCRIPTION_LENGTH_MAX,
  REFERENCE_LENGTH_MAX,
} from '../../../domain/cards/charges';
import { FULL_NAME_LENGTH_MAX, normaliseFiscalCode } from '../../../domain/cards/holder';
import { decodeCursor, pageSize, toPage } from '../../../domain/cards/movements';
import { registerCard } from '../../../domain/cards/register-card';
import type { Card } from '../../../domain/cards/types';
import { cardView, movementView } from '../../../domain/cards/views';
import { AppError } from '../../../domain/errors';
import type { ApiDeps } from './index';
import { defineRoute, ProblemSchema, type RouteSpec } from './route';

/** Printable text without control characters, trimmed: references and descriptions. */
const text = (lengthMax: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(lengthMax)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

const CardCodeParams = z.strictObject({ cardCode: z.string().max(64) });

const CreateCardBody = z.strictObject({
  domain: z
    .string()
    .regex(/^\d{11}$/, 'must be the 11-digit fiscal code of a domain')
    .optional(),
  cardNumber: z.string().regex(/^\d{1,33}$/, 'must be 1 to 33 digits'),
  holder: z.strictObject({
    fiscalCode: z
      .string()
      .max(32)
      .refine((v) => normaliseFiscalCode(v) !== null, {
        message: 'must be a 16-character personal fiscal code or 11 digits',
      }),
    fullName: text(FULL_NAME_LENGTH_MAX),
  }),
});

const ChargeBody = z.strictObject({
  account: z.enum(ACCOUNTS),
  amountCents: z.number().int().min(1).max(CHARGE_AMOUNT_CENTS_MAX),
  reference: text(REFERENCE_LENGTH_MAX),
  description: text(DESCRIPTION_LENGTH_MAX),
});

const AdjustmentBody = z.strictObject({
  account: z.enum(ACCOUNTS),
  amountCents: z
    .number()
    .int()
    .min(-ADJUSTMENT_AMOUNT_CENTS_MAX)
    .max(ADJUSTMENT_AMOUNT_CENTS_MAX)
    .refine((v) => v !== 0, { message: 'must not be 0' })
    .describe('signed: positive credits the account, negative debits it'),
  reference: text(REFERENCE_LENGTH_MAX),
  reason: text(REASON_LENGTH_MAX),
});

const AccountOut = z.object({
  account: z.enum(ACCOUNTS),
  balanceCents: z.number().int(),
  overdraftLimitCents: z.number().int(),
});

const CardOut = z.object({
  cardCode: z.string(),
  cardNumber: z.string(),
  domain: z.string(),
  holder: z.object({ fiscalCode: z.string(), fullName: z.string() }),
  accounts: z.array(AccountOut),
  openDebtPositions: z.array(
    z.object({
      externalId: z.string(),
      service: z.string(),
      description: z.string(),
      status: z.enum(['OPEN', 'PARTIALLY_PAID']),
      amountDueCents: z
        .number()
        .int()
        .describe('unpaid instalments added up; for alternatives, the least unpaid one'),
    }),
  ),
  createdAt: z.string(),
});

const MovementOut = z.object({
  id: z.number().int(),
  account: z.enum(ACCOUNTS),
  amountCents: z.number().int().describe('signed: positive credits the account, negative debits'),
  kind: z.enum(ENTRY_KINDS),
  reference: z.string().nullable(),
  description: z.string().nullable(),
  balanceAfterCents: z.number().int(),
  createdAt: z.string(),
});

const ChargeOut = z.object({
  cardCode: z.string(),
  entry: MovementOut,
  balanceCents: z
    .number()
    .int()
    .describe("the account's balance now (after this charge on first posting)"),
});

const problem = (description: string) => ({ description, schema: ProblemSchema });

/** Cards: registration, balances and open debts, payment history, charges. */
export function cardsRoutes(deps: ApiDeps): RouteSpec[] {
  const algorithms = deps.domains.all.map((d) => d.cardCodeAlgorithm);

  /** The card a path names. @throws card-code-invalid (422) before not-found (404). */
  const cardFor = async (cardCode: string): Promise<Card> => {
    checkCardCode(cardCode, algorithms);
    const card = await findCardByCode(deps.db, cardCode);
    if (card === undefined) {
      throw new AppError('not-found', `no card has the code ${cardCode}; check it with the holder`);
    }
    return card;
  };

  const viewOf = async (card: Card) =>
    cardView(
      card,
      await findCardAccounts(deps.db, card.id),
      await findOpenDebtPositions(deps.db, card.id),
    );

  const MovementsQuery = z.strictObject({
    cursor: z.string().max(64).optional(),
    limit: z
      .string()
      .regex(/^\d{1,4}$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(1).max(deps.config.apiPageSizeMax))
      .optional(),
    account: z.enum(ACCOUNTS).optional(),
  });

  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/cards',
      operationId: 'registerCard',
      summary: 'Register a card and its accounts (idempotent on domain and card number)',
      tags: ['cards'],
      roles: ['erp'],
      body: CreateCardBody,
      responses: {
        201: { description: 'Registered', schema: CardOut },
        200: { description: 'Already registered to the same holder', schema: CardOut },
        409: problem('The card number is registered to another holder'),
        422: problem('Unknown domain'),
      },
      handler: async ({ body }) => {
        const domain = deps.domains.resolve(body.domain);
        if (domain === undefined) {
          throw new AppError(
            'domain-unknown',
            body.domain === undefined
              ? 'name the domain: this deployment serves several and has no default'
              : `domain ${body.domain} is not served by this deployment`,
          );
        }
        const { card, created } = await registerCard(cardRegistry(deps.db), domain, body);
        return { status: created ? 201 : 200, body: await viewOf(card) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/cards/:cardCode',
      operationId: 'getCard',
      summary: 'A card: holder, balance per account, open debt positions',
      tags: ['cards'],
      roles: ['erp', 'operator'],
      params: CardCodeParams,
      responses: {
        200: { description: 'The card', schema: CardOut },
        404: problem('No card has this code'),
        422: problem('The card code is mistyped (check digits)'),
      },
      handler: async ({ params }) => ({
        status: 200,
        body: await viewOf(await cardFor(params.cardCode)),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/cards/:cardCode/movements',
      operationId: 'listCardMovements',
      summary: "A card's ledger, newest first, paginated (the payment history)",
      tags: ['cards'],
      roles: ['erp', 'operator'],
      params: CardCodeParams,
      query: MovementsQuery,
      responses: {
        200: {
          description: 'One page of movements',
          schema: z.object({ items: z.array(MovementOut), nextCursor: z.string().nullable() }),
        },
        404: problem('No card has this code'),
        422: problem('The card code is mistyped (check digits)'),
      },
      handler: async ({ params, query }) => {
        const card = await cardFor(params.cardCode);
        const limit = pageSize(query.limit, deps.config.apiPageSizeMax);
        const rows = await listCardEntries(deps.db, card.id, {
          limit: limit + 1,
          ...(query.cursor === undefined ? {} : { beforeId: decodeCursor(query.cursor) }),
          ...(query.account === undefined ? {} : { account: query.account }),
        });
        const page = toPage(rows, limit);
        return {
          status: 200,
          body: { items: page.items.map(movementView), nextCursor: page.nextCursor },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/cards/:cardCode/charges',
      operationId: 'chargeCard',
      summary: 'Debit a card account (meal consumed, fee); `reference` makes it idempotent',
      tags: ['cards'],
      roles: ['erp'],
      params: CardCodeParams,
      body: ChargeBody,
      responses: {
        201: { description: 'Charged', schema: ChargeOut },
        200: { description: 'Already charged with this reference and content', schema: ChargeOut },
        404: problem('No card has this code'),
        409: problem('The reference was used for a different charge'),
        422: problem('Mistyped card code, or insufficient credit'),
      },
      handler: async ({ params, body }) => {
        const card = await cardFor(params.cardCode);
        const charged = await chargeCard(cardLedger(deps.db), card, body);
        return {
          status: charged.created ? 201 : 200,
          body: {
            cardCode: card.cardCode,
            entry: movementView({
              ...charged.entry,
              account: body.account,
            }),
            balanceCents: charged.balanceCents,
          },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/cards/:cardCode/adjustments',
      operationId: 'adjustCard',
      summary: 'Credit or debit a card account by hand, with a reason (operators; audited)',
      tags: ['cards'],
      roles: ['operator'],
      params: CardCodeParams,
      body: AdjustmentBody,
      responses: {
        201: { description: 'Adjusted', schema: ChargeOut },
        200: { description: 'Already adjusted with this reference and content', schema: ChargeOut },
        404: problem('No card has this code'),
        409: problem('The reference was used for a different adjustment'),
        422: problem('Mistyped card code, or a debit beyond the overdraft limit'),
      },
      handler: async ({ params, body, principal, requestId }) => {
        const card = await cardFor(params.cardCode);
        const adjusted = await adjustCard(cardLedger(deps.db), card, body, {
          actor: principal.name,
          requestId,
        });
        return {
          status: adjusted.created ? 201 : 200,
          body: {
            cardCode: card.cardCode,
            entry: movementView({ ...adjusted.entry, account: body.account }),
            balanceCents: adjusted.balanceCents,
          },
        };
      },
    }),
  ];
}
