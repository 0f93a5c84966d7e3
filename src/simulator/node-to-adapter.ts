/**
 * The simulated node and PSP talking to the adapter's paForNode door: the same builders and
 * parsers as the adapter (src/adapters/pagopa/pa-for-node), used from the other side.
 *
 * Receipt delivery can be scripted to exercise the adapter's duplicate and retry handling
 * (PAGOPA.md §6): a resend, a delay, a timeout followed by a resend, a malformed document, or
 * no delivery at all (the receipt is kept here; recovery has to find it).
 */
import { randomBytes } from 'node:crypto';
import {
  buildCardTopUpDocument,
  buildPaDemandPaymentNoticeRequest,
  buildPaGetPaymentRequest,
  buildPaSendRtRequest,
  buildPaVerifyPaymentNoticeRequest,
  parsePaDemandPaymentNoticeResponse,
  parsePaGetPaymentResponse,
  parsePaSendRtResponse,
  parsePaVerifyPaymentNoticeResponse,
  type CardAccount,
  type Fault,
  type NoticeRef,
  type PaymentData,
  type Receipt,
  type StationRef,
} from '../adapters/pagopa/pa-for-node';
import { AppError } from '../domain/errors';
import type { DomainConfig, Domains } from '../shared/domains-config';
import {
  CARD_TOP_UP_SERVICE_ID,
  CARD_TOP_UP_SERVICE_SUBJECT_ID,
} from '../entry-points/soap/handlers/pa-demand-payment-notice';

export const DELIVERY_MODES = [
  'normal',
  'duplicate',
  'delay',
  'timeout',
  'malformed',
  'never',
] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

export interface DeliveryScript {
  readonly mode: DeliveryMode;
  /** `delay`: wait this long before sending; `timeout`: give up on the first send after this. */
  readonly ms?: number | undefined;
}

/** One call made to the adapter and what it answered. */
export interface Step {
  readonly operation: string;
  readonly outcome: 'OK' | 'KO' | 'NO_ANSWER' | 'NOT_SENT' | 'SCHEDULED';
  readonly faultCode?: string;
  readonly description?: string;
}

/** The PSP the simulator plays (appears in every receipt). */
export const SIMULATED_PSP = {
  id: 'SIMPSP01',
  fiscalCode: '00000000001',
  companyName: 'Simulated PSP',
  channelId: 'SIMPSP01_01',
  channelDescription: 'simulator',
} as const;

/** The (stamp-free) receipt the node would send after the PSP collected `payment`. */
export function receiptFor(
  notice: NoticeRef,
  payment: PaymentData,
  extra: { paymentNote?: string } = {},
): Receipt {
  const now = new Date();
  const day = now.toISOString().slice(0, 10);
  return {
    receiptId: randomBytes(16).toString('hex'),
    noticeNumber: notice.noticeNumber,
    domainFiscalCode: notice.domainFiscalCode,
    outcome: 'OK',
    iuv: payment.iuv,
    amountCents: payment.amountCents,
    description: payment.description,
    companyName: payment.companyName ?? 'n/a',
    ...(payment.officeName === undefined ? {} : { officeName: payment.officeName }),
    debtor: payment.debtor,
    transfers: payment.transfers.map((t) => ({
      transferId: t.transferId,
      amountCents: t.amountCents,
      domainFiscalCode: t.domainFiscalCode,
      ...(t.companyName === undefined ? {} : { companyName: t.companyName }),
      ...(t.stamp === undefined
        ? { iban: t.iban }
        : { stamp: { documentBase64: Buffer.from('<marcaDaBollo/>').toString('base64') } }),
      remittanceInformation: t.remittanceInformation,
      transferCategory: t.transferCategory,
      ...(t.metadata === undefined ? {} : { metadata: t.metadata }),
    })),
    psp: { ...SIMULATED_PSP },
    paymentMethod: 'CP',
    ...(extra.paymentNote === undefined ? {} : { paymentNote: extra.paymentNote }),
    feeCents: 100,
    // No zone: Italian local time on the wire; close enough for a simulator.
    paymentDateTime: now.toISOString().slice(0, 19),
    applicationDate: day,
    transferDate: day,
  };
}

export interface AdapterDoorOptions {
  /** The adapter's paForNode endpoint, e.g. http://127.0.0.1:8081/pagopa/paForNode. */
  readonly url: string;
  readonly domains: Domains;
  readonly timeoutMs: number;
}

/** The adapter's SOAP door as the node sees it. */
export class AdapterDoor {
  /** Receipts scripted as `never` delivered, by receipt id (recovery would fetch them). */
  readonly undelivered = new Map<string, Receipt>();

  constructor(private readonly o: AdapterDoorOptions) {}

  station(domainFiscalCode: string): StationRef {
    const d: DomainConfig | undefined = this.o.domains.find(domainFiscalCode);
    if (d === undefined) throw new AppError('not-found', `no domain ${domainFiscalCode}`);
    return { domainId: d.fiscalCode, brokerId: d.brokerFiscalCode, stationId: d.stationId };
  }

  private async post(
    operation: string,
    body: string,
    timeoutMs = this.o.timeoutMs,
  ): Promise<string | undefined> {
    try {
      const res = await fetch(this.o.url, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: operation },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return await res.text();
    } catch {
      return undefined;
    }
  }

  private static step(operation: string, r: { outcome: 'OK' | 'KO'; fault?: Fault }): Step {
    return {
      operation,
      outcome: r.outcome,
      ...(r.fault === undefined ? {} : { faultCode: r.fault.faultCode }),
      ...(r.fault?.description === undefined ? {} : { description: r.fault.description }),
    };
  }

  async verify(notice: NoticeRef): Promise<{ step: Step; amountCents?: number }> {
    const op = 'paVerifyPaymentNotice';
    const xml = await this.post(
      op,
      buildPaVerifyPaymentNoticeRequest({ station: this.station(notice.domainFiscalCode), notice }),
    );
    if (xml === undefined) return { step: { operation: op, outcome: 'NO_ANSWER' } };
    const res = parsePaVerifyPaymentNoticeResponse(xml);
    return res.outcome === 'OK'
      ? { step: AdapterDoor.step(op, res), amountCents: res.paymentOption.amountCents }
      : { step: AdapterDoor.step(op, res) };
  }

  async getPayment(
    notice: NoticeRef,
    opts: { amountCents?: number; paymentNote?: string } = {},
  ): Promise<{ step: Step; payment?: PaymentData }> {
    const op = 'paGetPaymentV2';
    const xml = await this.post(
      op,
      buildPaGetPaymentRequest({
        version: 2,
        station: this.station(notice.domainFiscalCode),
        notice,
        ...(opts.amountCents === undefined ? {} : { amountCents: opts.amountCents }),
        ...(opts.paymentNote === undefined ? {} : { paymentNote: opts.paymentNote }),
      }),
    );
    if (xml === undefined) return { step: { operation: op, outcome: 'NO_ANSWER' } };
    const res = parsePaGetPaymentResponse(xml);
    return res.outcome === 'OK'
      ? { step: AdapterDoor.step(op, res), payment: res.payment }
      : { step: AdapterDoor.step(op, res) };
  }

  async demand(input: {
    domainFiscalCode: string;
    cardCode: string;
    account: CardAccount;
    amountCents: number;
  }): Promise<{ step: Step; notice?: NoticeRef }> {
    const op = 'paDemandPaymentNotice';
    const xml = await this.post(
      op,
      buildPaDemandPaymentNoticeRequest({
        station: this.station(input.domainFiscalCode),
        serviceId: CARD_TOP_UP_SERVICE_ID,
        serviceSubjectId: CARD_TOP_UP_SERVICE_SUBJECT_ID,
        serviceDataXml: buildCardTopUpDocument(input),
      }),
    );
    if (xml === undefined) return { step: { operation: op, outcome: 'NO_ANSWER' } };
    const res = parsePaDemandPaymentNoticeResponse(xml);
    return res.outcome === 'OK'
      ? { step: AdapterDoor.step(op, res), notice: res.notice }
      : { step: AdapterDoor.step(op, res) };
  }

  private async sendOnce(receipt: Receipt, timeoutMs?: number): Promise<Step> {
    const op = 'paSendRTV2';
    const xml = await this.post(
      op,
      buildPaSendRtRequest({
        version: 2,
        station: this.station(receipt.domainFiscalCode),
        receipt,
      }),
      timeoutMs,
    );
    if (xml === undefined) return { operation: op, outcome: 'NO_ANSWER' };
    return AdapterDoor.step(op, parsePaSendRtResponse(xml));
  }

  /**
   * Sends a receipt held back by a `never` script, as the node's retry queue finally does
   * (PAGOPA.md §6); it is forgotten once the adapter answered OK.
   * @throws AppError('not-found') for a receipt that is not held.
   */
  async deliverHeld(receiptId: string): Promise<Step> {
    const receipt = this.undelivered.get(receiptId);
    if (receipt === undefined) throw new AppError('not-found', `no held receipt ${receiptId}`);
    const step = await this.sendOnce(receipt);
    if (step.outcome === 'OK') this.undelivered.delete(receiptId);
    return step;
  }

  /**
   * Delivers a receipt as scripted. `delay` answers at once with a SCHEDULED step and delivers
   * in the background (the returned promise of `delivered` settles when it is done).
   */
  async deliver(
    receipt: Receipt,
    script: DeliveryScript = { mode: 'normal' },
  ): Promise<{ steps: Step[]; delivered: Promise<Step[]> }> {
    const op = 'paSendRTV2';
    switch (script.mode) {
      case 'normal': {
        const steps = [await this.sendOnce(receipt)];
        return { steps, delivered: Promise.resolve(steps) };
      }
      case 'duplicate': {
        const steps = [await this.sendOnce(receipt), await this.sendOnce(receipt)];
        return { steps, delivered: Promise.resolve(steps) };
      }
      case 'timeout': {
        // The node stops waiting (the adapter may or may not have stored it), then resends.
        const first = await this.sendOnce(receipt, script.ms ?? 1);
        const steps = [first, await this.sendOnce(receipt)];
        return { steps, delivered: Promise.resolve(steps) };
      }
      case 'delay': {
        const ms = script.ms ?? 1_000;
        const delivered = new Promise<void>((r) => setTimeout(r, ms).unref()).then(async () => [
          await this.sendOnce(receipt),
        ]);
        return { steps: [{ operation: op, outcome: 'SCHEDULED' }], delivered };
      }
      case 'malformed': {
        // A truncated envelope: the adapter must refuse it and store nothing.
        const whole = buildPaSendRtRequest({
          version: 2,
          station: this.station(receipt.domainFiscalCode),
          receipt,
        });
        const xml = await this.post(op, whole.slice(0, Math.floor(whole.length / 2)));
        const steps: Step[] = [
          xml === undefined
            ? { operation: op, outcome: 'NO_ANSWER' }
            : { operation: op, outcome: 'KO', ...faultCodeOf(xml) },
        ];
        return { steps, delivered: Promise.resolve(steps) };
      }
      case 'never': {
        this.undelivered.set(receipt.receiptId, receipt);
        const steps: Step[] = [{ operation: op, outcome: 'NOT_SENT' }];
        return { steps, delivered: Promise.resolve(steps) };
      }
    }
  }
}

/** The faultCode of any SOAP answer, read loosely (a fault to a malformed request). */
function faultCodeOf(xml: string): { faultCode?: string } {
  const m =
    /<faultCode>([^<]+)<\/faultCode>/.exec(xml) ?? /<faultcode>([^<]+)<\/faultcode>/.exec(xml);
  return m?.[1] === undefined ? {} : { faultCode: m[1] };
}
