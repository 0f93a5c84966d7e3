import { AppError } from '../errors';
import { amountInForce } from './amount-in-force';
import type { Debtor, OptionStatus, Plan, PositionStatus, ScheduleStep } from './types';

/**
 * What a printed payment notice shows for a position: which options, at which amounts.
 *
 * Why here and not in the PDF code: which options a citizen may still pay, and at what amount
 * today, are rules of the position; the renderer only draws what it is given.
 */
export type NoticeSource = {
  status: PositionStatus;
  plan: Plan;
  description: string;
  debtor: Debtor;
  options: readonly {
    noticeNumber: string;
    amountCents: number;
    amountSchedule: readonly ScheduleStep[] | null;
    dueDate: string;
    installment: number | null;
    status: OptionStatus;
  }[];
};

export type NoticeContent = {
  plan: 'SINGLE' | 'INSTALLMENTS' | 'ALTERNATIVES';
  subject: string;
  debtor: { fiscalCode: string; fullName: string };
  options: {
    noticeNumber: string;
    amountCents: number;
    dueDate: string;
    installment?: { number: number; of: number };
  }[];
};

/**
 * The notice of a position on `today`: every option still payable, at the amount in force today
 * (a road fine's reduced amount while it applies), instalments numbered out of their total.
 * @throws AppError('position-paid' | 'position-cancelled') when there is nothing left to pay.
 */
export function noticeContent(position: NoticeSource, today: string): NoticeContent {
  if (position.status === 'CANCELLED') {
    throw new AppError(
      'position-cancelled',
      'the position is cancelled: there is no notice to print',
    );
  }
  if (position.status === 'PAID') {
    throw new AppError('position-paid', 'the position is paid: there is no notice to print');
  }
  const payable = position.options.filter((o) => o.status === 'UNPAID');
  if (payable.length === 0) {
    throw new AppError('position-paid', 'every option of the position is paid or cancelled');
  }
  const total = position.options.length;
  const plan =
    position.plan === 'INSTALLMENT'
      ? 'INSTALLMENTS'
      : position.plan === 'ALTERNATIVE'
        ? 'ALTERNATIVES'
        : 'SINGLE';
  return {
    plan: plan === 'SINGLE' || payable.length > 1 ? plan : 'SINGLE',
    subject: position.description,
    debtor: { fiscalCode: position.debtor.fiscalCode, fullName: position.debtor.fullName },
    options: payable.map((o) => ({
      noticeNumber: o.noticeNumber,
      amountCents: amountInForce(o, today),
      dueDate: o.dueDate,
      ...(plan === 'INSTALLMENTS' && o.installment !== null && payable.length > 1
        ? { installment: { number: o.installment, of: total } }
        : {}),
    })),
  };
}
