/**
 * The simulated PSP paying a notice of an `rpt` domain with the old model 3 ("pagamento attivato
 * presso il PSP", PAGOPA.md §2 and §4): paaVerificaRPT then paaAttivaRPT, with a CCP the PSP
 * makes, on the adapter's PaPerNodoPagamentoPsp door; then the node's paaInviaRT of the positive
 * RT on the PaPerNodo door, as scripted (`normal`, `duplicate`, `never`: see rpt-node.ts).
 *
 * In between, as a real node: it waits for the EC's nodoInviaRPT (tipoVersamento PO, the PSP's
 * CCP, on this PSP's route; rpt-node.ts accepts it only then) and makes the RT from that RPT. The
 * wait is bounded (`rptWaitMs`): an adapter that never sends the RPT shows as a step
 * `nodoInviaRPT: NO_ANSWER`, and the node then makes the RPT from what the activation answered
 * (datiPagamentoPA: amount, account, causale, creditor) and delivers its RT anyway, so the RT
 * paths (and recovery, through the ledger's nodoChiediCopiaRT and nodoChiediStatoRPT) stay
 * testable while the missing RPT is visible in the run.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  buildPaaAttivaRPTRequest,
  buildPaaVerificaRPTRequest,
  parsePaaAttivaRPTResponse,
  parsePaaVerificaRPTResponse,
  type CreditorPaymentData,
  type PaymentDataResponse,
  type PptHeader,
} from '../adapters/pagopa/old-model-soap';
import type { PaymentRequest, Person } from '../adapters/pagopa/rpt-rt';
import type { StationRef } from '../adapters/pagopa/pa-for-node';
import { SIMULATED_PSP, type DeliveryScript, type Step } from './node-to-adapter';
import { RT_DELIVERY_MODES, sendRts, type RptLedger } from './rpt-node';
import { AppError } from '../domain/errors';

/** Who pays at the counter: the PSP does not ask (the RPT's debtor is the EC's business). */
const COUNTER_PAYER: Person = { kind: 'F', taxCode: 'ANONIMO', name: 'Pagatore allo sportello' };

export interface Model3Deps {
  /** The adapter's PaPerNodoPagamentoPsp endpoint (paaVerificaRPT, paaAttivaRPT). */
  readonly pspDoorUrl: string;
  /** The adapter's PaPerNodo endpoint (paaInviaRT). */
  readonly rtDoorUrl: string;
  readonly timeoutMs: number;
  readonly ledger: RptLedger;
  /** How long the node waits for the EC's RPT after the activation (default RPT_WAIT_MS). */
  readonly rptWaitMs?: number;
}

/** Long enough for the adapter's sender (polls every second) to send it, with a retry or two. */
export const RPT_WAIT_MS = 15_000;

export interface Model3Run {
  readonly outcome: 'PAID' | 'REFUSED';
  readonly steps: Step[];
  /** The PSP's CCP, once activated. */
  readonly ccp?: string;
}

async function ask(
  deps: Model3Deps,
  operation: 'paaVerificaRPT' | 'paaAttivaRPT',
  body: string,
  parse: (xml: string) => PaymentDataResponse,
): Promise<{ step: Step; paymentData?: CreditorPaymentData }> {
  let answer: PaymentDataResponse;
  try {
    const res = await fetch(deps.pspDoorUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: operation },
      body,
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    answer = parse(await res.text());
  } catch {
    return { step: { operation, outcome: 'NO_ANSWER' } };
  }
  const step: Step = {
    operation,
    outcome: answer.outcome,
    ...(answer.fault === undefined ? {} : { faultCode: answer.fault.faultCode }),
    ...(answer.fault?.description === undefined ? {} : { description: answer.fault.description }),
  };
  return answer.outcome === 'OK' && answer.paymentData !== undefined
    ? { step, paymentData: answer.paymentData }
    : { step };
}

/** The RPT the node makes itself when the EC sent none in time (see the module comment). */
function activatedRpt(
  station: StationRef,
  header: PptHeader,
  data: CreditorPaymentData,
): PaymentRequest {
  const now = new Date().toISOString().slice(0, 19);
  const remittance =
    data.remittance.kind === 'text'
      ? data.remittance.text
      : data.remittance.parts.map((p) => p.text).join(' ');
  return {
    version: '6.2.0',
    domain: { domainId: header.domainId, requestingStationId: station.stationId },
    requestMessageId: randomBytes(16).toString('hex'),
    requestDateTime: now,
    authentication: 'N/A',
    debtor: COUNTER_PAYER,
    creditor: data.creditor ?? { taxCode: header.domainId, name: header.domainId },
    executionDate: now.slice(0, 10),
    totalCents: data.amountCents,
    paymentType: 'PO',
    iuv: header.iuv,
    ccp: header.ccp,
    lines: [
      {
        amountCents: data.amountCents,
        creditIban: data.creditIban,
        remittanceInformation: remittance.slice(0, 140),
        collectionData: '9/0000000SIM/',
      },
    ],
  };
}

/**
 * Pays the notice with IUV `iuv` of `station`'s domain: verify, activate with the amount verified
 * and a fresh CCP, then the RT as scripted. Refused when either question is answered KO.
 */
export async function payNoticeModel3(
  deps: Model3Deps,
  station: StationRef,
  iuv: string,
  script?: DeliveryScript,
): Promise<Model3Run> {
  const mode = script?.mode ?? 'normal';
  if (!(RT_DELIVERY_MODES as readonly string[]).includes(mode)) {
    // Refused before any call: a script the RT model cannot play must not leave an activation.
    throw new AppError(
      'invalid-input',
      `delivery ${mode} is not simulated for RTs (${RT_DELIVERY_MODES.join(', ')})`,
    );
  }
  // The PSP's codiceContestoPagamento: a GUID of at most 35 characters (PAGOPA.md §4).
  const ccp = randomUUID().replace(/-/g, '');
  const header: PptHeader = {
    brokerId: station.brokerId,
    stationId: station.stationId,
    domainId: station.domainId,
    iuv,
    ccp,
  };
  const verified = await ask(
    deps,
    'paaVerificaRPT',
    buildPaaVerificaRPTRequest({ header, pspId: SIMULATED_PSP.id }),
    parsePaaVerificaRPTResponse,
  );
  if (verified.paymentData === undefined) return { outcome: 'REFUSED', steps: [verified.step] };
  const activated = await ask(
    deps,
    'paaAttivaRPT',
    buildPaaAttivaRPTRequest({
      header,
      pspId: SIMULATED_PSP.id,
      pspPaymentData: { amountCents: verified.paymentData.amountCents },
      pspBrokerId: SIMULATED_PSP.fiscalCode,
      pspChannelId: SIMULATED_PSP.channelId,
    }),
    parsePaaAttivaRPTResponse,
  );
  const steps: Step[] = [verified.step, activated.step];
  if (activated.paymentData === undefined) return { outcome: 'REFUSED', steps };
  const key = { domainId: header.domainId, iuv, ccp };
  deps.ledger.activated(key, {
    pspId: SIMULATED_PSP.id,
    pspBrokerId: SIMULATED_PSP.fiscalCode,
    channelId: SIMULATED_PSP.channelId,
  });
  const waitMs = deps.rptWaitMs ?? RPT_WAIT_MS;
  let sent = await deps.ledger.waitForRpt(key, waitMs);
  if (sent !== undefined) {
    steps.push({ operation: 'nodoInviaRPT', outcome: 'OK' });
  } else {
    steps.push({
      operation: 'nodoInviaRPT',
      outcome: 'NO_ANSWER',
      description: `no RPT from the EC within ${waitMs} ms: the RT is made from the activation`,
    });
    sent = {
      rpt: activatedRpt(station, header, activated.paymentData),
      brokerId: station.brokerId,
      stationId: station.stationId,
    };
    deps.ledger.received(sent);
  }
  const delivered = await sendRts(
    { adapterUrl: deps.rtDoorUrl, timeoutMs: deps.timeoutMs, ledger: deps.ledger },
    [sent],
    script,
  );
  steps.push(...delivered.steps);
  return { outcome: 'PAID', steps, ccp };
}
