/**
 * Starting an EC-initiated online payment, whatever the domain's dialect: a Checkout cart
 * (`pagopa`), one RPT or a cart of RPTs on WISP's universal route (`rpt`), or MyPay dues
 * (`mypay`). The caller names the positions and options it wants paid; the starter turns them into
 * its upstream's documents, calls it, and answers where the citizen goes next plus what the
 * payment attempts must remember to find the payment again (the CCP of each RPT, the session).
 *
 * Errors: those of the node client (ports.ts of node-client): AppError('upstream-error') for a
 * refusal or an ambiguous timeout, AppError('dependency-down') for an unreachable upstream, and
 * AppError('invalid-input') when the positions cannot be expressed in the dialect.
 */
import type { NoticeOption, NoticePosition } from '../../domain/positions/payable-notice';
import type { DebtorType } from '../../domain/positions/types';
import type { DomainConfig } from '../../shared/domains-config';

/** One position's option to pay, with the payment id its attempt will carry. */
export interface OnlinePaymentLine {
  /** Our id of the payment attempt (a UUID). */
  readonly paymentId: string;
  readonly position: NoticePosition & {
    readonly externalId: string;
    readonly service: string;
    readonly description: string;
    readonly debtor: {
      readonly type: DebtorType;
      readonly fiscalCode: string;
      readonly fullName: string;
      readonly email: string | null;
    };
  };
  readonly option: NoticeOption;
  /** The amount in force today, integer cents. */
  readonly amountCents: number;
}

export interface OnlinePaymentInput {
  readonly domain: DomainConfig;
  /** Our id of the cart (a UUID); the payment id for a single top-up. */
  readonly cartId: string;
  /** 1..5 lines, all of `domain`. */
  readonly lines: readonly OnlinePaymentLine[];
  /** Where the citizen comes back, with our outcome hint (Checkout, WISP). */
  readonly returnUrls: { readonly ok: string; readonly cancel: string; readonly error: string };
  /** The ERP's return URL naming the payment or cart but no outcome (MyPay adds its own esito). */
  readonly returnUrl: string;
  /** Where the upstream sends the payer's receipt, when it does. */
  readonly email?: string;
}

export type OnlinePaymentChannel = 'CHECKOUT' | 'RPT' | 'MYPAY';

/** A document sent upstream to start the payment (kept so operators can see what was sent). */
export interface SentDocument {
  readonly paymentId: string;
  readonly kind: 'RPT' | 'DOVUTI';
  readonly iuv: string | null;
  /** The RPT's codiceContestoPagamento; null for MyPay dues. */
  readonly ccp: string | null;
  readonly xml: string;
}

export interface StartedOnlinePayment {
  readonly channel: OnlinePaymentChannel;
  /** The page to send the citizen to. */
  readonly redirectUrl: string;
  /** The upstream's session (WISP's and MyPay's idSession). */
  readonly sessionId?: string;
  /** rpt: the CCP each line's RPT was sent with (what nodoChiediCopiaRT needs later). */
  readonly ccpByPaymentId?: Readonly<Record<string, string>>;
  /** rpt and mypay: the documents sent. */
  readonly documents?: readonly SentDocument[];
}

export interface OnlinePaymentStarter {
  readonly channel: OnlinePaymentChannel;
  /** Not retried: a timeout is reported as ambiguous (details.ambiguous). */
  start(input: OnlinePaymentInput): Promise<StartedOnlinePayment>;
}

/** Most lines one start may carry (Checkout carts, RPT carts and MyPay dues alike). */
export const LINES_MAX = 5;
