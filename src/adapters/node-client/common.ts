/**
 * Pieces every dialect client shares: the per-domain context and small readers.
 */
import { AppError } from '../../domain/errors';
import type { ReportingFlowRef } from './ports';
import type { NodeTransport } from './transport';
import type { WsdlCatalog } from './wsdl-catalog';

/** What a dialect client needs about its domain; secrets already read from the environment. */
export interface ClientContext {
  readonly transport: NodeTransport;
  readonly wsdl: WsdlCatalog;
  readonly domainId: string;
  readonly brokerId: string;
  readonly stationId: string;
}

/** The Ocp-Apim-Subscription-Key header, when the domain has a key. */
export function subscriptionHeader(key: string | undefined): Record<string, string> {
  return key === undefined ? {} : { 'ocp-apim-subscription-key': key };
}

const FLOW_ID = /^\d{4}-\d{2}-\d{2}([A-Za-z0-9_]+)-/;

/** The PSP id inside an identificativoFlusso (`<YYYY-MM-DD><idPSP>-<n>`, SACI §7.2). */
export function pspIdOfFlow(flowId: string): string | undefined {
  return FLOW_ID.exec(flowId)?.[1];
}

/**
 * Milliseconds of a dataOraFlusso. Without a time zone the node means Italian time; reading it
 * as UTC puts it 1–2 hours later than it is, so a "since" filter may keep a flow too many but
 * never drops one.
 */
export function flowTimeMs(flowDate: string): number {
  const hasZone = /(Z|[+-]\d{2}:\d{2})$/.test(flowDate);
  const ms = Date.parse(hasZone ? flowDate : `${flowDate}Z`);
  if (Number.isNaN(ms)) {
    throw new AppError('upstream-error', `dataOraFlusso "${flowDate}" is not a date-time`);
  }
  return ms;
}

export function toFlowRefs(
  items: readonly { flowId: string; flowDateTime: string }[],
  since: Date,
): ReportingFlowRef[] {
  const sinceMs = since.getTime();
  return items
    .filter((f) => flowTimeMs(f.flowDateTime) >= sinceMs)
    .map((f) => {
      const pspId = pspIdOfFlow(f.flowId);
      return {
        flowId: f.flowId,
        flowDate: f.flowDateTime,
        ...(pspId === undefined ? {} : { pspId }),
      };
    });
}

/** `idSession` from a redirect URL, when present. */
export function sessionIdOf(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('idSession') ?? undefined;
  } catch {
    return undefined;
  }
}
