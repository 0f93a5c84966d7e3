import { AppError } from '../../../src/domain/errors';
import { chargeCard, type CardLedger } from '../../../src/domain/cards/charge-card';
import { registerCard, type CardRegistry } from '../../../src/domain/cards/register-card';
import type { NewCard } from '../../../src/domain/cards/new-card';
import type { Card } from '../../../src/domain/cards/types';

const domain = {
  fiscalCode: '80000000001',
  cardCodeAlgorithm: 'mod93' as const,
  accounts: {
    CANTEEN: { overdraftLimitCents: 0 },
    NURSERY_MEALS: { overdraftLimitCents: 0 },
    SCHOOL_TRANSPORT: { overdraftLimitCents: 100_000 },
  },
};

const stored = (card: NewCard): Card => ({
  id: 7,
  domainId: card.domainId,
  cardNumber: card.cardNumber,
  cardCode: card.cardCode,
  holder: card.holder,
  createdAt: new Date('2026-11-23T08:00:00Z'),
});

const holder = { fiscalCode: 'rssmra85t10a562s', fullName: 'Rossi Mario' };

describe('registering a card', () => {
  test('a new card is stored with its code, upper-cased holder and the domain limits', async () => {
    const seen: NewCard[] = [];
    const registry: CardRegistry = {
      insertCardWithAccounts: (card) => {
        seen.push(card);
        return Promise.resolve({ created: true, card: stored(card) });
      },
    };
    const result = await registerCard(registry, domain, { cardNumber: '12345', holder });
    expect(result.created).toBe(true);
    expect(seen[0]).toEqual({
      domainId: '80000000001',
      cardNumber: '12345',
      cardCode: '1234569',
      holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      accounts: [
        { account: 'CANTEEN', overdraftLimitCents: 0 },
        { account: 'NURSERY_MEALS', overdraftLimitCents: 0 },
        { account: 'SCHOOL_TRANSPORT', overdraftLimitCents: 100_000 },
      ],
    });
  });

  const refusedWith = (existing: Card | undefined): CardRegistry => ({
    insertCardWithAccounts: () => Promise.resolve({ created: false, existing }),
  });
  const existing: Card = {
    id: 3,
    domainId: '80000000001',
    cardNumber: '12345',
    cardCode: '1234569',
    holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
    createdAt: new Date(),
  };

  test('the same number and holder again answers the card already stored', async () => {
    await expect(
      registerCard(refusedWith(existing), domain, { cardNumber: '12345', holder }),
    ).resolves.toEqual({ card: existing, created: false });
  });

  test('the same number with another holder is a conflict', async () => {
    await expect(
      registerCard(refusedWith(existing), domain, {
        cardNumber: '12345',
        holder: { ...holder, fullName: 'Bianchi Anna' },
      }),
    ).rejects.toMatchObject({ code: 'conflict', message: /another holder/ });
  });

  test('a code clash with another domain is a conflict that says so', async () => {
    await expect(
      registerCard(refusedWith(undefined), domain, { cardNumber: '12345', holder }),
    ).rejects.toMatchObject({ code: 'conflict', message: /another domain/ });
  });

  test('a bad card number is refused before storage is touched', async () => {
    const registry: CardRegistry = {
      insertCardWithAccounts: () => Promise.reject(new Error('must not be called')),
    };
    await expect(
      registerCard(registry, domain, { cardNumber: '12a45', holder }),
    ).rejects.toMatchObject({ code: 'invalid-input' });
  });
});

describe('charging a card', () => {
  const card = existing();
  function existing(): Card {
    return {
      id: 3,
      domainId: '80000000001',
      cardCode: '1234569',
      cardNumber: '12345',
      holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      createdAt: new Date(),
    };
  }
  const request = {
    account: 'CANTEEN' as const,
    amountCents: 450,
    reference: 'meal-1',
    description: 'Pranzo',
  };
  const failingWith = (err: Error): CardLedger => ({
    postToCardAccount: () => Promise.reject(err),
  });

  test('posts a CHARGE debit under the scoped key, enforcing the overdraft limit', async () => {
    const calls: unknown[] = [];
    const ledger: CardLedger = {
      postToCardAccount: (...args) => {
        calls.push(args);
        return Promise.reject(new Error('stop'));
      },
    };
    await expect(chargeCard(ledger, card, request)).rejects.toThrow('stop');
    expect(calls[0]).toEqual([
      3,
      'CANTEEN',
      expect.objectContaining({
        amountCents: -450,
        kind: 'CHARGE',
        idempotencyKey: 'charge:80000000001:1234569:meal-1',
        reference: 'meal-1',
        description: 'Pranzo',
      }),
      { enforceOverdraft: true },
    ]);
  });

  test('insufficient credit is explained in euros with the account', async () => {
    const err = new AppError('insufficient-credit', 'balance 300 cents does not cover 450', {
      balanceCents: 300,
      overdraftLimitCents: 0,
    });
    await expect(chargeCard(failingWith(err), card, request)).rejects.toMatchObject({
      code: 'insufficient-credit',
      message: expect.stringMatching(/CANTEEN balance of card 1234569 is 3\.00 EUR.*4\.50 EUR/),
      details: { account: 'CANTEEN', balanceCents: 300, overdraftLimitCents: 0 },
    });
  });

  test('a reused reference is explained without the internal ledger key', async () => {
    const err = new AppError('idempotency-conflict', '"charge:..." was already used', {});
    const thrown = await chargeCard(failingWith(err), card, request).catch((e: unknown) => e);
    expect(thrown).toMatchObject({
      code: 'idempotency-conflict',
      details: { reference: 'meal-1' },
    });
    expect((thrown as AppError).message).toMatch(/reference "meal-1" was already used/);
    expect((thrown as AppError).message).not.toContain('charge:');
  });

  test('other errors pass through unchanged', async () => {
    const err = new Error('connection lost');
    await expect(chargeCard(failingWith(err), card, request)).rejects.toBe(err);
  });
});
