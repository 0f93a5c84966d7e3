/**
 * The outbound client of a domain, picked by its dialect:
 * - `pagopa`: Checkout carts, biz-events receipt recovery, nodeForPa reporting flows;
 * - `rpt`: nodoInviaRPT / nodoInviaCarrelloRPT, the activated RPT, nodoChiediStatoRPT,
 *   nodoChiediCopiaRT, nodoChiediListaPendentiRPT, NodoPerPa reporting flows;
 * - `mypay`: paaSILInviaDovuti, paaSILImportaDovuto, paaSILChiediPagati.
 *
 * Build one {@link NodeTransport} and one {@link WsdlCatalog} per process (they hold the circuit
 * breakers, the TLS agent and the parsed WSDLs) and a client per domain from them.
 */
import type { Registry } from 'prom-client';
import type { DomainConfig } from '../../shared/domains-config';
import type { Logger } from '../../shared/logger';
import type { ClientContext } from './common';
import { MyPayNodeClient } from './mypay-client';
import { PagopaNodeClient } from './pagopa-client';
import { RptNodeClient } from './rpt-client';
import { NodeTransport, type HttpSender, type TlsFiles } from './transport';
import { WsdlCatalog } from './wsdl-catalog';

export { MyPayNodeClient, PagopaNodeClient, RptNodeClient, NodeTransport, WsdlCatalog };
export * from './ports';

export type NodeClient = PagopaNodeClient | RptNodeClient | MyPayNodeClient;

/** The configuration keys of the outbound client (see src/shared/config.ts). */
export interface NodeClientSettings {
  readonly nodeBaseUrl: string | undefined;
  readonly checkoutBaseUrl: string | undefined;
  readonly nodeRestBaseUrl: string | undefined;
  /** The biz-events Helpdesk API (receipt id by creditor and IUV); pagopa receipt recovery. */
  readonly nodeRestHelpdeskBaseUrl?: string | undefined;
  readonly mypayBaseUrl: string | undefined;
  readonly nodeTimeoutMs: number;
  readonly nodeRetryAttemptsMax: number;
  readonly nodeRetryBackoffBaseMs: number;
  readonly nodeCircuitFailuresMax: number;
  readonly nodeCircuitOpenMs: number;
  readonly nodeTls: TlsFiles;
}

/** A domain the client cannot serve as configured: a start-up problem, not a request's. */
export class NodeClientConfigError extends Error {
  override readonly name = 'NodeClientConfigError';
}

/**
 * The process-wide transport.
 * @throws Error when a TLS file cannot be read.
 */
export function createNodeTransport(
  settings: NodeClientSettings,
  deps: { registry: Registry; logger?: Logger; sender?: HttpSender },
): NodeTransport {
  return new NodeTransport({
    timeoutMs: settings.nodeTimeoutMs,
    retryAttemptsMax: settings.nodeRetryAttemptsMax,
    retryBackoffBaseMs: settings.nodeRetryBackoffBaseMs,
    circuitFailuresMax: settings.nodeCircuitFailuresMax,
    circuitOpenMs: settings.nodeCircuitOpenMs,
    registry: deps.registry,
    tls: settings.nodeTls,
    ...(deps.logger === undefined ? {} : { logger: deps.logger }),
    ...(deps.sender === undefined ? {} : { sender: deps.sender }),
  });
}

export interface CreateNodeClientOptions {
  readonly settings: NodeClientSettings;
  readonly transport: NodeTransport;
  readonly wsdl: WsdlCatalog;
  /** Where the secrets named by the domain are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

function secret(
  env: NodeJS.ProcessEnv,
  domain: DomainConfig,
  field: 'stationPasswordEnv' | 'subscriptionKeyEnv' | 'mypayPasswordEnv',
  required: boolean,
): string | undefined {
  const name = domain[field];
  const value = name === undefined ? undefined : env[name];
  if (value !== undefined && value !== '') return value;
  if (!required) return undefined;
  throw new NodeClientConfigError(
    name === undefined
      ? `domain ${domain.fiscalCode} (${domain.dialect}): ${field} is not set in the domains file`
      : `domain ${domain.fiscalCode} (${domain.dialect}): environment variable ${name} is not set`,
  );
}

/**
 * The client of one domain, for its dialect. Secrets are read here, once.
 * @throws NodeClientConfigError when a secret or base URL the dialect needs is missing.
 */
export function createNodeClient(
  domain: DomainConfig,
  options: CreateNodeClientOptions,
): NodeClient {
  const env = options.env ?? process.env;
  const s = options.settings;
  const context: ClientContext = {
    transport: options.transport,
    wsdl: options.wsdl,
    domainId: domain.fiscalCode,
    brokerId: domain.brokerFiscalCode,
    stationId: domain.stationId,
  };
  switch (domain.dialect) {
    case 'pagopa': {
      const password = secret(env, domain, 'stationPasswordEnv', false);
      return new PagopaNodeClient({
        ...context,
        subscriptionKey: secret(env, domain, 'subscriptionKeyEnv', true)!,
        ...(password === undefined ? {} : { password }),
        ...(s.checkoutBaseUrl === undefined ? {} : { checkoutBaseUrl: s.checkoutBaseUrl }),
        ...(s.nodeRestBaseUrl === undefined ? {} : { restBaseUrl: s.nodeRestBaseUrl }),
        ...(s.nodeRestHelpdeskBaseUrl === undefined
          ? {}
          : { helpdeskBaseUrl: s.nodeRestHelpdeskBaseUrl }),
        ...(s.nodeBaseUrl === undefined ? {} : { nodeBaseUrl: s.nodeBaseUrl }),
      });
    }
    case 'rpt': {
      if (s.nodeBaseUrl === undefined) {
        throw new NodeClientConfigError(
          `domain ${domain.fiscalCode} (rpt): NODE_BASE_URL is not set`,
        );
      }
      const key = secret(env, domain, 'subscriptionKeyEnv', false);
      return new RptNodeClient({
        ...context,
        nodeBaseUrl: s.nodeBaseUrl,
        password: secret(env, domain, 'stationPasswordEnv', true)!,
        ...(key === undefined ? {} : { subscriptionKey: key }),
      });
    }
    case 'mypay': {
      if (s.mypayBaseUrl === undefined) {
        throw new NodeClientConfigError(
          `domain ${domain.fiscalCode} (mypay): MYPAY_BASE_URL is not set`,
        );
      }
      if (domain.mypayIpaCode === undefined) {
        throw new NodeClientConfigError(
          `domain ${domain.fiscalCode} (mypay): mypayIpaCode (codIpaEnte) is not set in the domains file`,
        );
      }
      const password = secret(env, domain, 'mypayPasswordEnv', false);
      return new MyPayNodeClient({
        ...context,
        mypayBaseUrl: s.mypayBaseUrl,
        caller: { ipaCode: domain.mypayIpaCode, ...(password === undefined ? {} : { password }) },
      });
    }
  }
}
