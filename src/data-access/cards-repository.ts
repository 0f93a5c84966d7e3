import type { Knex } from 'knex';
import { recordAudit } from './audit-repository';
import type { CardRegistry } from '../domain/cards/register-card';
import type { CardLedger } from '../domain/cards/charge-card';
import type { NewCard } from '../domain/cards/new-card';
import type { UnpaidOption } from '../domain/cards/debt-due';
import type { AuditNote, Card, CardAccount } from '../domain/cards/types';
import type { DebtPositionSummary } from '../domain/cards/views';
import { AppError } from '../domain/errors';
import { isDuplicateKey } from './errors';
import { ACCOUNTS, postEntry, type Account } from './ledger-repository';

/** Cards and their accounts: registration, lookups, and postings on a card's account. */

type CardRow = {
  id: number | string;
  domain_id: string;
  card_number: string;
  card_code: string;
  holder_fiscal_code: string;
  holder_full_name: string;
  created_at: Date;
};

const toCard = (row: CardRow): Card => ({
  id: Number(row.id),
  domainId: row.domain_id,
  cardNumber: row.card_number,
  cardCode: row.card_code,
  holder: { fiscalCode: row.holder_fiscal_code, fullName: row.holder_full_name },
  createdAt: row.created_at,
});

export async function findCardByCode(db: Knex, cardCode: string): Promise<Card | undefined> {
  const row = (await db('cards').where({ card_code: cardCode }).first()) as CardRow | undefined;
  return row === undefined ? undefined : toCard(row);
}

export async function findCardByNumber(
  db: Knex | Knex.Transaction,
  domainId: string,
  cardNumber: string,
): Promise<Card | undefined> {
  const row = (await db('cards')
    .where({ domain_id: domainId, card_number: cardNumber })
    .first()) as CardRow | undefined;
  return row === undefined ? undefined : toCard(row);
}

/** The card's accounts in the catalogue's order (CANTEEN, NURSERY_MEALS, SCHOOL_TRANSPORT). */
export async function findCardAccounts(
  db: Knex | Knex.Transaction,
  cardId: number,
): Promise<CardAccount[]> {
  const rows = (await db('card_accounts')
    .where({ card_id: cardId })
    .select('id', 'account', 'balance_cents', 'overdraft_limit_cents')) as {
    id: number | string;
    account: Account;
    balance_cents: number | string;
    overdraft_limit_cents: number | string;
  }[];
  return rows
    .map((r) => ({
      id: Number(r.id),
      account: r.account,
      balanceCents: Number(r.balance_cents),
      overdraftLimitCents: Number(r.overdraft_limit_cents),
    }))
    .sort((a, b) => ACCOUNTS.indexOf(a.account) - ACCOUNTS.indexOf(b.account));
}

/**
 * Stores a card and its accounts in one transaction. When a unique index refuses the card
 * (same domain and number, or same card code), the transaction is rolled back and the card
 * stored under the same domain and number is read back for the caller to compare.
 */
export function cardRegistry(db: Knex): CardRegistry {
  return {
    insertCardWithAccounts: async (card: NewCard) => {
      try {
        const stored = await db.transaction(async (trx) => {
          const [id] = (await trx('cards').insert({
            domain_id: card.domainId,
            card_number: card.cardNumber,
            card_code: card.cardCode,
            holder_fiscal_code: card.holder.fiscalCode,
            holder_full_name: card.holder.fullName,
          })) as number[];
          await trx('card_accounts').insert(
            card.accounts.map((a) => ({
              card_id: id,
              account: a.account,
              balance_cents: 0,
              overdraft_limit_cents: a.overdraftLimitCents,
            })),
          );
          const row = (await trx('cards').where({ id }).first()) as CardRow;
          return toCard(row);
        });
        return { created: true as const, card: stored };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const existing = await findCardByNumber(db, card.domainId, card.cardNumber);
        return { created: false as const, existing };
      }
    },
  };
}

/** Postings on a card's accounts, each in its own transaction (see `postEntry`). */
export function cardLedger(db: Knex): CardLedger {
  return {
    postToCardAccount: (cardId, account, entry, options, audit?: AuditNote) =>
      db.transaction(async (trx) => {
        // A locking read, like postEntry's own: a plain read here would fix the transaction's
        // snapshot before the lock is granted, and postEntry would then not see an entry a
        // concurrent resend committed meanwhile (and fail on the unique index instead).
        const accountRow = (await trx('card_accounts')
          .where({ card_id: cardId, account })
          .forUpdate()
          .first('id')) as { id: number | string } | undefined;
        if (accountRow === undefined) {
          throw new AppError('not-found', `card ${cardId} has no ${account} account`);
        }
        const posted = await postEntry(
          trx,
          { ...entry, cardAccountId: Number(accountRow.id) },
          options,
        );
        // The account row is locked by postEntry: this reads the balance this posting left,
        // or, for a resend, the balance now.
        const balance = (await trx('card_accounts')
          .where({ id: accountRow.id })
          .first('balance_cents')) as { balance_cents: number | string };
        if (audit !== undefined && posted.created) {
          await recordAudit(trx, {
            actor: audit.actor,
            action: audit.action,
            subjectType: audit.subjectType,
            subjectId: audit.subjectId,
            reason: audit.reason,
            before: { balanceCents: posted.entry.balanceAfterCents - posted.entry.amountCents },
            after: {
              balanceCents: posted.entry.balanceAfterCents,
              entryId: posted.entry.id,
              amountCents: posted.entry.amountCents,
            },
            requestId: audit.requestId,
          });
        }
        return { ...posted, balanceCents: Number(balance.balance_cents) };
      }),
  };
}

type OpenDebtPosition = DebtPositionSummary & { unpaidOptions: UnpaidOption[] };

/** The card's debt positions still open (OPEN or PARTIALLY_PAID), oldest first, with unpaid options. */
export async function findOpenDebtPositions(
  db: Knex,
  cardId: number,
): Promise<DebtPositionSummary[]> {
  const rows = (await db('debt_positions as p')
    .leftJoin('payment_options as o', function joinUnpaid() {
      this.on('o.debt_position_id', '=', 'p.id').andOn('o.status', '=', db.raw('?', ['UNPAID']));
    })
    .where('p.card_id', cardId)
    .whereIn('p.status', ['OPEN', 'PARTIALLY_PAID'])
    .orderBy([
      { column: 'p.id', order: 'asc' },
      { column: 'o.id', order: 'asc' },
    ])
    .select(
      'p.id as positionId',
      'p.external_id as externalId',
      'p.service as service',
      'p.description as description',
      'p.status as status',
      'o.plan as plan',
      'o.amount_cents as amountCents',
    )) as {
    positionId: number | string;
    externalId: string;
    service: string;
    description: string;
    status: 'OPEN' | 'PARTIALLY_PAID';
    plan: UnpaidOption['plan'] | null;
    amountCents: number | string | null;
  }[];
  const byId = new Map<string, OpenDebtPosition>();
  for (const r of rows) {
    const key = String(r.positionId);
    let position = byId.get(key);
    if (position === undefined) {
      position = {
        externalId: r.externalId,
        service: r.service,
        description: r.description,
        status: r.status,
        unpaidOptions: [],
      };
      byId.set(key, position);
    }
    if (r.plan !== null && r.amountCents !== null) {
      position.unpaidOptions.push({ plan: r.plan, amountCents: Number(r.amountCents) });
    }
  }
  return [...byId.values()];
}
