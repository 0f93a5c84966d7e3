/**
 * SOAP over the transport: the request with the SOAPAction our WSDL declares, and the reading of
 * any answer into a result or an `upstream-error` the transport can classify.
 */
import { AppError } from '../../domain/errors';
import type { HttpRequest, HttpResponse } from './transport';
import { upstreamError } from './transport';
import type { WsdlOperation } from './wsdl-catalog';

/** The faultBean fields every dialect's answers share. */
export interface FaultLike {
  readonly faultCode: string;
  readonly faultString: string;
  readonly id: string;
  readonly description?: string;
  readonly serial?: number;
  readonly originalFaultCode?: string;
  readonly originalFaultString?: string;
  readonly originalDescription?: string;
}

/**
 * Faults that mean "the upstream is in trouble, ask again later": reads are retried on them and
 * the circuit breaker counts them. PPT_SYSTEM_ERROR is also what nodoChiediFlussoRendicontazione
 * answers while a flow is being prepared (PAGOPA.md §6); PAA_SYSTEM_ERROR is MyPay's own.
 */
export const TRANSIENT_FAULTS: ReadonlySet<string> = new Set([
  'PPT_SYSTEM_ERROR',
  'PAA_SYSTEM_ERROR',
  'PPT_STAZIONE_INT_PA_TIMEOUT',
]);

/**
 * Joins a base URL and the WSDL's endpoint path. The base may carry a path prefix (a proxy, the
 * simulator) and may also be given as a whole endpoint, as NODE_BASE_URL historically was (the
 * NodoPerPa endpoint): a base that already ends with one of `knownPaths` is cut back to its prefix,
 * so NodoPerPa and nodeForPa URLs both come out right from either form.
 */
export function endpointUrl(
  baseUrl: string,
  endpointPath: string,
  knownPaths: readonly string[] = [endpointPath],
): string {
  let base = baseUrl.replace(/\/+$/, '');
  for (const known of knownPaths) {
    const k = known.replace(/\/+$/, '');
    if (k !== '' && base.endsWith(k)) {
      base = base.slice(0, base.length - k.length);
      break;
    }
  }
  return base + (endpointPath.startsWith('/') ? '' : '/') + endpointPath;
}

export function soapRequest(
  baseUrl: string,
  op: WsdlOperation,
  envelope: string,
  extraHeaders: Readonly<Record<string, string>> = {},
  knownPaths: readonly string[] = [op.endpointPath],
): HttpRequest {
  return {
    method: 'POST',
    url: endpointUrl(baseUrl, op.endpointPath, knownPaths),
    headers: {
      'content-type': 'text/xml; charset=utf-8',
      accept: 'text/xml',
      soapaction: `"${op.soapAction}"`,
      ...extraHeaders,
    },
    body: envelope,
  };
}

/** The AppError for a faultBean answer; the PPT/PAA code is in details.faultCode. */
export function faultError(operation: string, fault: FaultLike): AppError {
  return upstreamError(
    `${operation} refused: ${fault.faultCode}${fault.description === undefined ? '' : ` (${fault.description})`}`,
    {
      operation,
      faultCode: fault.faultCode,
      faultString: fault.faultString,
      faultId: fault.id,
      ...(fault.description === undefined ? {} : { description: fault.description }),
      ...(fault.serial === undefined ? {} : { serial: fault.serial }),
      ...(fault.originalFaultCode === undefined
        ? {}
        : { originalFaultCode: fault.originalFaultCode }),
      ...(fault.originalDescription === undefined
        ? {}
        : { originalDescription: fault.originalDescription }),
    },
    { transient: TRANSIENT_FAULTS.has(fault.faultCode) },
  );
}

/**
 * Reads a SOAP answer with `parse` (one of our codecs), mapping HTTP and SOAP-level failures:
 * 5xx and SOAP Faults of the server are transient; 401/403 (subscription key, certificate) and
 * other 4xx are not (a configuration problem that retrying cannot fix); an answer our codec cannot
 * read is transient (typically a gateway's error page).
 */
export function interpretSoap<T>(
  operation: string,
  res: HttpResponse,
  parse: (xml: string) => T,
): T {
  const status = res.status;
  if (status === 401 || status === 403) {
    throw upstreamError(
      `${operation}: HTTP ${status}, the subscription key or client certificate was refused`,
      { operation, status },
    );
  }
  if (status >= 300 && status < 500) {
    throw upstreamError(`${operation}: HTTP ${status}`, { operation, status });
  }
  let result: T;
  try {
    result = parse(res.body);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    if (err.code === 'upstream-error') {
      // A SOAP Fault: the server's own error (soap:Server) is worth a retry, a client one is not.
      const raw = err.details['faultcode'];
      const faultcode = typeof raw === 'string' ? raw : '';
      throw upstreamError(
        `${operation}: ${err.message}`,
        { ...err.details, operation, status },
        { transient: status >= 500 || /server/i.test(faultcode), cause: err },
      );
    }
    throw upstreamError(
      status >= 500
        ? `${operation}: HTTP ${status}`
        : `${operation}: unreadable answer (${err.code})`,
      { operation, status, reason: err.message },
      { transient: true, cause: err },
    );
  }
  // A system fault inside a well-formed answer is upstream trouble: thrown here, inside the
  // transport's reading, so that reads are retried and the breaker counts it. Other faults are
  // returned for the dialect client to map (e.g. PPT_RT_SCONOSCIUTA is "not found").
  const fault = (result as { fault?: FaultLike } | null)?.fault;
  if (fault !== undefined && TRANSIENT_FAULTS.has(fault.faultCode)) {
    throw faultError(operation, fault);
  }
  return result;
}
