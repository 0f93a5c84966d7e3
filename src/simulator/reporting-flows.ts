/**
 * The simulator as the node's nodeForPa for reporting flows (flussi di rendicontazione): the
 * simulated PSP reports what it collected, one FlussoRiversamento 1.0.4 per domain and
 * publication, and the node serves the flows the way the adapter's `pagopa` client asks for them:
 * nodoChiediElencoFlussiRendicontazione / nodoChiediFlussoRendicontazione on the nodeForPa
 * endpoint path of our WSDL. Same wire code as the adapter (src/adapters/pagopa/node-for-pa.ts
 * and reporting-flow.ts), used from the other side.
 *
 * Why every collected receipt and not only the delivered ones: the PSP reports the money it moved;
 * whether the node managed to deliver the receipt to the EC is another matter (a receipt held back
 * by a `never` script is in the flow, and the EC sees a line without a receipt until it arrives).
 *
 * - `POST /sim/flows/publish { domain, date? }`: a flow of the receipts collected for the domain
 *   since its last flow (409 when there are none); `date` is the settlement date (default today);
 * - `GET /sim/flows`: the published flows (ids, dates, lines).
 */
import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import {
  buildFlowListResponse,
  buildFlowResponse,
  parseFlowListRequest,
  parseFlowRequest,
  type FlowListRequest,
} from '../adapters/pagopa/node-for-pa';
import type { Fault, Receipt } from '../adapters/pagopa/pa-for-node';
import {
  buildReportingFlow,
  type ReportedPayment,
  type ReportingFlow,
} from '../adapters/pagopa/reporting-flow';
import { romeDate } from '../domain/positions/dates';
import { AppError } from '../domain/errors';
import type { Domains } from '../shared/domains-config';
import { SIMULATED_PSP } from './node-to-adapter';

const NODE_ID = 'NodoDeiPagamentiSPC';

/** One published flow, as the node keeps it. */
export interface PublishedFlow {
  readonly domainId: string;
  readonly flowId: string;
  readonly flowDateTime: string;
  readonly settlementDate: string;
  readonly xml: string;
  readonly payments: readonly ReportedPayment[];
}

/** What the simulated PSP collected and reported; in memory. */
export class FlowPublisher {
  /** Collected, not yet reported: by receiver domain. */
  private readonly pending = new Map<string, ReportedPayment[]>();
  readonly flows: PublishedFlow[] = [];
  private serial = 0;

  /** Records the transfers of receipts the PSP collected (one line per transfer, per receiver). */
  collected(receipts: readonly Receipt[]): void {
    for (const r of receipts) {
      if (r.outcome !== 'OK') continue;
      const outcomeDate = (r.paymentDateTime ?? new Date().toISOString()).slice(0, 10);
      for (const t of r.transfers) {
        const lines = this.pending.get(t.domainFiscalCode) ?? [];
        lines.push({
          iuv: r.iuv,
          iur: r.receiptId,
          transferIndex: t.transferId,
          amountCents: t.amountCents,
          outcome: 0,
          outcomeDate,
        });
        this.pending.set(t.domainFiscalCode, lines);
      }
    }
  }

  /**
   * Publishes a flow of what was collected for the domain since its last flow.
   * @throws AppError('conflict') when there is nothing to report.
   */
  publish(
    domain: { fiscalCode: string; name: string },
    settlementDate: string,
    now = new Date(),
  ): PublishedFlow {
    const payments = this.pending.get(domain.fiscalCode) ?? [];
    if (payments.length === 0) {
      throw new AppError(
        'conflict',
        `nothing collected for ${domain.fiscalCode} since the last flow`,
      );
    }
    this.serial += 1;
    const flowId = `${settlementDate}${SIMULATED_PSP.id}-${this.serial}`;
    // Milliseconds make two publications of one second distinct revisions.
    const flowDateTime = now.toISOString().slice(0, 23);
    const flow: ReportingFlow = {
      version: '1.0',
      flowId,
      flowDateTime,
      settlementId: `SCT${settlementDate.replaceAll('-', '')}${String(this.serial).padStart(6, '0')}`,
      settlementDate,
      sender: { idKind: 'B', id: SIMULATED_PSP.id, name: SIMULATED_PSP.companyName },
      receiver: { taxCode: domain.fiscalCode, name: domain.name.slice(0, 140) },
      totalCount: payments.length,
      totalCents: payments.reduce((s, p) => s + p.amountCents, 0),
      payments,
    };
    const published: PublishedFlow = {
      domainId: domain.fiscalCode,
      flowId,
      flowDateTime,
      settlementDate,
      xml: buildReportingFlow(flow, '1.0.4'),
      payments,
    };
    this.pending.delete(domain.fiscalCode);
    this.flows.push(published);
    return published;
  }
}

export interface ReportingNodeDeps {
  /** The endpoint path of nodeForPa in our WSDL (where the adapter's client posts). */
  readonly endpointPath: string;
  readonly domains: Domains;
  readonly publisher: FlowPublisher;
}

const PublishBody = z.strictObject({
  domain: z.string().regex(/^\d{11}$/),
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
});

const fault = (faultCode: string, description: string): Fault => ({
  faultCode,
  faultString: faultCode,
  id: NODE_ID,
  description,
});

/** Mounts the nodeForPa endpoint (flow list and flow) and the publication routes. */
export function mountReportingNode(app: Express, deps: ReportingNodeDeps): void {
  const xml = (res: Response, body: string): void => {
    res.type('text/xml').send(body);
  };
  /** The station must be the domain's own (the node checks broker and station). */
  const callerFault = (r: FlowListRequest): Fault | undefined => {
    if (r.domainId === undefined) return undefined;
    const d = deps.domains.find(r.domainId);
    if (d === undefined) return fault('PPT_DOMINIO_SCONOSCIUTO', `no domain ${r.domainId}`);
    if (d.brokerFiscalCode !== r.caller.brokerId || d.stationId !== r.caller.stationId) {
      return fault('PPT_AUTORIZZAZIONE', 'the station is not the domain’s');
    }
    return undefined;
  };
  const visible = (r: FlowListRequest): PublishedFlow[] =>
    deps.publisher.flows.filter(
      (f) =>
        (r.domainId === undefined || f.domainId === r.domainId) &&
        (r.pspId === undefined || r.pspId === SIMULATED_PSP.id),
    );

  app.post(
    deps.endpointPath,
    express.text({ type: () => true, limit: '1mb' }),
    (req: Request, res: Response) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      // The body element names the operation (SOAPAction may be rewritten on the way).
      const operation = /<(?:[\w.-]+:)?(nodoChiedi(?:Elenco)?Fluss[oi]Rendicontazione)[\s>]/.exec(
        raw,
      )?.[1];
      if (operation === 'nodoChiediElencoFlussiRendicontazione') {
        let request: FlowListRequest;
        try {
          request = parseFlowListRequest(raw);
        } catch (err) {
          const f = fault('PPT_SINTASSI_XSD', (err as Error).message.slice(0, 200));
          xml(res, buildFlowListResponse({ outcome: 'KO', fault: f }));
          return;
        }
        const refused = callerFault(request);
        if (refused !== undefined) {
          xml(res, buildFlowListResponse({ outcome: 'KO', fault: refused }));
          return;
        }
        const flows = visible(request).map((f) => ({
          flowId: f.flowId,
          flowDateTime: f.flowDateTime,
        }));
        xml(res, buildFlowListResponse({ outcome: 'OK', totalReturned: flows.length, flows }));
        return;
      }
      if (operation === 'nodoChiediFlussoRendicontazione') {
        let request: ReturnType<typeof parseFlowRequest>;
        try {
          request = parseFlowRequest(raw);
        } catch (err) {
          const f = fault('PPT_SINTASSI_XSD', (err as Error).message.slice(0, 200));
          xml(res, buildFlowResponse({ outcome: 'KO', fault: f }));
          return;
        }
        const refused = callerFault(request);
        if (refused !== undefined) {
          xml(res, buildFlowResponse({ outcome: 'KO', fault: refused }));
          return;
        }
        // The latest revision of the flow id.
        const flow = visible(request)
          .filter((f) => f.flowId === request.flowId)
          .at(-1);
        xml(
          res,
          flow === undefined
            ? buildFlowResponse({
                outcome: 'KO',
                fault: fault('PPT_ID_FLUSSO_SCONOSCIUTO', `no flow ${request.flowId}`),
              })
            : buildFlowResponse({ outcome: 'OK', flowXml: flow.xml }),
        );
        return;
      }
      xml(
        res,
        buildFlowListResponse({
          outcome: 'KO',
          fault: fault(
            'PPT_SINTASSI_EXTRAXSD',
            `operation ${operation ?? 'unknown'} is not simulated`,
          ),
        }),
      );
    },
  );

  app.post('/sim/flows/publish', (req: Request, res: Response) => {
    const parsed = PublishBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      throw new AppError(
        'invalid-input',
        parsed.error.issues.map((i) => `${['body', ...i.path].join('.')}: ${i.message}`).join('; '),
      );
    }
    const domain = deps.domains.find(parsed.data.domain);
    if (domain === undefined) throw new AppError('not-found', `no domain ${parsed.data.domain}`);
    const flow = deps.publisher.publish(domain, parsed.data.date ?? romeDate(new Date()));
    res.status(201).json(flowView(flow));
  });

  app.get('/sim/flows', (_req: Request, res: Response) => {
    res.json({ items: deps.publisher.flows.map(flowView) });
  });
}

const flowView = (f: PublishedFlow) => ({
  domain: f.domainId,
  flowId: f.flowId,
  flowDateTime: f.flowDateTime,
  settlementDate: f.settlementDate,
  lines: f.payments.map((p) => ({
    iuv: p.iuv,
    iur: p.iur,
    transferIndex: p.transferIndex,
    amountCents: p.amountCents,
  })),
});
