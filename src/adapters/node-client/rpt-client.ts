/**
 * The `rpt` dialect: regional nodes and pagoPA's WISP converter on the old (RPT/RT) model, through
 * NodoPerPa. Payments start with nodoInviaRPT (one RPT) or nodoInviaCarrelloRPT (2..5), on WISP's
 * fixed route for the "universal" RPT; after paaAttivaRPT the RPT goes with the PSP's route and
 * CCP. Reads: nodoChiediStatoRPT, nodoChiediCopiaRT, nodoChiediListaPendentiRPT and the
 * reporting-flow pair. Every request carries the station password (a secret, never logged) and,
 * with the new connectivity, the subscription key header.
 */
import { AppError } from '../../domain/errors';
import {
  buildNodoChiediCopiaRTRequest,
  buildNodoChiediElencoFlussiRequest,
  buildNodoChiediFlussoRequest,
  buildNodoChiediListaPendentiRPTRequest,
  buildNodoChiediStatoRPTRequest,
  buildNodoInviaCarrelloRPTRequest,
  buildNodoInviaRPTRequest,
  parseNodoChiediCopiaRTResponse,
  parseNodoChiediElencoFlussiResponse,
  parseNodoChiediFlussoResponse,
  parseNodoChiediListaPendentiRPTResponse,
  parseNodoChiediStatoRPTResponse,
  parseNodoInviaCarrelloRPTResponse,
  parseNodoInviaRPTResponse,
  type RptStatus,
} from '../pagopa/old-model-soap';
import { buildRpt, type PaymentRequest } from '../pagopa/rpt-rt';
import { sessionIdOf, subscriptionHeader, toFlowRefs, type ClientContext } from './common';
import {
  WISP_ROUTE,
  type ActivatedRptInput,
  type ActivatedRptSender,
  type PaymentStarter,
  type PendingLister,
  type PendingPayment,
  type PendingQuery,
  type ReceiptCopier,
  type ReceiptCopy,
  type ReceiptKey,
  type ReportingFlowRef,
  type ReportingFlowSource,
  type RptPaymentInput,
  type RptStatusReader,
  type StartedPayment,
} from './ports';
import { faultError, interpretSoap, soapRequest } from './soap';
import { upstreamError, type HttpResponse } from './transport';

/** nodoChiediCopiaRT faults that mean "the node has no RT for this key" rather than an error. */
export const RT_NOT_FOUND_FAULTS: ReadonlySet<string> = new Set([
  'PPT_RT_NONDISPONIBILE',
  'PPT_RT_SCONOSCIUTA',
  'PPT_RPT_SCONOSCIUTA',
]);

const CHECK_STATE = 'check with nodoChiediStatoRPT before sending it again';

export interface RptClientOptions extends ClientContext {
  readonly nodeBaseUrl: string;
  /** The station password (8..15). */
  readonly password: string;
  readonly subscriptionKey?: string;
}

export class RptNodeClient
  implements
    PaymentStarter<RptPaymentInput>,
    ActivatedRptSender,
    ReceiptCopier,
    PendingLister,
    ReportingFlowSource,
    RptStatusReader
{
  readonly dialect = 'rpt' as const;

  constructor(private readonly o: RptClientOptions) {
    if (o.password.length < 8 || o.password.length > 15) {
      throw new AppError('invalid-input', 'station password: 8..15 characters expected');
    }
  }

  private call<T>(
    operation: string,
    envelope: string,
    idempotent: boolean,
    parse: (xml: string) => T,
  ): Promise<T> {
    const op = this.o.wsdl.operation('nodoPerPa', operation);
    return this.o.transport.call({
      dialect: 'rpt',
      operation,
      upstream: this.o.nodeBaseUrl,
      idempotent,
      ambiguityHint: CHECK_STATE,
      request: soapRequest(
        this.o.nodeBaseUrl,
        op,
        envelope,
        subscriptionHeader(this.o.subscriptionKey),
        this.o.wsdl.endpointPaths,
      ),
      interpret: (res: HttpResponse) => interpretSoap(operation, res, parse),
    });
  }

  private get station() {
    return { brokerId: this.o.brokerId, stationId: this.o.stationId, password: this.o.password };
  }

  /**
   * Sends 1 RPT with nodoInviaRPT, or 2..5 with nodoInviaCarrelloRPT, on WISP's route.
   * @throws AppError('invalid-input') for 0 or more than 5 RPTs, a cart without cartId, or an
   * RPT that is not a "universal" one (tipoVersamento BBT).
   * @throws AppError('upstream-error') with details.faultCode (cart: details.rptErrors) on refusal,
   * or details.ambiguous on a timeout.
   */
  async start(input: RptPaymentInput): Promise<StartedPayment> {
    const { rpts } = input;
    if (rpts.length < 1 || rpts.length > 5) {
      throw new AppError('invalid-input', `1 to 5 RPTs, not ${rpts.length}`);
    }
    for (const r of rpts) {
      if (r.paymentType !== 'BBT') {
        throw new AppError(
          'invalid-input',
          `RPT ${r.iuv}: tipoVersamento ${r.paymentType}; WISP's universal RPT uses BBT (PO only after paaAttivaRPT)`,
        );
      }
    }
    const first = rpts[0]!;
    if (rpts.length === 1 && input.cartId === undefined) {
      const res = await this.call(
        'nodoInviaRPT',
        buildNodoInviaRPTRequest({
          header: this.header(first),
          password: this.o.password,
          ...WISP_ROUTE,
          rptXml: buildRpt(first),
        }),
        false,
        parseNodoInviaRPTResponse,
      );
      if (res.fault !== undefined) throw faultError('nodoInviaRPT', res.fault);
      if (res.outcome !== 'OK' || res.url === undefined) {
        throw upstreamError('nodoInviaRPT: KO without a fault, or OK without url', {
          operation: 'nodoInviaRPT',
          outcome: res.outcome,
        });
      }
      return this.started(res.url, first.ccp);
    }
    if (input.cartId === undefined) {
      throw new AppError('invalid-input', 'a cart of several RPTs needs a cartId');
    }
    const res = await this.call(
      'nodoInviaCarrelloRPT',
      buildNodoInviaCarrelloRPTRequest({
        header: { brokerId: this.o.brokerId, stationId: this.o.stationId, cartId: input.cartId },
        password: this.o.password,
        ...WISP_ROUTE,
        items: rpts.map((r) => ({
          domainId: r.domain.domainId,
          iuv: r.iuv,
          ccp: r.ccp,
          rptXml: buildRpt(r),
        })),
        ...(input.multiBeneficiary === undefined
          ? {}
          : { multiBeneficiary: input.multiBeneficiary }),
      }),
      false,
      parseNodoInviaCarrelloRPTResponse,
    );
    if (res.fault !== undefined || res.outcome !== 'OK' || res.url === undefined) {
      const rptErrors = res.rptErrors.map((f) => ({
        faultCode: f.faultCode,
        ...(f.serial === undefined ? {} : { serial: f.serial }),
        ...(f.description === undefined ? {} : { description: f.description }),
      }));
      if (res.fault !== undefined) {
        const err = faultError('nodoInviaCarrelloRPT', res.fault);
        throw upstreamError(err.message, { ...err.details, rptErrors });
      }
      throw upstreamError(
        `nodoInviaCarrelloRPT refused: ${rptErrors.map((e) => e.faultCode).join(', ') || 'KO'}`,
        {
          operation: 'nodoInviaCarrelloRPT',
          ...(rptErrors[0] === undefined ? {} : { faultCode: rptErrors[0].faultCode }),
          rptErrors,
        },
      );
    }
    return this.started(res.url, first.ccp);
  }

  private header(r: PaymentRequest) {
    return {
      brokerId: this.o.brokerId,
      stationId: this.o.stationId,
      domainId: r.domain.domainId,
      iuv: r.iuv,
      ccp: r.ccp,
    };
  }

  private started(url: string, ccp: string): StartedPayment {
    const sessionId = sessionIdOf(url);
    return { redirectUrl: url, ccp, ...(sessionId === undefined ? {} : { sessionId }) };
  }

  /**
   * Old model 3: after paaAttivaRPT, sends the RPT (tipoVersamento PO, the PSP's CCP) on the PSP's
   * route. PPT_RPT_DUPLICATA (details.faultCode) means the node already has it.
   * @throws AppError('invalid-input') when the RPT is not PO or carries no PSP CCP.
   */
  async sendActivated(input: ActivatedRptInput): Promise<void> {
    const { rpt, psp } = input;
    if (rpt.paymentType !== 'PO') {
      throw new AppError(
        'invalid-input',
        `an activated RPT has tipoVersamento PO, not ${rpt.paymentType}`,
      );
    }
    if (rpt.ccp === 'n/a' || rpt.ccp === '') {
      throw new AppError(
        'invalid-input',
        'an activated RPT carries the CCP the PSP sent in paaAttivaRPT',
      );
    }
    const res = await this.call(
      'nodoInviaRPT',
      buildNodoInviaRPTRequest({
        header: this.header(rpt),
        password: this.o.password,
        pspId: psp.pspId,
        pspBrokerId: psp.pspBrokerId,
        channelId: psp.channelId,
        rptXml: buildRpt(rpt),
      }),
      false,
      parseNodoInviaRPTResponse,
    );
    if (res.fault !== undefined) throw faultError('nodoInviaRPT', res.fault);
    if (res.outcome !== 'OK') {
      throw upstreamError('nodoInviaRPT: KO without a fault', { operation: 'nodoInviaRPT' });
    }
  }

  /**
   * nodoChiediCopiaRT. A node without the RT (PPT_RT_NONDISPONIBILE, PPT_RT_SCONOSCIUTA,
   * PPT_RPT_SCONOSCIUTA, or no `rt`) gives `not-found`.
   * @throws AppError('invalid-input') for a key without CCP (the old model has no receipt id).
   */
  async copy(key: ReceiptKey): Promise<ReceiptCopy> {
    if (!('ccp' in key)) {
      throw new AppError('invalid-input', 'nodoChiediCopiaRT needs the IUV and the CCP');
    }
    const res = await this.call(
      'nodoChiediCopiaRT',
      buildNodoChiediCopiaRTRequest({
        ...this.station,
        domainId: key.domainId,
        iuv: key.iuv,
        ccp: key.ccp,
      }),
      true,
      parseNodoChiediCopiaRTResponse,
    );
    if (res.fault !== undefined) {
      if (RT_NOT_FOUND_FAULTS.has(res.fault.faultCode)) {
        return { kind: 'not-found', reason: res.fault.faultCode };
      }
      throw faultError('nodoChiediCopiaRT', res.fault);
    }
    if (res.rtXml === undefined) return { kind: 'not-found', reason: 'no rt in the answer' };
    return { kind: 'found', format: 'xml', raw: res.rtXml, source: 'nodoChiediCopiaRT' };
  }

  /** nodoChiediStatoRPT. */
  async status(key: { domainId: string; iuv: string; ccp: string }): Promise<RptStatus> {
    const res = await this.call(
      'nodoChiediStatoRPT',
      buildNodoChiediStatoRPTRequest({ ...this.station, ...key }),
      true,
      parseNodoChiediStatoRPTResponse,
    );
    if (res.fault !== undefined) throw faultError('nodoChiediStatoRPT', res.fault);
    if (res.status === undefined) {
      throw upstreamError('nodoChiediStatoRPT: no esito in the answer', {
        operation: 'nodoChiediStatoRPT',
      });
    }
    return res.status;
  }

  /** nodoChiediListaPendentiRPT, for this domain unless the query names another. */
  async listPending(query: PendingQuery): Promise<readonly PendingPayment[]> {
    const res = await this.call(
      'nodoChiediListaPendentiRPT',
      buildNodoChiediListaPendentiRPTRequest({
        ...this.station,
        domainId: query.domainId ?? this.o.domainId,
        ...(query.from === undefined ? {} : { from: query.from }),
        ...(query.to === undefined ? {} : { to: query.to }),
        maxResults: query.maxResults,
      }),
      true,
      parseNodoChiediListaPendentiRPTResponse,
    );
    if (res.fault !== undefined) throw faultError('nodoChiediListaPendentiRPT', res.fault);
    return res.pending?.items ?? [];
  }

  /** nodoChiediElencoFlussiRendicontazione (NodoPerPa), filtered on dataOraFlusso ≥ since. */
  async listFlows(since: Date): Promise<readonly ReportingFlowRef[]> {
    const res = await this.call(
      'nodoChiediElencoFlussiRendicontazione',
      buildNodoChiediElencoFlussiRequest({ ...this.station, domainId: this.o.domainId }),
      true,
      parseNodoChiediElencoFlussiResponse,
    );
    if (res.fault !== undefined)
      throw faultError('nodoChiediElencoFlussiRendicontazione', res.fault);
    return toFlowRefs(res.flows?.items ?? [], since);
  }

  /**
   * nodoChiediFlussoRendicontazione; PPT_SYSTEM_ERROR (flow not ready) is retried.
   * @throws AppError('upstream-error') when the answer has no document (station set up for SFTP).
   */
  async downloadFlow(ref: { readonly flowId: string; readonly pspId?: string }): Promise<string> {
    const res = await this.call(
      'nodoChiediFlussoRendicontazione',
      buildNodoChiediFlussoRequest({
        ...this.station,
        domainId: this.o.domainId,
        ...(ref.pspId === undefined ? {} : { pspId: ref.pspId }),
        flowId: ref.flowId,
      }),
      true,
      parseNodoChiediFlussoResponse,
    );
    if (res.fault !== undefined) throw faultError('nodoChiediFlussoRendicontazione', res.fault);
    if (res.flowXml === undefined) {
      throw upstreamError(
        'nodoChiediFlussoRendicontazione: no xmlRendicontazione (is the station set up for SFTP?)',
        { operation: 'nodoChiediFlussoRendicontazione', flowId: ref.flowId },
      );
    }
    return res.flowXml;
  }
}
