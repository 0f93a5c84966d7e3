import { AppError } from '../errors';
import { newCard, type DomainCardSettings, type NewCard } from './new-card';
import { sameHolder } from './holder';
import type { Card } from './types';

/** What registering needs from storage: one transaction that stores the card and its accounts. */
export type CardRegistry = {
  /**
   * Stores the card and its accounts in one transaction; when a unique index refuses it,
   * answers the card already stored with the same domain and number (if any).
   */
  insertCardWithAccounts: (
    card: NewCard,
  ) => Promise<{ created: true; card: Card } | { created: false; existing: Card | undefined }>;
};

/**
 * Registers a card, idempotently: the same card number with the same holder answers the card
 * already registered (the ERP may resend after a timeout); with another holder it is refused.
 * @throws AppError('invalid-input') for a bad card number or holder.
 * @throws AppError('conflict') when the number belongs to another holder, or its card code is
 *   already used by a card of another domain (card codes are unique across domains).
 */
export async function registerCard(
  registry: CardRegistry,
  domain: DomainCardSettings,
  input: { cardNumber: string; holder: { fiscalCode: string; fullName: string } },
): Promise<{ card: Card; created: boolean }> {
  const card = newCard(domain, input);
  const stored = await registry.insertCardWithAccounts(card);
  if (stored.created) return { card: stored.card, created: true };
  const { existing } = stored;
  if (existing === undefined) {
    throw new AppError(
      'conflict',
      `card code ${card.cardCode} is already used by a card of another domain; card codes must be unique across domains`,
    );
  }
  if (!sameHolder(existing.holder, card.holder)) {
    throw new AppError(
      'conflict',
      `card ${card.cardNumber} is already registered to another holder; use a new card number, or ask an operator to transfer the card`,
      { cardCode: existing.cardCode },
    );
  }
  return { card: existing, created: false };
}
