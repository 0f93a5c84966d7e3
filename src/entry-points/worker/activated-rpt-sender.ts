import type { Registry } from 'prom-client';
import {
  createNodeClient,
  createNodeTransport,
  NodeClientConfigError,
  RptNodeClient,
  WsdlCatalog,
  type ActivatedRptSender,
  type NodeClientSettings,
} from '../../adapters/node-client';
import { TRANSIENT_FAULTS } from '../../adapters/node-client/soap';
import { rptOf } from '../../adapters/online-payments/rpt-starter';
import { buildRpt } from '../../adapters/pagopa/rpt-rt';
import {
  claimDueSends,
  markSendFailed,
  markSendSent,
  type ClaimedSend,
} from '../../data-access/activated-rpt-sends-repository';
import type { Db } from '../../data-access/db';
import { findPosition } from '../../data-access/positions-repository';
import { AppError } from '../../domain/errors';
import type { DomainConfig, Domains } from '../../shared/domains-config';
import type { Logger } from '../../shared/logger';
import { WSDL_DIR } from '../soap/soap-server';
import { jobError } from './error-to-job-outcome';

/**
 * The activated-RPT sender (old model 3, PAGOPA.md §4): sends the RPTs that paaAttivaRPT queued
 * (activated_rpt_sends) with nodoInviaRPT: tipoVersamento PO, the PSP's CCP, on the PSP's route
 * (identificativoPSP, identificativoIntermediarioPSP, identificativoCanalePSP of the activation).
 * The RPT is built like an EC-initiated one (rpt-starter.ts rptOf) from the option as in force at
 * the activation, for the activated amount, with the position's debtor; once the node has it, it is recorded in
 * sent_payment_requests, where operators read what was sent.
 *
 * Outcomes: OK → SENT. PPT_RPT_DUPLICATA → SENT (the node already has it: an earlier send whose
 * answer was lost, or a repeated activation). Transient failures (node or network down, 5xx,
 * timeout, a transient PPT_ fault, a database hiccup) → PENDING again with exponential backoff,
 * FAILED after ATTEMPTS_MAX sends. Permanent refusals (any other PPT_ fault) and an RPT that
 * cannot be built (the position changed since the activation) → FAILED at once. FAILED is logged
 * at error level and left to operators (README, "An activated RPT is FAILED").
 *
 * Only domains with an RPT sender (dialect `rpt` and NODE_BASE_URL) are claimed; rows of others
 * stay PENDING (paaAttivaRPT queues rows for `rpt` domains only, so that means a worker without
 * NODE_BASE_URL: they go once it is configured). Safe on several workers: claims use SKIP LOCKED and a lease (activated-rpt-sends-repository.ts).
 */

export type ActivatedRptSenderDeps = {
  db: Db;
  logger: Logger;
  domains: Domains;
  /** The sender of each domain that has one, by fiscal code. */
  senders: ReadonlyMap<string, ActivatedRptSender>;
  intervalMs?: number;
  batchSize?: number;
  /** How long a claimed row is held; longer than a nodoInviaRPT can take. */
  leaseMs?: number;
  attemptsMax?: number;
  backoffBaseMs?: number;
};

export const ACTIVATED_RPT_DEFAULTS = {
  /** The RPT is owed right after the activation: the node waits for it before the RT. */
  intervalMs: 1_000,
  batchSize: 50,
  leaseMs: 120_000,
  /** 8 sends 5 s apart doubling: the last about 10 minutes after the first. */
  attemptsMax: 8,
  backoffBaseMs: 5_000,
} as const;

export type SendRun = { claimed: number; sent: number; retried: number; failed: number };

const DUPLICATE = 'PPT_RPT_DUPLICATA';

/** The RPT sender of every `rpt` domain that has one (NODE_BASE_URL and its secrets). */
export function activatedRptSenders(
  domains: Domains,
  settings: NodeClientSettings,
  deps: {
    registry: Registry;
    logger: Logger;
    envFor?: (domain: DomainConfig) => NodeJS.ProcessEnv;
  },
): Map<string, ActivatedRptSender> {
  const senders = new Map<string, ActivatedRptSender>();
  const rptDomains = domains.all.filter((d) => d.dialect === 'rpt');
  if (rptDomains.length === 0 || settings.nodeBaseUrl === undefined) return senders;
  const transport = createNodeTransport(settings, { registry: deps.registry, logger: deps.logger });
  const wsdl = WsdlCatalog.load(WSDL_DIR);
  for (const domain of rptDomains) {
    try {
      const client = createNodeClient(domain, {
        settings,
        transport,
        wsdl,
        ...(deps.envFor === undefined ? {} : { env: deps.envFor(domain) }),
      });
      if (client instanceof RptNodeClient) senders.set(domain.fiscalCode, client);
    } catch (err) {
      if (!(err instanceof NodeClientConfigError)) throw err;
      deps.logger.warn(
        { domain: domain.fiscalCode, err: err.message },
        'activated RPTs of this domain are not sent',
      );
    }
  }
  return senders;
}

/** Whether a failed send may succeed later (see the module comment). */
function isTransient(err: AppError): boolean {
  if (err.code === 'dependency-down' || err.code === 'internal') return true;
  if (err.code !== 'upstream-error') return false;
  const faultCode = err.details['faultCode'];
  return typeof faultCode !== 'string' || TRANSIENT_FAULTS.has(faultCode);
}

/** One run: claims due sends and tries each once. */
export async function sendActivatedOnce(deps: ActivatedRptSenderDeps): Promise<SendRun> {
  const o = { ...ACTIVATED_RPT_DEFAULTS, ...definedOf(deps) };
  const claimed = await claimDueSends(deps.db, {
    domainIds: [...deps.senders.keys()],
    limit: o.batchSize,
    leaseMs: o.leaseMs,
  });
  const run: SendRun = { claimed: claimed.length, sent: 0, retried: 0, failed: 0 };
  for (const send of claimed) {
    const outcome = await sendOne(deps, o, send);
    run[outcome] += 1;
  }
  if (claimed.length > 0) deps.logger.info({ ...run }, 'activated RPTs sent');
  return run;
}

function definedOf(deps: ActivatedRptSenderDeps): Partial<typeof ACTIVATED_RPT_DEFAULTS> {
  return Object.fromEntries(
    (['intervalMs', 'batchSize', 'leaseMs', 'attemptsMax', 'backoffBaseMs'] as const)
      .filter((k) => deps[k] !== undefined)
      .map((k) => [k, deps[k]]),
  );
}

async function sendOne(
  deps: ActivatedRptSenderDeps,
  o: typeof ACTIVATED_RPT_DEFAULTS,
  send: ClaimedSend,
): Promise<'sent' | 'retried' | 'failed'> {
  const where = { paymentId: send.paymentId, domain: send.domainId, iuv: send.iuv, ccp: send.ccp };
  try {
    const document = await sendRpt(deps, send);
    await markSendSent(deps.db, send, document);
    deps.logger.info(
      { ...where, pspId: send.psp.pspId, duplicate: document === undefined },
      'activated RPT sent',
    );
    return 'sent';
  } catch (err) {
    const error = jobError(err);
    const sends = send.attempts + 1;
    const retry = isTransient(error) && sends < o.attemptsMax;
    const message = `${error.code}: ${error.message}`;
    const retryAt = retry ? new Date(Date.now() + o.backoffBaseMs * 2 ** (sends - 1)) : undefined;
    await markSendFailed(deps.db, send, message, retryAt);
    if (retryAt !== undefined) {
      deps.logger.warn({ ...where, sends, retryAt, err: message }, 'activated RPT not sent yet');
      return 'retried';
    }
    deps.logger.error(
      { ...where, sends, err: message },
      'activated RPT FAILED: the node does not have it (see README, "An activated RPT is FAILED")',
    );
    return 'failed';
  }
}

/** Builds and sends the RPT; the document as sent, or undefined when the node already had it. */
async function sendRpt(
  deps: ActivatedRptSenderDeps,
  send: ClaimedSend,
): Promise<string | undefined> {
  const sender = deps.senders.get(send.domainId);
  const domain = deps.domains.all.find((d) => d.fiscalCode === send.domainId);
  if (sender === undefined || domain === undefined) {
    throw new AppError('internal', `domain ${send.domainId}: no RPT sender`);
  }
  const position = await findPosition(deps.db, send.domainId, send.externalId);
  const option = position?.options.find((opt) => opt.iuv === send.iuv);
  if (position === undefined || option === undefined) {
    throw new AppError('not-found', `IUV ${send.iuv}: its position is gone`);
  }
  const rpt = rptOf(
    { domain },
    { paymentId: send.paymentId, position, option, amountCents: send.amountCents },
    // As of the activation: a reduction period that ended since must not change the amount the
    // PSP collected (the RPT is dated that day too).
    send.activatedAt,
    { paymentType: 'PO', ccp: send.ccp },
  );
  try {
    await sender.sendActivated({ rpt, psp: send.psp });
  } catch (err) {
    if (err instanceof AppError && err.details['faultCode'] === DUPLICATE) return undefined;
    throw err;
  }
  return buildRpt(rpt);
}

/** Starts the loop; the returned stop waits for a run in progress. */
export function startActivatedRptSender(deps: ActivatedRptSenderDeps): () => Promise<void> {
  if (deps.senders.size === 0) {
    // With rpt domains this is a misconfiguration: their PSPs' RTs would wait for RPTs never sent.
    const rptDomains = deps.domains.all.some((d) => d.dialect === 'rpt');
    deps.logger[rptDomains ? 'warn' : 'info'](
      {},
      'no RPT sender (rpt domains and NODE_BASE_URL): activated RPTs stay PENDING',
    );
    return () => Promise.resolve();
  }
  const intervalMs = deps.intervalMs ?? ACTIVATED_RPT_DEFAULTS.intervalMs;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = (): void => {
    running = sendActivatedOnce(deps)
      .then(() => undefined)
      .catch((err: unknown) => {
        deps.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'activated RPT run failed',
        );
      })
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, intervalMs);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
