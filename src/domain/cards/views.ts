import { amountDueCents, type UnpaidOption } from './debt-due';
import type { Card, CardAccount, Movement } from './types';

/**
 * The shapes the ERP reads: a card with its balances and open debts, and its movements.
 * Dates become ISO strings here, amounts stay integer cents.
 */

export type DebtPositionSummary = {
  externalId: string;
  service: string;
  description: string;
  status: 'OPEN' | 'PARTIALLY_PAID';
  unpaidOptions: readonly UnpaidOption[];
};

export const cardView = (
  card: Card,
  accounts: readonly CardAccount[],
  positions: readonly DebtPositionSummary[],
) => ({
  cardCode: card.cardCode,
  cardNumber: card.cardNumber,
  domain: card.domainId,
  holder: { fiscalCode: card.holder.fiscalCode, fullName: card.holder.fullName },
  accounts: accounts.map((a) => ({
    account: a.account,
    balanceCents: a.balanceCents,
    overdraftLimitCents: a.overdraftLimitCents,
  })),
  openDebtPositions: positions.map((p) => ({
    externalId: p.externalId,
    service: p.service,
    description: p.description,
    status: p.status,
    amountDueCents: amountDueCents(p.unpaidOptions),
  })),
  createdAt: card.createdAt.toISOString(),
});

export const movementView = (m: Movement) => ({
  id: m.id,
  account: m.account,
  amountCents: m.amountCents,
  kind: m.kind,
  reference: m.reference,
  description: m.description,
  balanceAfterCents: m.balanceAfterCents,
  createdAt: m.createdAt.toISOString(),
});
