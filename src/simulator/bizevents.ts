/**
 * The simulator as pagoPA's biz-events: every payment the simulated PSP collected becomes a
 * biz-event, served by the two reads the adapter's new-model receipt recovery makes
 * (adapters/node-client/pagopa-recovery.ts), in the shapes of pagopa-biz-events-service:
 *
 * - `GET /bizevents/helpdesk/v1/events/organizations/{cf}/iuvs/{iuv}`
 *   (getBizEventByOrganizationFiscalCodeAndIuv): the BizEvent of the creditor's IUV;
 * - `GET /bizevents/service/v1/organizations/{cf}/receipts/{iur}` (getOrganizationReceiptIur):
 *   the receipt (`CtReceiptModelResponse`) whose paymentToken is `iur`, for any beneficiary.
 *
 * Why every collected payment and not only the delivered receipts: biz-events record what the
 * node did, whether or not paSendRT reached the EC; a receipt held back by a `never` script is
 * exactly what recovery must find here. As the gateway does, a request without
 * `Ocp-Apim-Subscription-Key` is refused with 401 (its value is not checked: a simulator holds no
 * secrets); an unknown IUV or receipt is 404 with a ProblemJson. Nulls are written for absent
 * optional members, as the service's Jackson does.
 */
import { randomUUID } from 'node:crypto';
import type { Express, NextFunction, Request, Response } from 'express';
import type { MetadataEntry, Receipt, Subject } from '../adapters/pagopa/pa-for-node';
import type { Domains } from '../shared/domains-config';

export const BIZEVENTS_SERVICE_PATH = '/bizevents/service/v1';
export const BIZEVENTS_HELPDESK_PATH = '/bizevents/helpdesk/v1';

interface Stored {
  readonly id: string;
  readonly receipt: Receipt;
}

/** What biz-events know; in memory. */
export class BizEventsStore {
  private readonly events: Stored[] = [];

  constructor(private readonly domains: Domains) {}

  /** Records the successful payments the PSP collected (the node makes one biz-event each). */
  collected(receipts: readonly Receipt[]): void {
    for (const receipt of receipts) {
      if (receipt.outcome === 'OK') this.events.push({ id: randomUUID(), receipt });
    }
  }

  /** By creditor and IUV, as biz-events query it (`creditor.idPA`, `debtorPosition.iuv`). */
  byIuv(organization: string, iuv: string): Stored[] {
    return this.events.filter(
      (e) => e.receipt.domainFiscalCode === organization && e.receipt.iuv === iuv,
    );
  }

  /** By receipt id, for any beneficiary (biz-events join `transferList.fiscalCodePA`). */
  byIur(organization: string, iur: string): Stored[] {
    return this.events.filter(
      (e) =>
        e.receipt.receiptId === iur &&
        e.receipt.transfers.some((t) => t.domainFiscalCode === organization),
    );
  }

  /** The BizEvent document (the members a node-made event has; modelType 2 = new model). */
  bizEvent(e: Stored): Record<string, unknown> {
    const r = e.receipt;
    const station = this.domains.find(r.domainFiscalCode);
    const date = r.paymentDateTime ?? new Date().toISOString().slice(0, 19);
    return {
      id: e.id,
      version: '2',
      receiptId: r.receiptId,
      debtorPosition: { modelType: '2', noticeNumber: r.noticeNumber, iuv: r.iuv, iur: null },
      creditor: {
        idPA: r.domainFiscalCode,
        idBrokerPA: station?.brokerFiscalCode ?? null,
        idStation: station?.stationId ?? null,
        companyName: r.companyName,
        officeName: r.officeName ?? null,
      },
      psp: {
        idPsp: r.psp.id,
        idChannel: r.psp.channelId,
        psp: r.psp.companyName,
        pspFiscalCode: r.psp.fiscalCode ?? null,
        pspPartitaIVA: r.psp.vatNumber ?? null,
        channelDescription: r.psp.channelDescription,
      },
      debtor: bizEventSubject(r.debtor),
      payer: r.payer === undefined ? null : bizEventSubject(r.payer),
      paymentInfo: {
        paymentDateTime: date,
        applicationDate: r.applicationDate ?? null,
        transferDate: r.transferDate ?? null,
        paymentToken: r.receiptId,
        amount: euros(r.amountCents),
        fee: r.feeCents === undefined ? null : euros(r.feeCents),
        paymentMethod: r.paymentMethod ?? null,
        remittanceInformation: r.description,
        totalNotice: '1',
        metadata: r.metadata ?? null,
      },
      transferList: r.transfers.map((t) => ({
        idTransfer: String(t.transferId),
        fiscalCodePA: t.domainFiscalCode,
        companyName: t.companyName ?? null,
        amount: euros(t.amountCents),
        transferCategory: t.transferCategory,
        remittanceInformation: t.remittanceInformation,
        IBAN: t.iban ?? null,
        MBDAttachment: t.stamp?.documentBase64 ?? null,
        metadata: t.metadata ?? null,
      })),
      eventStatus: 'DONE',
    };
  }

  /** The receipt as getOrganizationReceiptIur maps a BizEvent (CtReceiptModelResponse). */
  receiptModel(e: Stored): Record<string, unknown> {
    const r = e.receipt;
    return {
      receiptId: r.receiptId,
      noticeNumber: r.noticeNumber,
      fiscalCode: r.domainFiscalCode,
      outcome: r.outcome,
      creditorReferenceId: r.iuv,
      paymentAmount: r.amountCents / 100,
      description: r.description,
      companyName: r.companyName,
      officeName: r.officeName ?? null,
      debtor: modelSubject(r.debtor),
      transferList: r.transfers.map((t) => ({
        idTransfer: t.transferId,
        transferAmount: t.amountCents / 100,
        fiscalCodePA: t.domainFiscalCode,
        iban: t.iban ?? null,
        mbdAttachment: t.stamp?.documentBase64 ?? null,
        remittanceInformation: t.remittanceInformation,
        transferCategory: t.transferCategory,
        metadata: metadataOrNull(t.metadata),
      })),
      idPSP: r.psp.id,
      pspFiscalCode: r.psp.fiscalCode ?? null,
      pspPartitaIVA: r.psp.vatNumber ?? null,
      pspCompanyName: r.psp.companyName,
      idChannel: r.psp.channelId,
      channelDescription: r.psp.channelDescription,
      payer: r.payer === undefined ? null : modelSubject(r.payer),
      paymentMethod: r.paymentMethod ?? null,
      fee: r.feeCents === undefined ? null : r.feeCents / 100,
      primaryCiIncurredFee:
        r.primaryCreditorFeeCents === undefined ? null : r.primaryCreditorFeeCents / 100,
      idBundle: r.bundleId ?? null,
      idCiBundle: r.creditorBundleId ?? null,
      // LocalDate in the model: the date only; the date-time is paymentDateTimeFormatted.
      paymentDateTime: r.paymentDateTime?.slice(0, 10) ?? null,
      paymentDateTimeFormatted: r.paymentDateTime?.slice(0, 19) ?? null,
      applicationDate: r.applicationDate ?? null,
      transferDate: r.transferDate ?? null,
      metadata: metadataOrNull(r.metadata),
    };
  }
}

const euros = (cents: number): string => (cents / 100).toFixed(2);

const metadataOrNull = (m: readonly MetadataEntry[] | undefined) =>
  m === undefined ? null : m.map((x) => ({ key: x.key, value: x.value }));

function modelSubject(s: Subject): Record<string, unknown> {
  return {
    entityUniqueIdentifierType: s.idType,
    entityUniqueIdentifierValue: s.idValue,
    fullName: s.fullName,
    streetName: s.streetName ?? null,
    civicNumber: s.civicNumber ?? null,
    postalCode: s.postalCode ?? null,
    city: s.city ?? null,
    stateProvinceRegion: s.province ?? null,
    country: s.country ?? null,
    email: s.email ?? null,
  };
}

const bizEventSubject = modelSubject;

function problem(res: Response, status: number, code: string, detail: string): void {
  res
    .status(status)
    .json({ title: status === 404 ? 'Not Found' : 'Unprocessable Entity', status, detail, code });
}

/** The API gateway's check: a subscription key must be there. */
function requireSubscriptionKey(req: Request, res: Response, next: NextFunction): void {
  const key = req.get('ocp-apim-subscription-key');
  if (key === undefined || key === '') {
    res.status(401).json({
      statusCode: 401,
      message:
        'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
    });
    return;
  }
  next();
}

export function mountBizEvents(app: Express, store: BizEventsStore): void {
  app.get(
    `${BIZEVENTS_HELPDESK_PATH}/events/organizations/:organization/iuvs/:iuv`,
    requireSubscriptionKey,
    (req: Request<{ organization: string; iuv: string }>, res: Response) => {
      const { organization, iuv } = req.params;
      const found = store.byIuv(organization, iuv);
      if (found.length === 0) {
        problem(res, 404, 'BZ_404_004', `Not found a biz event for ${organization} and IUV ${iuv}`);
        return;
      }
      if (found.length > 1) {
        problem(res, 422, 'BZ_422_003', `More than one biz event for ${organization}, IUV ${iuv}`);
        return;
      }
      res.json(store.bizEvent(found[0]!));
    },
  );
  app.get(
    `${BIZEVENTS_SERVICE_PATH}/organizations/:organization/receipts/:iur`,
    requireSubscriptionKey,
    (req: Request<{ organization: string; iur: string }>, res: Response) => {
      const { organization, iur } = req.params;
      const found = store.byIur(organization, iur);
      if (found.length === 0) {
        problem(res, 404, 'BZ_404_002', `Not found a biz event for ${organization} and IUR ${iur}`);
        return;
      }
      if (found.length > 1) {
        problem(res, 422, 'BZ_422_002', `More than one biz event for ${organization}, IUR ${iur}`);
        return;
      }
      res.json(store.receiptModel(found[0]!));
    },
  );
}
