import type { XmlObject } from '../../adapters/pagopa/xml';
import type { Logger } from '../../shared/logger';
import type { SoapModel } from './error-to-pa-fault';

/** The SOAP services we expose to the node, by the path their WSDL's soap:address names. */
export const SOAP_SERVICES = {
  paForNode: { path: '/pagopa/paForNode', wsdl: 'paForNode.wsdl', model: 'new' },
  PaPerNodo: { path: '/pagopa/PaPerNodo', wsdl: 'PaPerNodo.wsdl', model: 'old' },
  PaPerNodoPagamentoPsp: {
    path: '/pagopa/PaPerNodoPagamentoPsp',
    wsdl: 'PaPerNodoPagamentoPsp.wsdl',
    model: 'old',
  },
} as const satisfies Record<string, { path: string; wsdl: string; model: SoapModel }>;
export type SoapServiceName = keyof typeof SOAP_SERVICES;

/** A fault to put in a KO answer: the bean the node reads. */
export type PaaFault = {
  faultCode: string;
  faultString: string;
  /** The domain's fiscal code (the EC answering), as pagoPA requires. */
  id: string;
  description: string;
};

export type SoapContext = {
  requestId: string;
  /** The request's logger (its lines carry the request id). */
  log: Logger;
  /** The raw request as received, for the receipts inbox (stored as is). */
  rawXml: string;
  header: XmlObject | undefined;
  /** The remote address, for per-domain IP allowlists. */
  remoteAddress: string | undefined;
};

/**
 * One primitive: its name (the Body's first element), its service, how to handle it and how to
 * answer KO. `handle` returns the whole response envelope; any AppError it throws is mapped to a
 * PAA fault and answered with `ko`, in the same response shape the node expects.
 */
export type SoapOperation = {
  name: string;
  service: SoapServiceName;
  handle: (payload: XmlObject, ctx: SoapContext) => Promise<string>;
  ko: (fault: PaaFault) => string;
  /** The domain's fiscal code read from the request, for the fault id, when it can be read. */
  domainOf?: (payload: XmlObject, header: XmlObject | undefined) => string | undefined;
};
