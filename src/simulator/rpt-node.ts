/**
 * The simulator as the RT-model node (WISP): receives nodoInviaRPT / nodoInviaCarrelloRPT on the
 * NodoPerPa endpoint path of our WSDL, answers like the node (the redirect url with idSession, or
 * its faults: PPT_SINTASSI_EXTRAXSD, PPT_SINTASSI_XSD, PPT_RPT_DUPLICATA,
 * PPT_ID_CARRELLO_DUPLICATO) and opens a checkout session; paying it sends one paaInviaRT with a
 * positive RT (codiceEsitoPagamento 0) per RPT to the adapter's PaPerNodo door.
 * Same wire code as the adapter: src/adapters/pagopa/old-model-soap.ts and rpt-rt.ts.
 */
import { randomBytes } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import {
  buildNodoInviaCarrelloRPTResponse,
  buildNodoInviaRPTResponse,
  buildPaaInviaRTRequest,
  parseNodoInviaCarrelloRPTRequest,
  parseNodoInviaRPTRequest,
  parsePaaInviaRTResponse,
  type FaultBean,
} from '../adapters/pagopa/old-model-soap';
import {
  buildRt,
  parseRpt,
  type PaymentReceipt,
  type PaymentRequest,
} from '../adapters/pagopa/rpt-rt';
import type { Step } from './node-to-adapter';

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
}

/** An RPT as received, with the station that sent it (the RT goes back to it). */
export interface SentRpt {
  readonly rpt: PaymentRequest;
  readonly brokerId: string;
  readonly stationId: string;
}

/** Sends the RTs of paid RPTs with paaInviaRT, one call each. */
export async function sendRts(
  deps: { readonly adapterUrl: string; readonly timeoutMs: number },
  rpts: readonly SentRpt[],
): Promise<{ steps: Step[]; rts: PaymentReceipt[] }> {
  const steps: Step[] = [];
  const rts: PaymentReceipt[] = [];
  for (const { rpt, brokerId, stationId } of rpts) {
    const rt = rtFor(rpt);
    rts.push(rt);
    const body = buildPaaInviaRTRequest({
      header: { brokerId, stationId, domainId: rpt.domain.domainId, iuv: rpt.iuv, ccp: rpt.ccp },
      signatureType: '0',
      rtXml: buildRt(rt),
    });
    try {
      const res = await fetch(deps.adapterUrl, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'paaInviaRT' },
        body,
        signal: AbortSignal.timeout(deps.timeoutMs),
      });
      const answer = parsePaaInviaRTResponse(await res.text());
      steps.push({
        operation: 'paaInviaRT',
        outcome: answer.outcome,
        ...(answer.fault === undefined ? {} : { faultCode: answer.fault.faultCode }),
      });
    } catch {
      steps.push({ operation: 'paaInviaRT', outcome: 'NO_ANSWER' });
    }
  }
  return { steps, rts };
}

/** Mounts the NodoPerPa endpoint (nodoInviaRPT, nodoInviaCarrelloRPT). */
export function mountRptNode(app: Express, deps: RptNodeDeps): void {
  const seenRpts = new Set<string>();
  const seenCarts = new Set<string>();
  const xml = (res: Response, body: string): void => {
    res.type('text/xml').send(body);
  };
  const self = (req: Request): string => `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;
  const keyOf = (r: PaymentRequest): string => `${r.domain.domainId}/${r.iuv}/${r.ccp}`;

  app.post(
    deps.endpointPath,
    express.text({ type: () => true, limit: '2mb' }),
    (req: Request, res: Response) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      // The body element names the operation (SOAPAction may be rewritten on the way).
      const operation =
        /<(?:[\w.-]+:)?(nodoInvia(?:Carrello)?RPT)[\s>]/.exec(raw)?.[1] ?? 'unknown';
      if (operation === 'nodoInviaRPT') {
        let sent: SentRpt;
        try {
          const request = parseNodoInviaRPTRequest(raw);
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
        if (seenRpts.has(keyOf(rpt))) {
          xml(
            res,
            buildNodoInviaRPTResponse({
              outcome: 'KO',
              fault: fault('PPT_RPT_DUPLICATA', `RPT ${keyOf(rpt)} already received`),
            }),
          );
          return;
        }
        seenRpts.add(keyOf(rpt));
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
        rpts.forEach((r) => seenRpts.add(keyOf(r.rpt)));
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
