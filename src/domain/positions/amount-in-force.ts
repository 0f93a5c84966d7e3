import type { ScheduleStep } from './types';

/**
 * The amount of an option in force on a day.
 *
 * Why a schedule on one option: a road fine paid within 5 days of notification costs 30% less
 * (art. 202 CdS). PAGOPA.md §8 allows either one notice per amount or one notice whose amount is
 * "actualised"; a schedule is the second way: the notice printed on the fine stays the same, and
 * paVerify/paGetPayment tell the node the amount in force on the day they are asked.
 *
 * The steps are in increasing `until` order (checked when the position is stored): the first step
 * whose `until` is on or after `day` gives the amount; after the last step, `amountCents` does.
 * Dates are `YYYY-MM-DD` strings, so comparing them as text compares the days.
 */
export function amountInForce(
  option: { amountCents: number; amountSchedule: readonly ScheduleStep[] | null },
  day: string,
): number {
  for (const step of option.amountSchedule ?? []) {
    if (day <= step.until) return step.amountCents;
  }
  return option.amountCents;
}
