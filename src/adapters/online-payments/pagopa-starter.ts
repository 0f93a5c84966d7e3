import type { PagopaNodeClient } from '../node-client';
import type { OnlinePaymentInput, OnlinePaymentStarter, StartedOnlinePayment } from './ports';

/**
 * `pagopa` dialect: a Checkout cart of the lines' notices. Checkout names no session and no CCP:
 * the receipts (paSendRTV2) find their options by notice number, and the cart id comes back as
 * paymentNote in paGetPaymentV2.
 */
export class PagopaOnlinePaymentStarter implements OnlinePaymentStarter {
  readonly channel = 'CHECKOUT' as const;

  constructor(private readonly client: PagopaNodeClient) {}

  async start(input: OnlinePaymentInput): Promise<StartedOnlinePayment> {
    const started = await this.client.start({
      notices: input.lines.map((l) => ({
        noticeNumber: l.option.noticeNumber,
        domainFiscalCode: input.domain.fiscalCode,
        amountCents: l.amountCents,
        companyName: input.domain.name.slice(0, 140),
        description: l.position.description.slice(0, 140),
      })),
      returnUrls: input.returnUrls,
      cartId: input.cartId,
      ...(input.email === undefined ? {} : { emailNotice: input.email }),
    });
    return { channel: this.channel, redirectUrl: started.redirectUrl };
  }
}
