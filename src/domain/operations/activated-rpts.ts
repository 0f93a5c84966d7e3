import { AppError } from '../errors';

/**
 * Re-sending the RPT owed after paaAttivaRPT (old model 3) when its send is FAILED: the operators'
 * replacement for the runbook's UPDATE. A re-sent row is re-armed exactly as a repeated activation
 * re-arms it (PENDING, attempts 0, due now, lease dropped); the worker sends it within a second.
 */

export const ACTIVATED_RPT_STATES = ['PENDING', 'SENT', 'FAILED'] as const;
export type ActivatedRptState = (typeof ACTIVATED_RPT_STATES)[number];

/** One request re-sends a bounded set: an operator names the rows after reading the list. */
export const RESEND_IDS_MAX = 100;

/**
 * Whether a send in `state` may be re-armed. FAILED: that is what the action is for. SENT only
 * with `force`: the node answered OK (or PPT_RPT_DUPLICATA) but an operator learnt from
 * nodoChiediStatoRPT that it has no RPT; a needless resend is harmless (the node answers
 * PPT_RPT_DUPLICATA, counted as sent). PENDING never: it is already in line, and re-arming it
 * would only reset its backoff against a node that is down.
 * @throws AppError('conflict') with the reason, for the doors to show.
 */
export function assertResendable(id: number, state: ActivatedRptState, force: boolean): void {
  if (state === 'FAILED') return;
  if (state === 'SENT') {
    if (force) return;
    throw new AppError(
      'conflict',
      `activated RPT ${id} is SENT: the node has it; force it only if nodoChiediStatoRPT says otherwise`,
    );
  }
  throw new AppError('conflict', `activated RPT ${id} is PENDING: already in line to be sent`);
}
