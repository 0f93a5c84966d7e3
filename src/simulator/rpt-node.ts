/**
 * The simulator as the RT-model node (WISP): receives nodoInviaRPT / nodoInviaCarrelloRPT on the
 * NodoPerPa endpoint path of our WSDL, answers like the node (the redirect url with idSession, or
 * its faults: PPT_SINTASSI_EXTRAXSD, PPT_SINTASSI_XSD, PPT_RPT_DUPLICATA,
 * PPT_ID_CARRELLO_DUPLICATO) and opens a checkout session; paying it sends one paaInviaRT with a
 * positive RT (codiceEsitoPagamento 0) per RPT to the adapter's PaPerNodo door, as scripted
 * (`normal`, `duplicate`: sent twice, `never`: kept at the node). The node keeps every RPT and RT
 * it made ({@link RptLedger}) and answers nodoChiediCopiaRT and nodoChiediStatoRPT from it, which
 * is how the adapter's missing-receipt recovery finds an RT that never arrived.
 * Old model 3: an RPT with tipoVersamento PO is the EC's answer to a PSP's paaAttivaRPT
 * (psp-model3.ts): accepted (OK, no redirect: nobody is sent anywhere) only for a (domain, IUV,
 * CCP) that PSP activated and on that PSP's route, otherwise PPT_SEMANTICA.
 * Same wire code as the adapter: src/adapters/pagopa/old-model-soap.ts and rpt-rt.ts.
 */
import { randomBytes } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import {
  buildNodoChiediCopiaRTResponse,
  buildNodoChiediStatoRPTResponse,
  buildNodoInviaCarrelloRPTResponse,
  buildNodoInviaRPTResponse,
  buildPaaInviaRTRequest,
  parseNodoChiediCopiaRTRequest,
  parseNodoChiediStatoRPTRequest,
  parseNodoInviaCarrelloRPTRequest,
  parseNodoInviaRPTRequest,
  parsePaaInviaRTResponse,
  type FaultBean,
  type NodoInviaRPTRequest,
  type PspRoute,
  type RptHistoryEntry,
} from '../adapters/pagopa/old-model-soap';
import { AppError } from '../domain/errors';
import {
  buildRt,
  parseRpt,
  type PaymentReceipt,
  type PaymentRequest,
} from '../adapters/pagopa/rpt-rt';
import type { DeliveryScript, Step } from './node-to-adapter';

export const NODE_ID = 'NodoDeiPagamentiSPC';

const fault = (faultCode: string, description: string, serial?: number): FaultBean => ({
  faultCode,
  faultString: faultCode,
  id: NODE_ID,
  description,
  ...(serial === undefined ? {} : { serial }),
});

/** The positive RT the node would send after the PSP collected the RPT's amount. */
export function rtFor(rpt: PaymentRequest): PaymentReceipt {
  const now = new Date().toISOString().slice(0, 19);
  const day = now.slice(0, 10);
  return {
    version: rpt.version,
    domain: rpt.domain,
    receiptMessageId: randomBytes(16).toString('hex'),
    receiptDateTime: now,
    requestMessageRef: rpt.requestMessageId,
    requestDateRef: rpt.requestDateTime.slice(0, 10),
    attestingPsp: { idKind: 'G', taxCode: '00000000001', name: 'Simulated PSP' },
    creditor: rpt.creditor,
    ...(rpt.payer === undefined ? {} : { payer: rpt.payer }),
    debtor: rpt.debtor,
    outcome: 0,
    totalPaidCents: rpt.totalCents,
    iuv: rpt.iuv,
    ccp: rpt.ccp,
    lines: rpt.lines.map((l) => ({
      paidCents: l.amountCents,
      outcomeText: 'ESEGUITO',
      outcomeDate: day,
      iur: randomBytes(12).toString('hex'),
      remittanceInformation: l.remittanceInformation,
      collectionData: l.collectionData,
    })),
  };
}

export interface RptNodeDeps {
  /** The endpoint path of NodoPerPa in our WSDL (where the adapter's client posts). */
  readonly endpointPath: string;
  /** Opens a checkout session for the RPTs and answers its page URL. */
  readonly openSession: (rpts: SentRpt[], self: string) => string;
  /** What the node knows of each RPT and its RT. */
  readonly ledger: RptLedger;
}

/** An RPT as received, with the station that sent it (the RT goes back to it). */
export interface SentRpt {
  readonly rpt: PaymentRequest;
  readonly brokerId: string;
  readonly stationId: string;
}

const keyOf = (k: { domainId: string; iuv: string; ccp: string }): string =>
  `${k.domainId}/${k.iuv}/${k.ccp}`;
const rptKey = (r: PaymentRequest) => ({ domainId: r.domain.domainId, iuv: r.iuv, ccp: r.ccp });
const nowText = (): string => new Date().toISOString().slice(0, 19);

interface LedgerEntry {
  readonly sent: SentRpt;
  rtXml?: string;
  readonly history: RptHistoryEntry[];
}

/**
 * The node's memory of RPTs and RTs, by (domain, IUV, CCP): what nodoChiediStatoRPT and
 * nodoChiediCopiaRT read. States follow PAGOPA.md §4: RPT_ACCETTATA_NODO once received,
 * RT_ACCETTATA_NODO once paid (the RT exists at the node), RT_ACCETTATA_PA or RT_RIFIUTATA_PA
 * after paaInviaRT.
 */
export class RptLedger {
  private readonly entries = new Map<string, LedgerEntry>();
  /** Old model 3: the keys a PSP activated (paaAttivaRPT), with its route. */
  private readonly activations = new Map<string, PspRoute>();
  private readonly waiters = new Map<string, ((sent: SentRpt) => void)[]>();

  has(rpt: PaymentRequest): boolean {
    return this.entries.has(keyOf(rptKey(rpt)));
  }

  received(sent: SentRpt): void {
    const key = keyOf(rptKey(sent.rpt));
    this.entries.set(key, {
      sent,
      history: [{ at: nowText(), state: 'RPT_ACCETTATA_NODO', description: 'RPT accettata' }],
    });
    const waiting = this.waiters.get(key) ?? [];
    this.waiters.delete(key);
    waiting.forEach((wake) => wake(sent));
  }

  /** A PSP activated the key with paaAttivaRPT: the EC's PO RPT for it is now expected. */
  activated(key: { domainId: string; iuv: string; ccp: string }, route: PspRoute): void {
    this.activations.set(keyOf(key), route);
  }

  /** The route of the PSP that activated the key, if one did. */
  activationOf(key: { domainId: string; iuv: string; ccp: string }): PspRoute | undefined {
    return this.activations.get(keyOf(key));
  }

  /** The RPT of `key` once it is received, or undefined after `timeoutMs`. */
  waitForRpt(
    key: { domainId: string; iuv: string; ccp: string },
    timeoutMs: number,
  ): Promise<SentRpt | undefined> {
    const k = keyOf(key);
    const known = this.entries.get(k);
    if (known !== undefined) return Promise.resolve(known.sent);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const left = (this.waiters.get(k) ?? []).filter((w) => w !== wake);
        if (left.length === 0) this.waiters.delete(k);
        else this.waiters.set(k, left);
        resolve(undefined);
      }, timeoutMs);
      const wake = (sent: SentRpt): void => {
        clearTimeout(timer);
        resolve(sent);
      };
      this.waiters.set(k, [...(this.waiters.get(k) ?? []), wake]);
    });
  }

  paid(rpt: PaymentRequest, rtXml: string): void {
    const entry = this.entries.get(keyOf(rptKey(rpt)));
    if (entry === undefined) return;
    entry.rtXml = rtXml;
    entry.history.push({ at: nowText(), state: 'RT_ACCETTATA_NODO', description: 'RT generata' });
  }

  delivered(rpt: PaymentRequest, accepted: boolean): void {
    this.entries
      .get(keyOf(rptKey(rpt)))
      ?.history.push(
        accepted
          ? { at: nowText(), state: 'RT_ACCETTATA_PA', description: 'RT accettata dalla PA' }
          : { at: nowText(), state: 'RT_RIFIUTATA_PA', description: 'RT rifiutata dalla PA' },
      );
  }

  find(key: { domainId: string; iuv: string; ccp: string }): LedgerEntry | undefined {
    return this.entries.get(keyOf(key));
  }

  /** RTs made but never accepted by the PA (a `never` script, or refused): for tests and ops. */
  undelivered(): { domainId: string; iuv: string; ccp: string }[] {
    return [...this.entries.values()]
      .filter((e) => e.rtXml !== undefined && e.history.at(-1)?.state === 'RT_ACCETTATA_NODO')
      .map((e) => rptKey(e.sent.rpt));
  }
}

/** The RT delivery scripts the RT model simulates. */
export const RT_DELIVERY_MODES = ['normal', 'duplicate', 'never'] as const;

/**
 * Makes the RTs of paid RPTs and sends them with paaInviaRT as scripted: one call each
 * (`normal`), the same call twice (`duplicate`: the node resends after a lost answer), or none
 * (`never`: the RT stays at the node, for nodoChiediCopiaRT).
 * @throws AppError('invalid-input') for a script the RT model does not simulate.
 */
export async function sendRts(
  deps: { readonly adapterUrl: string; readonly timeoutMs: number; readonly ledger?: RptLedger },
  rpts: readonly SentRpt[],
  script?: DeliveryScript,
): Promise<{ steps: Step[]; rts: PaymentReceipt[] }> {
  const mode = script?.mode ?? 'normal';
  if (!(RT_DELIVERY_MODES as readonly string[]).includes(mode)) {
    throw new AppError(
      'invalid-input',
      `delivery ${mode} is not simulated for RTs (${RT_DELIVERY_MODES.join(', ')})`,
    );
  }
  const steps: Step[] = [];
  const rts: PaymentReceipt[] = [];
  for (const { rpt, brokerId, stationId } of rpts) {
    const rt = rtFor(rpt);
    rts.push(rt);
    const rtXml = buildRt(rt);
    deps.ledger?.paid(rpt, rtXml);
    if (mode === 'never') {
      steps.push({ operation: 'paaInviaRT', outcome: 'NOT_SENT' });
      continue;
    }
    const body = buildPaaInviaRTRequest({
      header: { brokerId, stationId, domainId: rpt.domain.domainId, iuv: rpt.iuv, ccp: rpt.ccp },
      signatureType: '0',
      rtXml,
    });
    for (let n = mode === 'duplicate' ? 2 : 1; n > 0; n -= 1) {
      const step = await postRt(deps, body);
      steps.push(step);
      if (step.outcome === 'OK' || step.outcome === 'KO') {
        deps.ledger?.delivered(rpt, step.outcome === 'OK');
      }
    }
  }
  return { steps, rts };
}

async function postRt(
  deps: { readonly adapterUrl: string; readonly timeoutMs: number },
  body: string,
): Promise<Step> {
  try {
    const res = await fetch(deps.adapterUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'paaInviaRT' },
      body,
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    const answer = parsePaaInviaRTResponse(await res.text());
    return {
      operation: 'paaInviaRT',
      outcome: answer.outcome,
      ...(answer.fault === undefined ? {} : { faultCode: answer.fault.faultCode }),
    };
  } catch {
    return { operation: 'paaInviaRT', outcome: 'NO_ANSWER' };
  }
}

/** Mounts the NodoPerPa endpoint (nodoInviaRPT, nodoInviaCarrelloRPT). */
export function mountRptNode(app: Express, deps: RptNodeDeps): void {
  const { ledger } = deps;
  const seenCarts = new Set<string>();
  const xml = (res: Response, body: string): void => {
    res.type('text/xml').send(body);
  };
  const self = (req: Request): string => `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;

  app.post(
    deps.endpointPath,
    express.text({ type: () => true, limit: '2mb' }),
    (req: Request, res: Response) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      // The body element names the operation (SOAPAction may be rewritten on the way).
      const operation =
        /<(?:[\w.-]+:)?(nodoInvia(?:Carrello)?RPT|nodoChiediCopiaRT|nodoChiediStatoRPT)[\s>]/.exec(
          raw,
        )?.[1] ?? 'unknown';
      if (operation === 'nodoChiediCopiaRT' || operation === 'nodoChiediStatoRPT') {
        xml(res, answerRead(ledger, operation, raw));
        return;
      }
      if (operation === 'nodoInviaRPT') {
        let sent: SentRpt;
        let request: NodoInviaRPTRequest;
        try {
          request = parseNodoInviaRPTRequest(raw);
          sent = {
            rpt: parseRpt(request.rptXml),
            brokerId: request.header.brokerId,
            stationId: request.header.stationId,
          };
        } catch (err) {
          xml(
            res,
            buildNodoInviaRPTResponse({
              outcome: 'KO',
              fault: fault('PPT_SINTASSI_XSD', (err as Error).message.slice(0, 200)),
            }),
          );
          return;
        }
        const { rpt } = sent;
        if (ledger.has(rpt)) {
          xml(
            res,
            buildNodoInviaRPTResponse({
              outcome: 'KO',
              fault: fault('PPT_RPT_DUPLICATA', `RPT ${keyOf(rptKey(rpt))} already received`),
            }),
          );
          return;
        }
        if (rpt.paymentType === 'PO') {
          xml(res, answerActivatedRpt(ledger, sent, request));
          return;
        }
        ledger.received(sent);
        const url = deps.openSession([sent], self(req));
        xml(res, buildNodoInviaRPTResponse({ outcome: 'OK', redirect: 1, url }));
        return;
      }
      if (operation === 'nodoInviaCarrelloRPT') {
        let rpts: SentRpt[];
        let cartId: string;
        try {
          const cart = parseNodoInviaCarrelloRPTRequest(raw);
          cartId = cart.header.cartId;
          rpts = cart.items.map((i) => ({
            rpt: parseRpt(i.rptXml),
            brokerId: cart.header.brokerId,
            stationId: cart.header.stationId,
          }));
        } catch (err) {
          xml(
            res,
            buildNodoInviaCarrelloRPTResponse({
              outcome: 'KO',
              fault: fault('PPT_SINTASSI_XSD', (err as Error).message.slice(0, 200)),
              rptErrors: [],
            }),
          );
          return;
        }
        if (seenCarts.has(cartId)) {
          xml(
            res,
            buildNodoInviaCarrelloRPTResponse({
              outcome: 'KO',
              fault: fault('PPT_ID_CARRELLO_DUPLICATO', `cart ${cartId} already received`),
              rptErrors: [],
            }),
          );
          return;
        }
        seenCarts.add(cartId);
        rpts.forEach((r) => ledger.received(r));
        const url = deps.openSession(rpts, self(req));
        xml(res, buildNodoInviaCarrelloRPTResponse({ outcome: 'OK', url, rptErrors: [] }));
        return;
      }
      xml(
        res,
        buildNodoInviaRPTResponse({
          outcome: 'KO',
          fault: fault('PPT_SINTASSI_EXTRAXSD', `operation ${operation} is not simulated`),
        }),
      );
    },
  );
}

/**
 * nodoInviaRPT of an activated RPT (PO): OK without redirect when a PSP activated its key and the
 * route is that PSP's; the node then holds the RPT (the PSP's RT follows it).
 */
function answerActivatedRpt(ledger: RptLedger, sent: SentRpt, request: PspRoute): string {
  const key = rptKey(sent.rpt);
  const route = ledger.activationOf(key);
  const refuse = (description: string): string =>
    buildNodoInviaRPTResponse({ outcome: 'KO', fault: fault('PPT_SEMANTICA', description) });
  if (route === undefined) {
    return refuse(`RPT ${keyOf(key)}: tipoVersamento PO without a paaAttivaRPT for this CCP`);
  }
  if (
    route.pspId !== request.pspId ||
    route.pspBrokerId !== request.pspBrokerId ||
    route.channelId !== request.channelId
  ) {
    return refuse(`RPT ${keyOf(key)}: not the route of the PSP that activated it`);
  }
  ledger.received(sent);
  return buildNodoInviaRPTResponse({ outcome: 'OK' });
}

/** nodoChiediCopiaRT and nodoChiediStatoRPT, answered from the ledger. */
function answerRead(
  ledger: RptLedger,
  operation: 'nodoChiediCopiaRT' | 'nodoChiediStatoRPT',
  raw: string,
): string {
  const build =
    operation === 'nodoChiediCopiaRT'
      ? buildNodoChiediCopiaRTResponse
      : buildNodoChiediStatoRPTResponse;
  let key: { domainId: string; iuv: string; ccp: string };
  try {
    key = (
      operation === 'nodoChiediCopiaRT'
        ? parseNodoChiediCopiaRTRequest
        : parseNodoChiediStatoRPTRequest
    )(raw);
  } catch (err) {
    return build({ fault: fault('PPT_SINTASSI_EXTRAXSD', (err as Error).message.slice(0, 200)) });
  }
  const entry = ledger.find(key);
  if (entry === undefined) {
    return build({ fault: fault('PPT_RPT_SCONOSCIUTA', `RPT ${keyOf(key)} unknown`) });
  }
  if (operation === 'nodoChiediStatoRPT') {
    return buildNodoChiediStatoRPTResponse({
      status: {
        state: entry.history.at(-1)?.state ?? 'RPT_ACCETTATA_NODO',
        rptHistory: entry.history,
        paymentHistory: [],
      },
    });
  }
  if (entry.rtXml === undefined) {
    return buildNodoChiediCopiaRTResponse({
      fault: fault('PPT_RT_NONDISPONIBILE', `no RT yet for ${keyOf(key)}`),
    });
  }
  return buildNodoChiediCopiaRTResponse({ signatureType: '0', rtXml: entry.rtXml });
}
