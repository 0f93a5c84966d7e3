/**
 * The simulator (role `simulator`, and part of `all`): a fake pagoPA node, WISP, MyPay and PSP
 * that speaks each dialect from the other side, with the adapter's own wire code.
 *
 * - `POST /checkout/ec/v1/carts`: Checkout's cart API; answers 302 to this simulator's page;
 * - `GET /checkout/{session}`: the page where a person picks "pay" or "cancel";
 * - `POST /sim/sessions/{id}/pay|cancel`: the same for tests (JSON);
 * - `POST /sim/sessions/{id}/push`: MyPay pushes a paid session's outcome again (its retry);
 * - `POST /sim/psp/pay-notice`: a PSP paying a printed notice (verify → getPayment → sendRT);
 * - `POST /sim/portal/spontaneous`: a regional portal's spontaneous card top-up (demand, then pay);
 *   for an `rpt` domain both are paid with old model 3 (psp-model3.ts);
 * - `POST /sim/mypay/pay-notice`, `POST /sim/mypay/spontaneous`: MyPay pushes the Pagati of a
 *   notice paid at a PSP, or of a spontaneous due paid on its portal (see payAtMyPay);
 * - `GET /sim/receipts/held`, `POST /sim/receipts/{receiptId}/deliver`: receipts held back by a
 *   `never` script, and their late delivery (the node's retry queue);
 * - `POST /sim/flows/publish`, and nodeForPa's flow list and flow: the PSP's reporting flows of
 *   what it collected (reporting-flows.ts);
 * - biz-events of what it collected, by creditor and IUV (Helpdesk API) and by receipt id
 *   (receipt service), for the adapter's missing-receipt recovery (bizevents.ts).
 * Paying sends paGetPaymentV2 then paSendRTV2 to the adapter's paForNode door; `delivery` scripts
 * the receipt's delivery (see node-to-adapter.ts). The RT model (nodoInviaRPT / carts, paid with
 * paaInviaRT) is in rpt-node.ts. State is in memory: it is a simulator.
 */
import { randomUUID } from 'node:crypto';
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { CARD_ACCOUNTS, type NoticeRef, type Receipt } from '../adapters/pagopa/pa-for-node';
import { AppError } from '../domain/errors';
import type { Domains } from '../shared/domains-config';
import type { Logger } from '../shared/logger';
import { checkoutPage, donePage } from './checkout-page';
import {
  AdapterDoor,
  DELIVERY_MODES,
  receiptFor,
  type DeliveryScript,
  type Step,
} from './node-to-adapter';

import { mountRptNode, RptLedger, sendRts, type SentRpt } from './rpt-node';
import {
  mountMyPayNode,
  payMyPaySession,
  pushOutcome,
  type MyPayPushTarget,
  type MyPaySession,
} from './mypay-node';
import { FlowPublisher, mountReportingNode } from './reporting-flows';
import { parsePagati } from '../adapters/mypay/documents';
import { payNoticeModel3 } from './psp-model3';
import { parseNoticeNumber } from '../domain/codes/notice-number';
import {
  BIZEVENTS_HELPDESK_PATH,
  BIZEVENTS_SERVICE_PATH,
  BizEventsStore,
  mountBizEvents,
} from './bizevents';
import { SOAP_SERVICES } from '../entry-points/soap/operations';
import { WsdlCatalog } from '../adapters/node-client';
import { WSDL_DIR } from '../entry-points/soap/soap-server';

export { AdapterDoor } from './node-to-adapter';

export interface SimulatorDeps {
  readonly domains: Domains;
  readonly logger: Logger;
  /** The adapter's SOAP base URL (its paForNode and PaPerNodo paths are appended). */
  readonly adapterSoapBaseUrl: string;
  /** How long a call to the adapter may take (a real node waits a few seconds). */
  readonly timeoutMs: number;
  /** Where MyPay pushes outcomes; without it MyPay outcomes are only read (paaSILChiediPagati). */
  readonly mypayPush?: MyPayPushTarget;
}

const Notice = z.object({
  noticeNumber: z.string().regex(/^\d{18}$/),
  fiscalCode: z.string().regex(/^\d{11}$/),
  amount: z.number().int().min(1),
  companyName: z.string().min(1).max(140),
  description: z.string().min(1).max(140),
});
const Cart = z.object({
  paymentNotices: z.array(Notice).min(1).max(5),
  returnUrls: z.object({
    returnOkUrl: z.url(),
    returnCancelUrl: z.url(),
    returnErrorUrl: z.url(),
  }),
  idCart: z.string().max(100).optional(),
  emailNotice: z.string().optional(),
  allCCP: z.boolean().optional(),
});
export type CheckoutCart = z.output<typeof Cart>;

const Delivery = z
  .strictObject({
    mode: z.enum(DELIVERY_MODES),
    ms: z.number().int().min(1).max(60_000).optional(),
  })
  .optional();
const Scripted = {
  delivery: Delivery,
  outOfOrder: z.boolean().optional().describe('Deliver the receipts of a cart last first'),
};
const PayBody = z.strictObject(Scripted);
const PayNoticeBody = z.strictObject({
  noticeNumber: z.string().regex(/^\d{18}$/),
  fiscalCode: z.string().regex(/^\d{11}$/),
  ...Scripted,
});
const SpontaneousBody = z.strictObject({
  cardCode: z.string().regex(/^\d{3,35}$/),
  account: z.enum(CARD_ACCOUNTS),
  amountCents: z.number().int().min(1),
  domain: z
    .string()
    .regex(/^\d{11}$/)
    .optional(),
  ...Scripted,
});

const MyPayNoticeBody = z.strictObject({
  noticeNumber: z.string().regex(/^\d{18}$/),
  fiscalCode: z.string().regex(/^\d{11}$/),
  /** The amount printed on the notice: MyPay's archive knows it, this simulator does not. */
  amountCents: z.number().int().min(1),
  delivery: Delivery,
});
const MyPaySpontaneousBody = z.strictObject({
  cardCode: z.string().regex(/^\d{3,35}$/),
  account: z.enum(CARD_ACCOUNTS),
  amountCents: z.number().int().min(1),
  domain: z
    .string()
    .regex(/^\d{11}$/)
    .optional(),
  delivery: Delivery,
});

/** Who paid at the PSP's counter or on MyPay's portal without logging in. */
const ANONYMOUS_PAYER = { kind: 'F', taxCode: 'ANONIMO', name: 'ANONIMO' } as const;

export type SessionState = 'OPEN' | 'PAID' | 'CANCELLED' | 'FAILED';
export interface Session {
  readonly id: string;
  readonly cart: CheckoutCart;
  state: SessionState;
  steps: Step[];
  receipts: Receipt[];
  /** RT model (WISP): the RPTs of the session; paid with paaInviaRT. */
  readonly rpts?: readonly SentRpt[];
  /** MyPay: the dues of the session; paying makes the Pagati that paaSILChiediPagati answers. */
  readonly mypay?: MyPaySession;
}

/** What a payment run did: every call to the adapter, and the receipts made. */
export interface PaymentRun {
  readonly outcome: 'PAID' | 'REFUSED';
  readonly steps: Step[];
  readonly receipts: Receipt[];
  /** Settles when scripted background deliveries (delay) are done. */
  readonly delivered: Promise<unknown>;
  /** Old model 3: the CCP the PSP activated with (the RT carries it back). */
  readonly ccp?: string;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const detail = r.error.issues
      .map((i) => `${[where, ...i.path].join('.')}: ${i.message}`)
      .join('; ');
    throw new AppError('invalid-input', detail);
  }
  return r.data;
}

export class Simulator {
  readonly sessions = new Map<string, Session>();
  readonly door: AdapterDoor;
  /** What the PSP collected, for its reporting flows. */
  readonly flows = new FlowPublisher();
  /** The RT-model node's RPTs and RTs (nodoChiediCopiaRT, nodoChiediStatoRPT). */
  readonly rptLedger = new RptLedger();
  /** What pagoPA's biz-events know of the PSP's payments, for receipt recovery. */
  readonly bizEvents: BizEventsStore;
  private readonly base: string;

  constructor(private readonly deps: SimulatorDeps) {
    this.base = deps.adapterSoapBaseUrl.replace(/\/+$/, '');
    this.bizEvents = new BizEventsStore(deps.domains);
    this.door = new AdapterDoor({
      url: this.base + SOAP_SERVICES.paForNode.path,
      domains: deps.domains,
      timeoutMs: deps.timeoutMs,
    });
  }

  openSession(
    cart: CheckoutCart,
    extra: { id?: string; rpts?: readonly SentRpt[]; mypay?: MyPaySession } = {},
  ): Session {
    const session: Session = {
      id: randomUUID(),
      cart,
      state: 'OPEN',
      steps: [],
      receipts: [],
      ...extra,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** A WISP session: the page shows each RPT's IUV; the citizen returns to the simulator. */
  openRptSession(rpts: readonly SentRpt[], self: string): string {
    const back = (outcome: string) => `${self}/sim/returned?outcome=${outcome}`;
    const session = this.openSession(
      {
        paymentNotices: rpts.map(({ rpt }) => ({
          noticeNumber: `IUV ${rpt.iuv}`,
          fiscalCode: rpt.domain.domainId,
          amount: rpt.totalCents,
          companyName: rpt.creditor.name.slice(0, 140),
          description: (rpt.lines[0]?.remittanceInformation ?? rpt.iuv).slice(0, 140),
        })),
        returnUrls: {
          returnOkUrl: back('OK'),
          returnCancelUrl: back('CANCEL'),
          returnErrorUrl: back('ERROR'),
        },
      },
      { rpts },
    );
    return `${self}/checkout/${session.id}?idSession=${session.id}`;
  }

  /** A MyPay session; the citizen returns to enteSILInviaRispostaPagamentoUrl with idSession and esito. */
  openMyPaySession(
    mypay: MyPaySession,
    returnUrl: string | undefined,
    self: string,
  ): { id: string; url: string } {
    const id = randomUUID();
    const back = (esito: string): string => {
      const url = new URL(returnUrl ?? `${self}/sim/returned`);
      url.searchParams.set('idSession', id);
      url.searchParams.set('esito', esito);
      if (returnUrl === undefined) url.searchParams.set('outcome', esito);
      return url.toString();
    };
    this.openSession(
      {
        paymentNotices: mypay.dues.items.map((i) => ({
          noticeNumber: `IUD ${i.dueId}`,
          fiscalCode: mypay.ipaCode,
          amount: i.amountCents,
          companyName: mypay.ipaCode.slice(0, 140),
          description: i.remittanceInformation.slice(0, 140),
        })),
        returnUrls: {
          returnOkUrl: back('OK'),
          returnCancelUrl: back('ANNULLO'),
          returnErrorUrl: back('KO'),
        },
      },
      { id, mypay },
    );
    return { id, url: `${self}/checkout/${id}` };
  }

  session(id: string): Session {
    const s = this.sessions.get(id);
    if (s === undefined) throw new AppError('not-found', `no checkout session ${id}`);
    return s;
  }

  /**
   * Pays notices as a PSP does once the payer confirmed: paGetPaymentV2 for each (all must be
   * OK before any money moves), then one paSendRTV2 per notice as scripted.
   */
  async pay(
    notices: readonly (NoticeRef & { amountCents?: number })[],
    opts: { paymentNote?: string; delivery?: DeliveryScript; outOfOrder?: boolean },
  ): Promise<PaymentRun> {
    const steps: Step[] = [];
    const receipts: Receipt[] = [];
    for (const n of notices) {
      const got = await this.door.getPayment(n, {
        ...(n.amountCents === undefined ? {} : { amountCents: n.amountCents }),
        ...(opts.paymentNote === undefined ? {} : { paymentNote: opts.paymentNote }),
      });
      steps.push(got.step);
      if (got.payment === undefined) {
        return { outcome: 'REFUSED', steps, receipts: [], delivered: Promise.resolve() };
      }
      receipts.push(
        receiptFor(
          n,
          got.payment,
          opts.paymentNote === undefined ? {} : { paymentNote: opts.paymentNote },
        ),
      );
    }
    // The money is collected: the PSP reports it whatever happens to the receipts' delivery.
    this.flows.collected(receipts);
    this.bizEvents.collected(receipts);
    const order = opts.outOfOrder === true ? [...receipts].reverse() : receipts;
    const background: Promise<unknown>[] = [];
    for (const r of order) {
      const d = await this.door.deliver(r, opts.delivery);
      steps.push(...d.steps);
      background.push(d.delivered);
    }
    this.deps.logger.info(
      { notices: notices.length, delivery: opts.delivery?.mode ?? 'normal' },
      'simulator: paid',
    );
    return { outcome: 'PAID', steps, receipts, delivered: Promise.all(background) };
  }

  async paySession(id: string, script: z.output<typeof PayBody>): Promise<PaymentRun> {
    const s = this.session(id);
    if (s.state !== 'OPEN') {
      throw new AppError('conflict', `checkout session ${id} is ${s.state}`);
    }
    if (s.mypay !== undefined) {
      payMyPaySession(s.mypay, s.id, this.deps.domains);
      s.state = 'PAID';
      const pushed = await this.pushMyPay(s, script.delivery);
      s.steps.push(...pushed.steps);
      return { outcome: 'PAID', steps: pushed.steps, receipts: [], delivered: pushed.delivered };
    }
    if (s.rpts !== undefined) {
      const { steps } = await sendRts(
        {
          adapterUrl: this.base + SOAP_SERVICES.PaPerNodo.path,
          timeoutMs: this.deps.timeoutMs,
          ledger: this.rptLedger,
        },
        s.rpts,
        script.delivery,
      );
      // A `never` script is a payment made: the RT is at the node, only its delivery is missing.
      const ok = steps.every((x) => x.outcome === 'OK' || x.outcome === 'NOT_SENT');
      s.state = ok ? 'PAID' : 'FAILED';
      s.steps.push(...steps);
      return {
        outcome: ok ? 'PAID' : 'REFUSED',
        steps,
        receipts: [],
        delivered: Promise.resolve(),
      };
    }
    const run = await this.pay(
      s.cart.paymentNotices.map((n) => ({
        domainFiscalCode: n.fiscalCode,
        noticeNumber: n.noticeNumber,
        amountCents: n.amount,
      })),
      {
        ...(s.cart.idCart === undefined ? {} : { paymentNote: s.cart.idCart }),
        ...(script.delivery === undefined ? {} : { delivery: script.delivery }),
        ...(script.outOfOrder === undefined ? {} : { outOfOrder: script.outOfOrder }),
      },
    );
    s.state = run.outcome === 'PAID' ? 'PAID' : 'FAILED';
    s.steps.push(...run.steps);
    s.receipts.push(...run.receipts);
    return run;
  }

  /**
   * MyPay's push of a paid session's outcome, as scripted: `normal` (the default) once,
   * `duplicate` twice, `delay` after `ms` in the background, `never` lost (only
   * paaSILChiediPagati will tell the adapter). Other modes are pagoPA receipt scripts.
   */
  async pushMyPay(
    s: Session,
    delivery: DeliveryScript | undefined,
  ): Promise<{ steps: Step[]; delivered: Promise<unknown> }> {
    const target = this.deps.mypayPush;
    const xml = s.mypay?.pagatiXml;
    const mode = delivery?.mode ?? 'normal';
    if (target === undefined || xml === undefined || mode === 'never') {
      return {
        steps: [{ operation: 'mypayOutcomePush', outcome: 'NOT_SENT' }],
        delivered: Promise.resolve(),
      };
    }
    const push = () => pushOutcome(target, s.id, xml, this.deps.timeoutMs);
    switch (mode) {
      case 'normal':
        return { steps: [await push()], delivered: Promise.resolve() };
      case 'duplicate':
        return { steps: [await push(), await push()], delivered: Promise.resolve() };
      case 'delay': {
        const delivered = new Promise((r) => setTimeout(r, delivery?.ms ?? 1_000)).then(push);
        return {
          steps: [{ operation: 'mypayOutcomePush', outcome: 'SCHEDULED' }],
          delivered: delivered.then((step) => s.steps.push(step)),
        };
      }
      default:
        throw new AppError('invalid-input', `delivery mode ${mode} is not simulated for MyPay`);
    }
  }

  /**
   * A payment MyPay learns of without a paaSILInviaDovuti of ours: a PSP paid the printed notice
   * through pagoPA (MyPay is the domain's intermediary), or a citizen paid a spontaneous due on
   * MyPay's portal. MyPay makes the Pagati under an idSession of its own and pushes it as scripted;
   * the session is kept PAID, so `/sim/sessions/{id}/push` pushes it again and paaSILChiediPagati
   * answers it.
   */
  async payAtMyPay(
    input: {
      domainFiscalCode: string;
      /** The notice's IUV; none for a spontaneous due (MyPay generates one). */
      iuv?: string;
      dueId: string;
      amountCents: number;
      remittanceInformation: string;
      collectionData: string;
      delivery?: DeliveryScript | undefined;
    },
    self: string,
  ): Promise<PaymentRun & { iuv: string; sessionId: string }> {
    const domain = this.deps.domains.find(input.domainFiscalCode);
    if (domain?.dialect !== 'mypay') {
      throw new AppError('invalid-input', `${input.domainFiscalCode} is not a MyPay domain`);
    }
    const mypay: MyPaySession = {
      ipaCode: domain.mypayIpaCode ?? domain.fiscalCode,
      dues: {
        payer: ANONYMOUS_PAYER,
        ...(input.iuv === undefined ? {} : { iuv: input.iuv }),
        items: [
          {
            dueId: input.dueId,
            amountCents: input.amountCents,
            dueTypeCode: 'SIMULATED',
            remittanceInformation: input.remittanceInformation,
            collectionData: input.collectionData,
          },
        ],
      },
    };
    const s = this.session(this.openMyPaySession(mypay, undefined, self).id);
    const pagati = parsePagati(payMyPaySession(mypay, s.id, this.deps.domains));
    s.state = 'PAID';
    const pushed = await this.pushMyPay(s, input.delivery);
    s.steps.push(...pushed.steps);
    return {
      outcome: 'PAID',
      steps: pushed.steps,
      receipts: [],
      delivered: pushed.delivered,
      iuv: pagati.iuv,
      sessionId: s.id,
    };
  }

  cancelSession(id: string): Session {
    const s = this.session(id);
    if (s.state !== 'OPEN') throw new AppError('conflict', `checkout session ${id} is ${s.state}`);
    s.state = 'CANCELLED';
    return s;
  }

  /**
   * A PSP paying a printed notice: verify (the amount of today), getPayment, sendRT; for an `rpt`
   * domain the old model 3 instead (paaVerificaRPT, paaAttivaRPT, paaInviaRT: psp-model3.ts).
   */
  async payNotice(input: z.output<typeof PayNoticeBody>): Promise<PaymentRun> {
    const notice = { domainFiscalCode: input.fiscalCode, noticeNumber: input.noticeNumber };
    if (this.deps.domains.find(input.fiscalCode)?.dialect === 'rpt') {
      return this.payNoticeModel3(notice, input.delivery);
    }
    const verified = await this.door.verify(notice);
    if (verified.amountCents === undefined) {
      return {
        outcome: 'REFUSED',
        steps: [verified.step],
        receipts: [],
        delivered: Promise.resolve(),
      };
    }
    const run = await this.pay([{ ...notice, amountCents: verified.amountCents }], scriptOf(input));
    return { ...run, steps: [verified.step, ...run.steps] };
  }

  /** Old model 3 on the notice's IUV (the PSP reads it off the notice number, PAGOPA.md §7). */
  private async payNoticeModel3(
    notice: NoticeRef,
    delivery: DeliveryScript | undefined,
  ): Promise<PaymentRun> {
    const run = await payNoticeModel3(
      {
        pspDoorUrl: this.base + SOAP_SERVICES.PaPerNodoPagamentoPsp.path,
        rtDoorUrl: this.base + SOAP_SERVICES.PaPerNodo.path,
        timeoutMs: this.deps.timeoutMs,
        ledger: this.rptLedger,
      },
      this.door.station(notice.domainFiscalCode),
      parseNoticeNumber(notice.noticeNumber).iuv,
      delivery,
    );
    this.deps.logger.info(
      { outcome: run.outcome, delivery: delivery?.mode ?? 'normal' },
      'simulator: paid with model 3',
    );
    return { ...run, receipts: [], delivered: Promise.resolve() };
  }

  /** A regional portal's spontaneous payment: paDemandPaymentNotice, then paying the notice. */
  async spontaneous(
    input: z.output<typeof SpontaneousBody>,
  ): Promise<PaymentRun & { notice?: NoticeRef }> {
    const domain = this.deps.domains.resolve(input.domain);
    if (domain === undefined) throw new AppError('not-found', 'no such domain');
    const demanded = await this.door.demand({
      domainFiscalCode: domain.fiscalCode,
      cardCode: input.cardCode,
      account: input.account,
      amountCents: input.amountCents,
    });
    if (demanded.notice === undefined) {
      return {
        outcome: 'REFUSED',
        steps: [demanded.step],
        receipts: [],
        delivered: Promise.resolve(),
      };
    }
    if (domain.dialect === 'rpt') {
      // The station answers the demand (the adapter serves paForNode for every domain) and is
      // paid with the primitives of its model: model 3 on the new notice's IUV.
      const run = await this.payNoticeModel3(demanded.notice, input.delivery);
      return { ...run, steps: [demanded.step, ...run.steps], notice: demanded.notice };
    }
    const run = await this.pay(
      [{ ...demanded.notice, amountCents: input.amountCents }],
      scriptOf(input),
    );
    return { ...run, steps: [demanded.step, ...run.steps], notice: demanded.notice };
  }
}

function scriptOf(input: {
  delivery?: DeliveryScript | undefined;
  outOfOrder?: boolean | undefined;
}): { delivery?: DeliveryScript; outOfOrder?: boolean } {
  return {
    ...(input.delivery === undefined ? {} : { delivery: input.delivery }),
    ...(input.outOfOrder === undefined ? {} : { outOfOrder: input.outOfOrder }),
  };
}

const runView = (run: PaymentRun) => ({
  outcome: run.outcome,
  ...(run.ccp === undefined ? {} : { ccp: run.ccp }),
  steps: run.steps,
  receipts: run.receipts.map((r) => ({
    receiptId: r.receiptId,
    noticeNumber: r.noticeNumber,
    fiscalCode: r.domainFiscalCode,
    amountCents: r.amountCents,
  })),
});

/** The URL a browser (or the adapter) can reach this request's server at. */
const selfUrl = (req: Request): string => `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;

/** Mounts the simulator's routes; answers the {@link Simulator} (tests read its state). */
export function mountSimulator(app: Express, deps: SimulatorDeps): Simulator {
  const sim = new Simulator(deps);
  // The RT-model node (WISP) and MyPay, at the paths of the WSDLs the adapter's client reads.
  const wsdl = WsdlCatalog.load(WSDL_DIR);
  mountRptNode(app, {
    endpointPath: wsdl.operation('nodoPerPa', 'nodoInviaRPT').endpointPath,
    openSession: (rpts, self) => sim.openRptSession(rpts, self),
    ledger: sim.rptLedger,
  });
  mountMyPayNode(app, {
    endpointPath: wsdl.operation('mypay', 'paaSILInviaDovuti').endpointPath,
    domains: deps.domains,
    openSession: (session, returnUrl, self) => sim.openMyPaySession(session, returnUrl, self),
    findSession: (id) => sim.sessions.get(id),
  });
  mountReportingNode(app, {
    endpointPath: wsdl.operation('nodeForPa', 'nodoChiediElencoFlussiRendicontazione').endpointPath,
    domains: deps.domains,
    publisher: sim.flows,
  });
  mountBizEvents(app, sim.bizEvents);

  app.get('/', (req: Request, res: Response) => {
    res.json({
      simulator: 'pagoPA node (Checkout, WISP), MyPay and a PSP',
      adapterSoapUrl: deps.adapterSoapBaseUrl,
      endpoints: [
        `POST ${selfUrl(req)}/checkout/ec/v1/carts  (Checkout, pagopa dialect)`,
        `POST ${selfUrl(req)}${wsdl.operation('nodoPerPa', 'nodoInviaRPT').endpointPath}  (nodoInviaRPT, nodoInviaCarrelloRPT, nodoChiediCopiaRT, nodoChiediStatoRPT)`,
        `POST ${selfUrl(req)}${wsdl.operation('mypay', 'paaSILInviaDovuti').endpointPath}  (paaSILInviaDovuti, paaSILChiediPagati)`,
        `POST ${selfUrl(req)}${wsdl.operation('nodeForPa', 'nodoChiediElencoFlussiRendicontazione').endpointPath}  (nodoChiediElencoFlussiRendicontazione, nodoChiediFlussoRendicontazione)`,
        `GET  ${selfUrl(req)}/checkout/{session}`,
        `POST ${selfUrl(req)}/sim/sessions/{id}/pay | /cancel | /push`,
        `POST ${selfUrl(req)}/sim/psp/pay-notice`,
        `POST ${selfUrl(req)}/sim/portal/spontaneous`,
        `POST ${selfUrl(req)}/sim/mypay/pay-notice | /sim/mypay/spontaneous`,
        `GET  ${selfUrl(req)}/sim/receipts/held`,
        `POST ${selfUrl(req)}/sim/receipts/{receiptId}/deliver`,
        `POST ${selfUrl(req)}/sim/flows/publish  { domain, date? }`,
        `GET  ${selfUrl(req)}/sim/flows`,
        `GET  ${selfUrl(req)}${BIZEVENTS_HELPDESK_PATH}/events/organizations/{cf}/iuvs/{iuv}  (biz-events Helpdesk)`,
        `GET  ${selfUrl(req)}${BIZEVENTS_SERVICE_PATH}/organizations/{cf}/receipts/{iur}  (biz-events receipts)`,
      ],
      sessions: sim.sessions.size,
    });
  });

  // Checkout's cart API: 302 to the payment page, as the real one does.
  app.post('/checkout/ec/v1/carts', (req: Request, res: Response) => {
    const cart = parse(Cart, req.body, 'body');
    const session = sim.openSession(cart);
    res.redirect(302, `${selfUrl(req)}/checkout/${session.id}`);
  });

  app.get('/checkout/:session', (req: Request<{ session: string }>, res: Response) => {
    const s = sim.session(req.params.session);
    res.type('html').send(checkoutPage(s));
  });

  // The page's buttons: the browser goes back to the EC with the outcome (a hint only).
  app.post('/checkout/:session/pay', async (req: Request<{ session: string }>, res: Response) => {
    const s = sim.session(req.params.session);
    const run = await sim.paySession(s.id, {});
    const url =
      run.outcome === 'PAID' ? s.cart.returnUrls.returnOkUrl : s.cart.returnUrls.returnErrorUrl;
    res.redirect(303, url);
  });
  app.post('/checkout/:session/cancel', (req: Request<{ session: string }>, res: Response) => {
    const s = sim.cancelSession(req.params.session);
    res.redirect(303, s.cart.returnUrls.returnCancelUrl);
  });
  // A return page for callers that have none of their own (the demo).
  app.get('/sim/returned', (req: Request, res: Response) => {
    const outcome = typeof req.query['outcome'] === 'string' ? req.query['outcome'] : 'unknown';
    res.type('html').send(donePage(outcome));
  });

  app.get('/sim/sessions/:id', (req: Request<{ id: string }>, res: Response) => {
    const s = sim.session(req.params.id);
    res.json({ id: s.id, state: s.state, cart: s.cart, steps: s.steps });
  });
  app.post('/sim/sessions/:id/pay', async (req: Request<{ id: string }>, res: Response) => {
    const script = parse(PayBody, req.body, 'body');
    const run = await sim.paySession(req.params.id, script);
    res.status(run.outcome === 'PAID' ? 200 : 422).json(runView(run));
  });
  app.post('/sim/sessions/:id/push', async (req: Request<{ id: string }>, res: Response) => {
    const s = sim.session(req.params.id);
    if (s.mypay === undefined || s.state !== 'PAID') {
      throw new AppError('conflict', `session ${s.id} is not a paid MyPay session`);
    }
    const pushed = await sim.pushMyPay(s, undefined);
    s.steps.push(...pushed.steps);
    res.json({ steps: pushed.steps });
  });
  app.post('/sim/sessions/:id/cancel', (req: Request<{ id: string }>, res: Response) => {
    const s = sim.cancelSession(req.params.id);
    res.json({ id: s.id, state: s.state });
  });

  // Receipts held back by `delivery: { mode: 'never' }`, and their late delivery.
  app.get('/sim/receipts/held', (_req: Request, res: Response) => {
    res.json({
      items: [...sim.door.undelivered.values()].map((r) => ({
        receiptId: r.receiptId,
        noticeNumber: r.noticeNumber,
        fiscalCode: r.domainFiscalCode,
        iuv: r.iuv,
        amountCents: r.amountCents,
      })),
    });
  });
  app.post(
    '/sim/receipts/:receiptId/deliver',
    async (req: Request<{ receiptId: string }>, res: Response) => {
      const step = await sim.door.deliverHeld(req.params.receiptId);
      res.status(step.outcome === 'OK' ? 200 : 502).json({ steps: [step] });
    },
  );

  app.post('/sim/psp/pay-notice', async (req: Request, res: Response) => {
    const run = await sim.payNotice(parse(PayNoticeBody, req.body, 'body'));
    res.status(run.outcome === 'PAID' ? 200 : 422).json(runView(run));
  });
  // MyPay: a printed notice paid at a PSP, and a spontaneous due paid on MyPay's portal.
  app.post('/sim/mypay/pay-notice', async (req: Request, res: Response) => {
    const input = parse(MyPayNoticeBody, req.body, 'body');
    const run = await sim.payAtMyPay(
      {
        domainFiscalCode: input.fiscalCode,
        iuv: parseNoticeNumber(input.noticeNumber).iuv,
        dueId: `AVVISO-${input.noticeNumber}`,
        amountCents: input.amountCents,
        remittanceInformation: `Avviso ${input.noticeNumber}`,
        collectionData: '9/0000000SIM/',
        delivery: input.delivery,
      },
      selfUrl(req),
    );
    res.json({ ...runView(run), iuv: run.iuv, idSession: run.sessionId });
  });
  app.post('/sim/mypay/spontaneous', async (req: Request, res: Response) => {
    const input = parse(MyPaySpontaneousBody, req.body, 'body');
    const domain = deps.domains.all.find((d) =>
      input.domain === undefined ? d.dialect === 'mypay' : d.fiscalCode === input.domain,
    );
    if (domain === undefined) throw new AppError('not-found', 'no such MyPay domain');
    const run = await sim.payAtMyPay(
      {
        domainFiscalCode: domain.fiscalCode,
        dueId: `SPONT-${randomUUID().replace(/-/g, '').slice(0, 20)}`,
        amountCents: input.amountCents,
        // MyPay's spontaneous due form: the card code and account are what the citizen typed.
        remittanceInformation: `Ricarica ${input.account} carta ${input.cardCode}`,
        collectionData: '9/0000000SIM/',
        delivery: input.delivery,
      },
      selfUrl(req),
    );
    res.json({ ...runView(run), iuv: run.iuv, idSession: run.sessionId });
  });
  app.post('/sim/portal/spontaneous', async (req: Request, res: Response) => {
    const run = await sim.spontaneous(parse(SpontaneousBody, req.body, 'body'));
    res
      .status(run.outcome === 'PAID' ? 200 : 422)
      .json({ ...runView(run), ...(run.notice === undefined ? {} : { notice: run.notice }) });
  });
  return sim;
}
