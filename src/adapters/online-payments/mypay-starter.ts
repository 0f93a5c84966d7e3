import { AppError } from '../../domain/errors';
import { romeDate } from '../../domain/positions/dates';
import { payableNotice } from '../../domain/positions/payable-notice';
import { buildDovuti, type MyPayDues } from '../mypay/documents';
import type { MyPayNodeClient } from '../node-client';
import type {
  OnlinePaymentInput,
  OnlinePaymentLine,
  OnlinePaymentStarter,
  StartedOnlinePayment,
} from './ports';

/**
 * `mypay` dialect: the lines as one Dovuti document, sent with paaSILInviaDovuti; MyPay answers
 * its checkout page and the idSession that paaSILChiediPagati is later asked about (MyPay pushes
 * nothing: the outcome is pulled).
 *
 * Each item's IUD (identificativoUnivocoDovuto) is the line's payment id without dashes, so a
 * Pagati line names its payment attempt. The Dovuti carries one IUV for all its items, so it names
 * ours only for a single line; with several, MyPay assigns it and the IUDs are the link.
 */
export class MyPayOnlinePaymentStarter implements OnlinePaymentStarter {
  readonly channel = 'MYPAY' as const;

  constructor(
    private readonly client: MyPayNodeClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(input: OnlinePaymentInput): Promise<StartedOnlinePayment> {
    const dues = duesOf(input, romeDate(this.now()));
    const xml = buildDovuti(dues);
    const started = await this.client.start({ dues, returnUrl: input.returnUrl });
    if (started.sessionId === undefined) {
      // Without idSession the outcome can never be asked for: the payment would be lost to us.
      throw new AppError('upstream-error', 'paaSILInviaDovuti answered no idSession', {
        operation: 'paaSILInviaDovuti',
      });
    }
    return {
      channel: this.channel,
      redirectUrl: started.redirectUrl,
      sessionId: started.sessionId,
      documents: [
        {
          paymentId: input.lines[0]?.paymentId ?? input.cartId,
          kind: 'DOVUTI',
          iuv: dues.iuv ?? null,
          ccp: null,
          xml,
        },
      ],
    };
  }
}

/** The IUD of a line: its payment id without dashes (32 of the 35 characters allowed). */
export const dueIdOf = (paymentId: string): string => paymentId.replace(/-/g, '');

/**
 * The Dovuti of the lines: the first position's debtor pays; one item per line.
 * @throws AppError('invalid-input') for a marca da bollo (not sent through MyPay's dues here) or
 * an amount in force that moved since the line was priced.
 */
export function duesOf(input: OnlinePaymentInput, today: string): MyPayDues {
  const first = input.lines[0];
  if (first === undefined) throw new AppError('invalid-input', 'no line to pay');
  const debtor = first.position.debtor;
  return {
    payer: {
      kind: debtor.type,
      taxCode: debtor.fiscalCode,
      name: debtor.fullName.slice(0, 70),
      ...(debtor.email === null ? {} : { email: debtor.email }),
    },
    ...(input.lines.length === 1 ? { iuv: first.option.iuv } : {}),
    items: input.lines.map((line) => itemOf(line, today)),
  };
}

function itemOf(line: OnlinePaymentLine, today: string): MyPayDues['items'][number] {
  const payable = payableNotice(line.position, { iuv: line.option.iuv }, today, { postal: false });
  if (payable.amountCents !== line.amountCents) {
    throw new AppError(
      'invalid-input',
      `notice ${line.option.noticeNumber}: ${line.amountCents} cents asked, ${payable.amountCents} in force`,
    );
  }
  if (payable.hasStamp) {
    throw new AppError(
      'invalid-input',
      `notice ${line.option.noticeNumber}: a marca da bollo is not paid through MyPay dues`,
    );
  }
  const taxonomy = payable.transfers[0]?.taxonomyCode ?? '';
  return {
    dueId: dueIdOf(line.paymentId),
    amountCents: payable.amountCents,
    dueTypeCode: line.position.service,
    remittanceInformation: line.position.description.slice(0, 1024),
    collectionData: `9/${taxonomy}/`,
  };
}
