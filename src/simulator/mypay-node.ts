/**
 * The simulator as MyPay (Regione Puglia / Veneto): paaSILInviaDovuti opens a checkout session
 * and answers its url and idSession; paaSILChiediPagati answers the session's state as MyPay does
 * (PAA_PAGAMENTO_NON_INIZIATO while open, PAA_PAGAMENTO_ANNULLATO once cancelled, the Pagati
 * document, codiceEsitoPagamento 0, once paid). Once paid, the outcome is also pushed to the
 * adapter's outcome endpoint (`POST /mypay/v1/outcomes`, JWT HS256 when a secret is configured),
 * as scripted per payment: pushed once, twice, late, or lost (then only paaSILChiediPagati tells).
 * Same wire code as the adapter's client: src/adapters/mypay/*.
 */
import { randomBytes } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import {
  buildPagati,
  parseDovuti,
  type MyPayDues,
  type MyPayPaid,
} from '../adapters/mypay/documents';
import {
  buildChiediPagatiResponse,
  buildInviaDovutiResponse,
  parseChiediPagatiRequest,
  parseInviaDovutiRequest,
  type Fault,
} from '../adapters/mypay/sil-soap';
import { pushToken } from '../adapters/mypay/push-jwt';
import { base64XmlEncode } from '../adapters/pagopa/xml';
import type { Step } from './node-to-adapter';
import type { Domains } from '../shared/domains-config';

const MYPAY_ID = 'MyPay';

const fault = (faultCode: string, description: string): Fault => ({
  faultCode,
  faultString: faultCode,
  id: MYPAY_ID,
  description,
});

/** A MyPay session as the simulator keeps it. */
export interface MyPaySession {
  readonly ipaCode: string;
  readonly dues: MyPayDues;
  /** The Pagati document, once paid. */
  pagatiXml?: string;
}

/** The Pagati document of paid dues (all items paid in full, codiceEsitoPagamento 0). */
export function pagatiFor(
  dues: MyPayDues,
  creditor: { domainId: string; name: string },
  sessionId: string,
): MyPayPaid {
  const now = new Date().toISOString().slice(0, 19);
  const day = now.slice(0, 10);
  const total = dues.items.reduce((sum, i) => sum + i.amountCents, 0);
  return {
    domainId: creditor.domainId,
    receiptMessageId: randomBytes(16).toString('hex'),
    receiptDateTime: now,
    requestMessageRef: sessionId.replace(/-/g, '').slice(0, 35),
    requestDateRef: day,
    attestingPsp: { idKind: 'G', id: '00000000001', name: 'Simulated PSP' },
    creditor: { taxCode: creditor.domainId, name: creditor.name },
    payer: dues.payer,
    outcome: 0,
    totalPaidCents: total,
    // MyPay generates the IUV of an immediate payment when the dues carry none.
    iuv: dues.iuv ?? Array.from(randomBytes(17), (b) => String(b % 10)).join(''),
    ccp: 'n/a',
    lines: dues.items.map((i) => ({
      dueId: i.dueId,
      paidCents: i.amountCents,
      outcomeText: 'ESEGUITO',
      outcomeDate: day,
      iur: randomBytes(12).toString('hex'),
      remittanceInformation: i.remittanceInformation.slice(0, 140),
      collectionData: i.collectionData,
    })),
  };
}

export interface MyPayNodeDeps {
  /** The SIL endpoint path of wsdl/mypay/pa-per-ente.wsdl (where the adapter's client posts). */
  readonly endpointPath: string;
  readonly domains: Domains;
  /** Opens a checkout session for the dues and answers its id and page URL. */
  readonly openSession: (
    session: MyPaySession,
    returnUrl: string | undefined,
    self: string,
  ) => { id: string; url: string };
  /** The session's MyPay state, or undefined when there is none. */
  readonly findSession: (
    id: string,
  ) => { state: 'OPEN' | 'PAID' | 'CANCELLED' | 'FAILED'; mypay?: MyPaySession } | undefined;
}

/** Mounts MyPay's SIL endpoint (paaSILInviaDovuti, paaSILChiediPagati). */
export function mountMyPayNode(app: Express, deps: MyPayNodeDeps): void {
  const self = (req: Request): string => `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;
  app.post(
    deps.endpointPath,
    express.text({ type: () => true, limit: '2mb' }),
    (req: Request, res: Response) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const operation = /<(?:[\w.-]+:)?(paaSIL\w+)[\s>]/.exec(raw)?.[1] ?? 'unknown';
      res.type('text/xml');
      if (operation === 'paaSILInviaDovuti') {
        let session: MyPaySession;
        let returnUrl: string | undefined;
        try {
          const request = parseInviaDovutiRequest(raw);
          session = { ipaCode: request.caller.ipaCode, dues: parseDovuti(request.dovutiXml) };
          returnUrl = request.returnUrl;
        } catch (err) {
          res.send(
            buildInviaDovutiResponse({
              outcome: 'KO',
              fault: fault('PAA_SINTASSI_XSD', (err as Error).message.slice(0, 200)),
            }),
          );
          return;
        }
        const opened = deps.openSession(session, returnUrl, self(req));
        res.send(
          buildInviaDovutiResponse({
            outcome: 'OK',
            sessionId: opened.id,
            redirect: 1,
            url: opened.url,
          }),
        );
        return;
      }
      if (operation === 'paaSILChiediPagati') {
        let sessionId: string;
        try {
          sessionId = parseChiediPagatiRequest(raw).sessionId;
        } catch (err) {
          res.send(
            buildChiediPagatiResponse({
              fault: fault('PAA_SINTASSI_XSD', (err as Error).message.slice(0, 200)),
            }),
          );
          return;
        }
        const s = deps.findSession(sessionId);
        if (s?.mypay === undefined) {
          res.send(
            buildChiediPagatiResponse({
              fault: fault('PAA_SEMANTICA', `idSession ${sessionId} unknown`),
            }),
          );
          return;
        }
        if (s.state === 'PAID' && s.mypay.pagatiXml !== undefined) {
          res.send(buildChiediPagatiResponse({ pagatiXml: s.mypay.pagatiXml }));
          return;
        }
        const code =
          s.state === 'CANCELLED'
            ? 'PAA_PAGAMENTO_ANNULLATO'
            : s.state === 'FAILED'
              ? 'PAA_PAGAMENTO_IN_CORSO'
              : 'PAA_PAGAMENTO_NON_INIZIATO';
        res.send(buildChiediPagatiResponse({ fault: fault(code, `session ${s.state}`) }));
        return;
      }
      res.send(
        buildInviaDovutiResponse({
          outcome: 'KO',
          fault: fault('PAA_SEMANTICA', `operation ${operation} is not simulated`),
        }),
      );
    },
  );
}

/** Builds the Pagati document of a paid session (the creditor from the domains by IPA code). */
export function payMyPaySession(
  session: MyPaySession,
  sessionId: string,
  domains: Domains,
): string {
  const domain =
    domains.all.find((d) => d.mypayIpaCode === session.ipaCode) ??
    domains.all.find((d) => d.dialect === 'mypay');
  session.pagatiXml = buildPagati(
    pagatiFor(
      session.dues,
      { domainId: domain?.fiscalCode ?? '00000000000', name: domain?.name ?? session.ipaCode },
      sessionId,
    ),
  );
  return session.pagatiXml;
}

/** Where and how the simulator pushes outcomes: the adapter's endpoint and the shared secret. */
export interface MyPayPushTarget {
  readonly url: string;
  /** HS256 secret of the bearer JWT; without it the push is sent unsigned. */
  readonly secret?: string;
  readonly issuer?: string;
}

/**
 * Pushes a paid session's Pagati to the adapter as MyPay does: `{ pagati, idSession }` with a
 * fresh short-lived token. Never throws: what the adapter answered is the step.
 */
export async function pushOutcome(
  target: MyPayPushTarget,
  sessionId: string,
  pagatiXml: string,
  timeoutMs: number,
): Promise<Step> {
  const operation = 'mypayOutcomePush';
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(target.secret === undefined
          ? {}
          : {
              authorization: `Bearer ${pushToken(target.secret, target.issuer === undefined ? {} : { issuer: target.issuer })}`,
            }),
      },
      body: JSON.stringify({ pagati: base64XmlEncode(pagatiXml), idSession: sessionId }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (res.ok) return { operation, outcome: 'OK' };
    return {
      operation,
      outcome: 'KO',
      faultCode: `HTTP_${res.status}`,
      description: text.slice(0, 300),
    };
  } catch (err) {
    return { operation, outcome: 'NO_ANSWER', description: (err as Error).message.slice(0, 300) };
  }
}
