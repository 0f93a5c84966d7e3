/**
 * The `mypay` dialect (Regione Puglia's regional node runs MyPay): paaSILInviaDovuti starts a
 * payment and answers MyPay's checkout redirect plus an idSession; paaSILImportaDovuto creates,
 * changes or cancels a debt position; paaSILChiediPagati reads the outcome of a session.
 * Calls carry the tenant's IPA code and, when MyPay issued one, its password (never logged).
 */
import { AppError } from '../../domain/errors';
import {
  buildDovuti,
  buildVersamento,
  parsePagati,
  type MyPayDueImport,
  type MyPayPaidReport,
} from '../mypay/documents';
import {
  buildChiediPagatiRequest,
  buildImportaDovutoRequest,
  buildInviaDovutiRequest,
  parseChiediPagatiResponse,
  parseImportaDovutoResponse,
  parseInviaDovutiResponse,
  type MyPayCaller,
} from '../mypay/sil-soap';
import type { ClientContext } from './common';
import type {
  MyPayImporter,
  MyPayOutcomeReader,
  MyPayPaymentInput,
  PaymentStarter,
  StartedPayment,
} from './ports';
import { faultError, interpretSoap, soapRequest } from './soap';
import { upstreamError } from './transport';

/** paaSILChiediPagati faults that describe the session's state rather than an error. */
const SESSION_STATES: Readonly<
  Record<string, 'not-started' | 'in-progress' | 'cancelled' | 'expired'>
> = {
  PAA_PAGAMENTO_NON_INIZIATO: 'not-started',
  PAA_PAGAMENTO_IN_CORSO: 'in-progress',
  PAA_PAGAMENTO_ANNULLATO: 'cancelled',
  PAA_PAGAMENTO_SCADUTO: 'expired',
};

const OUTCOME_STATES = [
  'paid',
  'not-paid',
  'partially-paid',
  'time-limit',
  'partial-time-limit',
] as const;

export interface MyPayClientOptions extends ClientContext {
  readonly mypayBaseUrl: string;
  readonly caller: MyPayCaller;
}

export class MyPayNodeClient
  implements PaymentStarter<MyPayPaymentInput>, MyPayImporter, MyPayOutcomeReader
{
  readonly dialect = 'mypay' as const;

  constructor(private readonly o: MyPayClientOptions) {}

  private call<T>(
    operation: string,
    envelope: string,
    idempotent: boolean,
    parse: (xml: string) => T,
  ): Promise<T> {
    return this.o.transport.call({
      dialect: 'mypay',
      operation,
      upstream: this.o.mypayBaseUrl,
      idempotent,
      ambiguityHint: 'check with paaSILChiediPagati or MyPay back office before sending it again',
      request: soapRequest(
        this.o.mypayBaseUrl,
        this.o.wsdl.operation('mypay', operation),
        envelope,
      ),
      interpret: (res) => interpretSoap(operation, res, parse),
    });
  }

  /**
   * paaSILInviaDovuti: MyPay's checkout redirect and the session to ask paaSILChiediPagati about.
   * @throws AppError('invalid-input') for a Dovuti document the XSD would refuse.
   * @throws AppError('upstream-error') with details.faultCode on refusal, details.ambiguous on timeout.
   */
  async start(input: MyPayPaymentInput): Promise<StartedPayment> {
    const op = 'paaSILInviaDovuti';
    const res = await this.call(
      op,
      buildInviaDovutiRequest({
        caller: this.o.caller,
        dovutiXml: buildDovuti(input.dues),
        ...(input.returnUrl === undefined ? {} : { returnUrl: input.returnUrl }),
      }),
      false,
      parseInviaDovutiResponse,
    );
    if (res.fault !== undefined) throw faultError(op, res.fault);
    if (res.outcome !== 'OK' || res.url === undefined) {
      throw upstreamError(`${op}: esito ${res.outcome ?? 'missing'} without a fault, or no url`, {
        operation: op,
      });
    }
    return {
      redirectUrl: res.url,
      ...(res.sessionId === undefined ? {} : { sessionId: res.sessionId }),
    };
  }

  /**
   * paaSILImportaDovuto (not retried).
   * @throws AppError('upstream-error') with details.faultCode on refusal.
   */
  async importDue(input: MyPayDueImport): Promise<{ iuv?: string; noticeUrl?: string }> {
    const op = 'paaSILImportaDovuto';
    const res = await this.call(
      op,
      buildImportaDovutoRequest({
        caller: this.o.caller,
        versamentoXml: buildVersamento(input),
        ...(input.generateIuv === undefined ? {} : { generateIuv: input.generateIuv }),
      }),
      false,
      parseImportaDovutoResponse,
    );
    if (res.fault !== undefined) throw faultError(op, res.fault);
    if (res.outcome !== 'OK') {
      throw upstreamError(`${op}: esito ${res.outcome ?? 'missing'} without a fault`, {
        operation: op,
      });
    }
    return {
      ...(res.iuv === undefined ? {} : { iuv: res.iuv }),
      ...(res.noticeUrl === undefined ? {} : { noticeUrl: res.noticeUrl }),
    };
  }

  /**
   * paaSILChiediPagati: the session's outcome. A session not yet paid is a state
   * (`not-started`, `in-progress`), not an error; PAA_SYSTEM_ERROR is retried.
   * @throws AppError('upstream-error') for any other fault, or an answer without Pagati.
   */
  async paid(sessionId: string): Promise<MyPayPaidReport> {
    const op = 'paaSILChiediPagati';
    if (sessionId === '') throw new AppError('invalid-input', 'idSession must not be empty');
    const res = await this.call(
      op,
      buildChiediPagatiRequest({ caller: this.o.caller, sessionId }),
      true,
      parseChiediPagatiResponse,
    );
    if (res.fault !== undefined) {
      const state = SESSION_STATES[res.fault.faultCode];
      if (state !== undefined) return { state, faultCode: res.fault.faultCode };
      throw faultError(op, res.fault);
    }
    if (res.pagatiXml === undefined) {
      throw upstreamError(`${op}: neither fault nor pagati in the answer`, { operation: op });
    }
    let paid;
    try {
      paid = parsePagati(res.pagatiXml);
    } catch (err) {
      throw upstreamError(
        `${op}: unreadable Pagati document`,
        { operation: op, reason: err instanceof Error ? err.message : String(err) },
        { cause: err },
      );
    }
    return { state: OUTCOME_STATES[paid.outcome], paid, raw: res.pagatiXml };
  }
}
