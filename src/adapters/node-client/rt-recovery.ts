import {
  buildNodoChiediCopiaRTRequest,
  buildNodoChiediStatoRPTRequest,
  parseNodoChiediCopiaRTResponse,
  parseNodoChiediStatoRPTResponse,
  type RptKeyRequest,
} from '../pagopa/old-model-soap';
import { creditedCents, parseRt, rtProblems } from '../pagopa/rpt-rt';
import { AppError, isAppError } from '../../domain/errors';
import type {
  AttemptToRecover,
  ReceiptLookup,
  ReceiptSource,
} from '../../domain/recovery/receipt-source';
import { rtEnvelopeProblems, rtOutcome, wireDateTime } from '../../domain/receipts/semantics';
import type { DomainConfig } from '../../shared/domains-config';

/**
 * Receipt recovery for the RT model: `nodoChiediCopiaRT` for the RT of an RPT (domain, IUV, CCP),
 * and, when the node has none, `nodoChiediStatoRPT` to say why (PAGOPA.md §6).
 *
 * Why plain fetch and not the `soap` client: two small envelopes whose codecs exist
 * (old-model-soap.ts), an explicit timeout, and nock can intercept them in tests. The station
 * password is read from the environment variable the domain names, at call time, and never logged.
 */

/** Faults that mean "no RT yet" rather than "something is wrong". */
const NOT_YET = new Set(['PPT_RT_NONDISPONIBILE', 'PPT_RT_SCONOSCIUTA']);

export type RtRecoveryOptions = {
  /** The NodoPerPa SOAP endpoint (NODE_BASE_URL). */
  url: string;
  timeoutMs: number;
  domain: DomainConfig;
  env?: NodeJS.ProcessEnv;
};

/** A ReceiptSource for one RT-model domain. */
export function rtReceiptSource(options: RtRecoveryOptions): ReceiptSource {
  const env = options.env ?? process.env;
  return {
    async findReceipt(attempt: AttemptToRecover): Promise<ReceiptLookup> {
      // No RPT was sent for it (a notice paid at a PSP, a top-up without a return URL): the node
      // knows it by the PSP's CCP only once paaAttivaRPT recorded one. Nothing to ask yet, and
      // not an error to shout about on every run.
      if (attempt.ccp === null) return { found: false, upstreamState: 'NO_CCP' };
      const passwordEnv = options.domain.stationPasswordEnv;
      const password = passwordEnv === undefined ? undefined : env[passwordEnv];
      if (password === undefined || password === '') {
        throw new AppError(
          'internal',
          `domain ${options.domain.fiscalCode}: station password variable ${passwordEnv ?? '(stationPasswordEnv)'} is not set`,
        );
      }
      const key: RptKeyRequest = {
        brokerId: options.domain.brokerFiscalCode,
        stationId: options.domain.stationId,
        password,
        domainId: attempt.domainId,
        iuv: attempt.iuv,
        ccp: attempt.ccp,
      };
      const copy = parseOr(
        await post(options, 'nodoChiediCopiaRT', buildNodoChiediCopiaRTRequest(key)),
        parseNodoChiediCopiaRTResponse,
      );
      if (copy.rtXml !== undefined) {
        return {
          found: true,
          rawXml: copy.rtXml,
          receipt: incomingFromRt(copy.rtXml, attempt, options.domain),
        };
      }
      const faultCode = copy.fault?.faultCode ?? 'no rt';
      if (copy.fault !== undefined && !NOT_YET.has(faultCode)) {
        throw new AppError(
          'upstream-error',
          `nodoChiediCopiaRT answered ${faultCode}: ${copy.fault.description ?? copy.fault.faultString}`,
        );
      }
      const status = parseOr(
        await post(options, 'nodoChiediStatoRPT', buildNodoChiediStatoRPTRequest(key)),
        parseNodoChiediStatoRPTResponse,
      );
      return {
        found: false,
        upstreamState: status.status?.state ?? status.fault?.faultCode ?? faultCode,
      };
    },
  };
}

/** The RT as the paaInviaRT door would accept it, with RECOVERY as its source. */
function incomingFromRt(rtXml: string, attempt: AttemptToRecover, domain: DomainConfig) {
  let rt;
  try {
    rt = parseRt(rtXml, { checkConsistency: false });
  } catch (err) {
    const message = isAppError(err) ? err.message : String(err);
    throw new AppError('upstream-error', `the node's copy of the RT is invalid: ${message}`);
  }
  const receiptAt = wireDateTime(rt.receiptDateTime);
  const problems = [
    ...rtProblems(rt),
    ...rtEnvelopeProblems(
      {
        header: { domainId: attempt.domainId, iuv: attempt.iuv, ccp: attempt.ccp ?? '' },
        domainId: rt.domain.domainId,
        iuv: rt.iuv,
        ccp: rt.ccp,
        receiptAt,
      },
      new Date(),
    ),
  ];
  if (problems.length > 0) {
    throw new AppError('upstream-error', `the node's copy of the RT: ${problems.join('; ')}`);
  }
  return {
    key: { domainId: attempt.domainId, iuv: rt.iuv, receiptKey: rt.ccp },
    source: 'RECOVERY' as const,
    brokerId: domain.brokerFiscalCode,
    stationId: domain.stationId,
    outcome: rtOutcome(rt.outcome),
    amountCents: creditedCents(rt),
    paidAt: receiptAt,
    rawXml: rtXml,
    parsed: rt,
    attemptCcp: rt.ccp,
  };
}

function parseOr<T>(xml: string, parse: (xml: string) => T): T {
  try {
    return parse(xml);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new AppError('upstream-error', `unreadable answer from the node: ${message}`);
  }
}

async function post(options: RtRecoveryOptions, action: string, body: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: action },
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    const reason = err instanceof Error ? err.name : 'error';
    throw new AppError(
      'dependency-down',
      `${action}: the node is unreachable (${reason})`,
      {},
      { cause: err },
    );
  }
  const text = await res.text();
  // SOAP 1.1 carries faults with 500; the codecs read the faultBean either way.
  if (res.status !== 200 && res.status !== 500) {
    throw new AppError('upstream-error', `${action}: the node answered HTTP ${res.status}`);
  }
  return text;
}
