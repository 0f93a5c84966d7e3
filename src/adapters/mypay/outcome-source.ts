import type {
  MyPayAttemptToPoll,
  MyPayOutcomeSource,
  MyPaySessionOutcome,
} from '../../domain/recovery/mypay-outcomes';
import type { DomainConfig } from '../../shared/domains-config';
import type { MyPayOutcomeReader } from '../node-client/ports';
import { upstreamError } from '../node-client/transport';
import { pagatiToReceipt } from './pagati-receipt';

/**
 * The MyPay poller's source for one domain: paaSILChiediPagati through the adapter's MyPay client,
 * the Pagati mapped exactly as a pushed one (pagati-receipt.ts), with the session to link the
 * attempt.
 * @throws AppError('upstream-error') when the Pagati names another domain than the one asked for,
 * or breaks a Pagati rule (then an operator has to look: it is not stored).
 */
export function myPayOutcomeSource(
  reader: MyPayOutcomeReader,
  domain: Pick<DomainConfig, 'fiscalCode' | 'brokerFiscalCode' | 'stationId'>,
): MyPayOutcomeSource {
  return {
    async outcomeOf(attempt: MyPayAttemptToPoll): Promise<MyPaySessionOutcome> {
      const report = await reader.paid(attempt.sessionId);
      if (!('paid' in report)) return { kind: report.state, upstreamState: report.faultCode };
      try {
        return {
          kind: 'receipt',
          receipt: pagatiToReceipt(report.paid, report.raw, {
            brokerId: domain.brokerFiscalCode,
            stationId: domain.stationId,
            sessionId: attempt.sessionId,
            ...(report.paid.domainId === domain.fiscalCode
              ? {}
              : {
                  misdirected: `MyPay session of domain ${domain.fiscalCode} answered a Pagati of domain ${report.paid.domainId}`,
                }),
          }),
        };
      } catch (err) {
        throw upstreamError(
          'paaSILChiediPagati: the Pagati document breaks its rules',
          { operation: 'paaSILChiediPagati', reason: err instanceof Error ? err.message : '' },
          { cause: err },
        );
      }
    },
  };
}
