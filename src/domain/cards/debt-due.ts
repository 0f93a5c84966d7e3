/**
 * What a card holder still owes on an open debt position, shown on the card.
 *
 * - SINGLE and INSTALLMENT options are all due: their unpaid amounts add up.
 * - ALTERNATIVE options are ways to pay the same debt (a road fine's reduced amount within five
 *   days, or the full amount later): paying one closes the others, so the least of the unpaid
 *   alternatives is what settles the debt, and that is what is shown.
 * Amounts are the options' stored `amount_cents`; a time-dependent schedule is not applied here.
 */

export type OptionPlan = 'SINGLE' | 'INSTALLMENT' | 'ALTERNATIVE';

export type UnpaidOption = { plan: OptionPlan; amountCents: number };

export function amountDueCents(unpaid: readonly UnpaidOption[]): number {
  let due = 0;
  let cheapestAlternative: number | undefined;
  for (const option of unpaid) {
    if (option.plan === 'ALTERNATIVE') {
      cheapestAlternative = Math.min(cheapestAlternative ?? option.amountCents, option.amountCents);
    } else {
      due += option.amountCents;
    }
  }
  return due + (cheapestAlternative ?? 0);
}
