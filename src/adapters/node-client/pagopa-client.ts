/**
 * The `pagopa` dialect (new model, directly or through an intermediary station such as IRIS):
 * - payments start with a Checkout cart (`POST <CHECKOUT_BASE_URL>/checkout/ec/v1/carts`, 1..5
 *   notices, amounts in integer cents); Checkout answers 302 and its Location is the redirect;
 * - receipts are recovered from the biz-events service
 *   (`GET <NODE_REST_BASE_URL>/organizations/{cf}/receipts/{iur}[/paymentoptions/{iuv}]`),
 *   which pagoPA throttles: call it on a missing receipt, never in a loop. That service finds a
 *   receipt only by its id (IUR = the node's paymentToken), which the EC learns from the receipt
 *   itself; the one lookup by creditor and IUV is the biz-events Helpdesk API's
 *   `GET <NODE_REST_HELPDESK_BASE_URL>/events/organizations/{cf}/iuvs/{iuv}`
 *   (getBizEventByOrganizationFiscalCodeAndIuv, pagopa-biz-events-service), whose answer is the
 *   biz-event and carries the paymentToken;
 * - reporting flows come from nodeForPa (nodoChiediElencoFlussiRendicontazione /
 *   nodoChiediFlussoRendicontazione), which still wants the station password in the body.
 * Every call carries the domain's `Ocp-Apim-Subscription-Key` (a secret, never logged).
 */
import { AppError } from '../../domain/errors';
import {
  buildFlowListRequest,
  buildFlowRequest,
  parseFlowListResponse,
  parseFlowResponse,
} from '../pagopa/node-for-pa';
import { subscriptionHeader, toFlowRefs, type ClientContext } from './common';
import type {
  CheckoutCartInput,
  PaymentStarter,
  ReceiptCopier,
  ReceiptCopy,
  ReceiptIdFinder,
  ReceiptIdLookup,
  ReceiptKey,
  ReportingFlowRef,
  ReportingFlowSource,
  StartedPayment,
} from './ports';
import { faultError, interpretSoap, soapRequest } from './soap';
import { upstreamError, type HttpResponse } from './transport';

export const CHECKOUT_CARTS_PATH = '/checkout/ec/v1/carts';

export interface PagopaClientOptions extends ClientContext {
  readonly checkoutBaseUrl?: string;
  readonly restBaseUrl?: string;
  /** The biz-events Helpdesk API (lookup by creditor and IUV). */
  readonly helpdeskBaseUrl?: string;
  readonly nodeBaseUrl?: string;
  readonly subscriptionKey: string;
  /** The station password, needed by nodeForPa only. */
  readonly password?: string;
}

const text140 = (v: string): boolean => v.length >= 1 && v.length <= 140;

/** A problem+json's title and detail (never the whole body: it may echo personal data). */
function problemSummary(res: HttpResponse): Record<string, unknown> {
  try {
    const j = JSON.parse(res.body) as { title?: unknown; detail?: unknown };
    return {
      ...(typeof j.title === 'string' ? { title: j.title.slice(0, 200) } : {}),
      ...(typeof j.detail === 'string' ? { detail: j.detail.slice(0, 500) } : {}),
    };
  } catch {
    return {};
  }
}

function required(value: string | undefined, what: string): string {
  if (value === undefined) {
    throw new AppError('internal', `${what} is not configured for the pagopa dialect`);
  }
  return value;
}

export class PagopaNodeClient
  implements PaymentStarter<CheckoutCartInput>, ReceiptCopier, ReceiptIdFinder, ReportingFlowSource
{
  readonly dialect = 'pagopa' as const;

  constructor(private readonly o: PagopaClientOptions) {}

  /**
   * Creates a Checkout cart and returns its redirect (not retried: a lost answer is reported as
   * ambiguous; the notices can be paid only once, so starting again is safe for the citizen).
   * @throws AppError('invalid-input') for 0 or more than 5 notices or a value Checkout refuses.
   * @throws AppError('upstream-error') with details.status (and title/detail) on a refusal.
   */
  async start(input: CheckoutCartInput): Promise<StartedPayment> {
    const base = required(this.o.checkoutBaseUrl, 'CHECKOUT_BASE_URL');
    const n = input.notices;
    if (n.length < 1 || n.length > 5) {
      throw new AppError('invalid-input', `a Checkout cart holds 1 to 5 notices, not ${n.length}`);
    }
    n.forEach((x, i) => {
      if (!/^\d{18}$/.test(x.noticeNumber)) throw badNotice(i, 'noticeNumber must be 18 digits');
      if (!/^\d{11}$/.test(x.domainFiscalCode)) throw badNotice(i, 'fiscalCode must be 11 digits');
      if (!Number.isSafeInteger(x.amountCents) || x.amountCents < 1) {
        throw badNotice(i, 'amount must be a whole number of cents ≥ 1');
      }
      if (!text140(x.companyName) || !text140(x.description)) {
        throw badNotice(i, 'companyName and description: 1..140 characters');
      }
    });
    const body = JSON.stringify({
      paymentNotices: n.map((x) => ({
        noticeNumber: x.noticeNumber,
        fiscalCode: x.domainFiscalCode,
        amount: x.amountCents,
        companyName: x.companyName,
        description: x.description,
      })),
      returnUrls: {
        returnOkUrl: input.returnUrls.ok,
        returnCancelUrl: input.returnUrls.cancel,
        returnErrorUrl: input.returnUrls.error,
      },
      ...(input.cartId === undefined ? {} : { idCart: input.cartId }),
      ...(input.emailNotice === undefined ? {} : { emailNotice: input.emailNotice }),
      ...(input.allCCP === undefined ? {} : { allCCP: input.allCCP }),
    });
    const redirectUrl = await this.o.transport.call({
      dialect: 'pagopa',
      operation: 'checkoutCart',
      upstream: base,
      idempotent: false,
      ambiguityHint: 'the notices can only be paid once, so the citizen may start again',
      request: {
        method: 'POST',
        url: base.replace(/\/+$/, '') + CHECKOUT_CARTS_PATH,
        headers: {
          'content-type': 'application/json',
          ...subscriptionHeader(this.o.subscriptionKey),
        },
        body,
      },
      interpret: (res) => {
        const location = res.headers['location'];
        if (res.status >= 300 && res.status < 400 && location !== undefined && location !== '') {
          return location;
        }
        throw upstreamError(
          `checkout cart: HTTP ${res.status}${res.status < 400 ? ' without a Location' : ''}`,
          { operation: 'checkoutCart', status: res.status, ...problemSummary(res) },
          { transient: res.status >= 500 },
        );
      },
    });
    return { redirectUrl };
  }

  /**
   * Recovers a receipt from the biz-events service by receipt id (IUR = paymentToken), with the
   * IUV when known. 404 gives `not-found`.
   * @throws AppError('invalid-input') for an old-model key (CCP): the new model needs the receipt id.
   */
  async copy(key: ReceiptKey): Promise<ReceiptCopy> {
    if (!('receiptId' in key)) {
      throw new AppError('invalid-input', 'biz-events receipts are found by receipt id (IUR)');
    }
    const base = required(this.o.restBaseUrl, 'NODE_REST_BASE_URL');
    const enc = encodeURIComponent;
    const path =
      `/organizations/${enc(key.domainId)}/receipts/${enc(key.receiptId)}` +
      (key.iuv === undefined ? '' : `/paymentoptions/${enc(key.iuv)}`);
    return this.o.transport.call<ReceiptCopy>({
      dialect: 'pagopa',
      operation: 'getOrganizationReceipt',
      upstream: base,
      idempotent: true,
      request: {
        method: 'GET',
        url: base.replace(/\/+$/, '') + path,
        headers: { accept: 'application/json', ...subscriptionHeader(this.o.subscriptionKey) },
      },
      interpret: (res) => {
        if (res.status === 200) {
          try {
            JSON.parse(res.body);
          } catch (err) {
            throw upstreamError(
              'receipt: the answer is not JSON',
              { status: 200 },
              { transient: true, cause: err },
            );
          }
          return { kind: 'found', format: 'json', raw: res.body, source: 'bizevents' };
        }
        if (res.status === 404) return { kind: 'not-found', reason: 'HTTP 404' };
        // 429 is pagoPA's throttling: retrying at once would only be throttled again.
        throw upstreamError(
          `receipt: HTTP ${res.status}`,
          { operation: 'getOrganizationReceipt', status: res.status, ...problemSummary(res) },
          { transient: res.status >= 500 },
        );
      },
    });
  }

  /**
   * The receipt id of a notice's payment, from the biz-events Helpdesk API by creditor and IUV
   * (getBizEventByOrganizationFiscalCodeAndIuv). 404 (BZ_404_004) gives `not-found`: not paid, or
   * not yet known to biz-events. The biz-event's `paymentInfo.paymentToken` is the receipt id
   * (biz-events' own receipt lookup matches the IUR against it).
   * @throws AppError('upstream-error') for 422 (BZ_422_003, several events for the IUV), another
   * refusal (details.status), or a 200 that is not a biz-event with a payment token (transient).
   */
  async findReceiptId(key: {
    readonly domainId: string;
    readonly iuv: string;
  }): Promise<ReceiptIdLookup> {
    const base = required(this.o.helpdeskBaseUrl, 'NODE_REST_HELPDESK_BASE_URL');
    const enc = encodeURIComponent;
    const operation = 'getBizEventByOrganizationFiscalCodeAndIuv';
    return this.o.transport.call<ReceiptIdLookup>({
      dialect: 'pagopa',
      operation,
      upstream: base,
      idempotent: true,
      request: {
        method: 'GET',
        url:
          base.replace(/\/+$/, '') +
          `/events/organizations/${enc(key.domainId)}/iuvs/${enc(key.iuv)}`,
        headers: { accept: 'application/json', ...subscriptionHeader(this.o.subscriptionKey) },
      },
      interpret: (res) => {
        if (res.status === 404) return { kind: 'not-found', reason: 'HTTP 404' };
        if (res.status !== 200) {
          throw upstreamError(
            `biz-event by IUV: HTTP ${res.status}`,
            { operation, status: res.status, ...problemSummary(res) },
            { transient: res.status >= 500 },
          );
        }
        const event = bizEventOf(res.body);
        if (event === undefined) {
          throw upstreamError(
            'biz-event by IUV: the answer is not a biz-event with a paymentToken',
            { operation, status: 200 },
            { transient: true },
          );
        }
        return { kind: 'found', ...event };
      },
    });
  }

  private nodeForPa<T>(operation: string, envelope: string, parse: (xml: string) => T): Promise<T> {
    const base = required(this.o.nodeBaseUrl, 'NODE_BASE_URL');
    return this.o.transport.call({
      dialect: 'pagopa',
      operation,
      upstream: base,
      idempotent: true,
      request: soapRequest(
        base,
        this.o.wsdl.operation('nodeForPa', operation),
        envelope,
        subscriptionHeader(this.o.subscriptionKey),
        this.o.wsdl.endpointPaths,
      ),
      interpret: (res) => interpretSoap(operation, res, parse),
    });
  }

  private get caller() {
    return {
      brokerId: this.o.brokerId,
      stationId: this.o.stationId,
      password: required(this.o.password, 'the station password (stationPasswordEnv)'),
    };
  }

  /** nodoChiediElencoFlussiRendicontazione (nodeForPa), filtered on dataOraFlusso ≥ since. */
  async listFlows(since: Date): Promise<readonly ReportingFlowRef[]> {
    const op = 'nodoChiediElencoFlussiRendicontazione';
    const res = await this.nodeForPa(
      op,
      buildFlowListRequest({ caller: this.caller, domainId: this.o.domainId }),
      parseFlowListResponse,
    );
    if (res.outcome === 'KO') throw faultError(op, res.fault);
    return toFlowRefs(res.flows, since);
  }

  /** nodoChiediFlussoRendicontazione (nodeForPa); PPT_SYSTEM_ERROR is retried. */
  async downloadFlow(ref: { readonly flowId: string; readonly pspId?: string }): Promise<string> {
    const op = 'nodoChiediFlussoRendicontazione';
    const res = await this.nodeForPa(
      op,
      buildFlowRequest({
        caller: this.caller,
        domainId: this.o.domainId,
        ...(ref.pspId === undefined ? {} : { pspId: ref.pspId }),
        flowId: ref.flowId,
      }),
      parseFlowResponse,
    );
    if (res.outcome === 'KO') throw faultError(op, res.fault);
    if (res.flowXml === undefined) {
      throw upstreamError(`${op}: no xmlRendicontazione (is the station set up for SFTP?)`, {
        operation: op,
        flowId: ref.flowId,
      });
    }
    return res.flowXml;
  }
}

/** The receipt id and event id of a biz-event document; undefined when it is not one. */
function bizEventOf(body: string): { receiptId: string; bizEventId?: string } | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const e = doc as { id?: unknown; receiptId?: unknown; paymentInfo?: { paymentToken?: unknown } };
  const token = e.paymentInfo?.paymentToken ?? e.receiptId;
  if (typeof token !== 'string' || token === '') return undefined;
  return { receiptId: token, ...(typeof e.id === 'string' ? { bizEventId: e.id } : {}) };
}

function badNotice(i: number, why: string): AppError {
  return new AppError('invalid-input', `notices[${i}]: ${why}`, { index: i });
}
