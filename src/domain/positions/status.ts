import type { OptionStatus, Plan, PositionStatus } from './types';

/**
 * A position's status follows from its options:
 * - CANCELLED stays CANCELLED (cancelling is a decision, not a consequence of options);
 * - no option paid: OPEN;
 * - ALTERNATIVE: any option paid settles the whole debt, PAID;
 * - SINGLE and INSTALLMENT: every option paid is PAID, some is PARTIALLY_PAID.
 */
export function positionStatus(position: {
  status: PositionStatus;
  plan: Plan;
  options: readonly { status: OptionStatus }[];
}): PositionStatus {
  if (position.status === 'CANCELLED') return 'CANCELLED';
  const paid = position.options.filter((o) => o.status === 'PAID').length;
  if (paid === 0) return 'OPEN';
  if (position.plan === 'ALTERNATIVE') return 'PAID';
  return paid === position.options.length ? 'PAID' : 'PARTIALLY_PAID';
}
