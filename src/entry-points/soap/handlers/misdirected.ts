import { isAppError, type AppError } from '../../../domain/errors';

/** Caller faults for which the receipt itself is kept (quarantined) before the node is told. */
const HOLDABLE = new Set(['domain-unknown', 'broker-unknown', 'station-unknown']);

/**
 * Runs the caller check of a receipt primitive and returns its fault instead of throwing it when
 * the fault is about where the receipt was delivered (domain, broker, station): such a receipt
 * still carries real money, so it is stored QUARANTINED and then refused with that fault. Why:
 * thousands of receipts rejected for a station mismatch were simply lost in the field (FIELD.md
 * §3). An address outside the domain's allowlist is not trusted and stays a plain refusal.
 * @throws whatever the check throws that is not a delivery fault.
 */
export function deliveryFault(check: () => unknown): AppError | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    if (isAppError(err) && HOLDABLE.has(err.code)) return err;
    throw err;
  }
}
