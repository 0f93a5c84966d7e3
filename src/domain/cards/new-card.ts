import { ACCOUNTS, type Account } from '../../data-access/ledger-repository';
import { makeCardCode, type CardCodeAlgorithm } from '../codes/card-code';
import { toHolder, type Holder } from './holder';

/**
 * Registering a card: its code, its holder and one account per service.
 *
 * Why the accounts are made with the card: every later posting (top-up, meal, billing) targets an
 * account row and locks it; creating all three at once means no posting ever has to create one
 * on the fly, which would race.
 */

export type DomainCardSettings = {
  fiscalCode: string;
  cardCodeAlgorithm: CardCodeAlgorithm;
  accounts: Record<Account, { overdraftLimitCents: number }>;
};

export type NewCard = {
  domainId: string;
  cardNumber: string;
  cardCode: string;
  holder: Holder;
  accounts: { account: Account; overdraftLimitCents: number }[];
};

/**
 * The card to store for a registration request in a domain.
 * @throws AppError('invalid-input') for a card number that is not 1 to 33 digits or a bad holder.
 */
export function newCard(
  domain: DomainCardSettings,
  input: { cardNumber: string; holder: { fiscalCode: string; fullName: string } },
): NewCard {
  return {
    domainId: domain.fiscalCode,
    cardNumber: input.cardNumber,
    cardCode: makeCardCode(input.cardNumber, domain.cardCodeAlgorithm),
    holder: toHolder(input.holder),
    accounts: ACCOUNTS.map((account) => ({
      account,
      overdraftLimitCents: domain.accounts[account].overdraftLimitCents,
    })),
  };
}
