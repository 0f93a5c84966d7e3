import type { Plan, RequestedPlan } from './types';

/** The most options one position may have (24 monthly instalments; alternatives are fewer). */
export const OPTIONS_MAX = 24;

/**
 * Decides how the options of a request relate, from the request's shape.
 *
 * The shape the ERP sends:
 * - one option, no `installment`: a SINGLE payment (`plan` absent or `SINGLE`);
 * - several options each with an `installment` number 1..n: INSTALLMENT, all of them due
 *   (`plan` absent or `INSTALLMENTS`);
 * - several options without numbers and `plan: "ALTERNATIVES"`: ALTERNATIVE, ways to pay the same
 *   debt, paying one settles the position (a road fine: reduced within 5 days, full later).
 * Anything else is ambiguous and refused with a sentence saying what to send instead: we never
 * guess whether two options are both due or either-or, since guessing wrong bills a family twice.
 *
 * @returns the plan, or the reason the shape is refused.
 */
export function detectPlan(
  requested: RequestedPlan | undefined,
  options: readonly { installment?: number | undefined }[],
): { plan: Plan } | { error: string } {
  const count = options.length;
  if (count === 0) return { error: 'a position needs at least one payment option' };
  if (count > OPTIONS_MAX)
    return { error: `a position has at most ${OPTIONS_MAX} payment options` };
  const numbered = options.filter((o) => o.installment !== undefined).length;

  if (numbered > 0) {
    if (requested !== undefined && requested !== 'INSTALLMENTS') {
      return { error: `installment numbers are only for plan INSTALLMENTS, not ${requested}` };
    }
    if (count === 1) {
      return { error: 'a single option is not an instalment plan: drop its installment number' };
    }
    if (numbered !== count) {
      return { error: 'every option needs an installment number when one of them has one' };
    }
    const numbers = options.map((o) => o.installment ?? 0).sort((a, b) => a - b);
    if (numbers.some((n, i) => n !== i + 1)) {
      return { error: `installment numbers must be 1 to ${count}, each once` };
    }
    return { plan: 'INSTALLMENT' };
  }

  switch (requested) {
    case 'INSTALLMENTS':
      return { error: `plan INSTALLMENTS needs installment numbers 1 to ${count} on the options` };
    case 'ALTERNATIVES':
      return count >= 2
        ? { plan: 'ALTERNATIVE' }
        : { error: 'plan ALTERNATIVES needs at least two payment options' };
    case 'SINGLE':
    case undefined:
      return count === 1
        ? { plan: 'SINGLE' }
        : {
            error:
              'several payment options need either installment numbers (all due) or plan ALTERNATIVES (either one)',
          };
  }
}
