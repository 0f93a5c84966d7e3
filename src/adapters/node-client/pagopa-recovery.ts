/**
 * Receipt recovery for the new model (`pagopa` dialect): what the node would have pushed with
 * paSendRT, read back from pagoPA's biz-events (PAGOPA.md §6).
 *
 * Two reads, because the EC knows the IUV of an attempt but not the receipt id (the node's
 * paymentToken, made when the PSP activates the payment):
 * 1. the biz-events Helpdesk API finds the payment's biz-event by creditor and IUV, and with it
 *    the paymentToken (no biz-event yet: "not yet");
 * 2. the biz-events receipt service gives the receipt by that id (`CtReceiptModelResponse`, the
 *    ctReceipt of paSendRT as JSON).
 *
 * The JSON is read into the same canonical {@link Receipt} the SOAP door reads from paSendRT(V2),
 * checked with the same semantic rules, and handed to the same intake with the same business key
 * (domain, IUV, receiptId). Its hash is the receipt's identity (receipt-identity.ts), which the
 * pushed copy has too: a later push of it is absorbed as identical, a different one is a conflict.
 */
import { z } from 'zod';
import {
  receiptIdentity,
  type Receipt,
  type ReceiptTransfer,
  type Subject,
} from '../pagopa/pa-for-node';
import { AppError } from '../../domain/errors';
import type {
  AttemptToRecover,
  ReceiptLookup,
  ReceiptSource,
} from '../../domain/recovery/receipt-source';
import { noticeReceiptProblems, wireDateTime } from '../../domain/receipts/semantics';
import type { IncomingReceipt } from '../../domain/receipts/types';
import type { DomainConfig } from '../../shared/domains-config';
import type { ReceiptCopier, ReceiptIdFinder } from './ports';

export type PagopaRecoveryOptions = {
  /** The domain's pagopa client (PagopaNodeClient), or anything answering the same two reads. */
  readonly client: ReceiptIdFinder & ReceiptCopier;
  readonly domain: DomainConfig;
  readonly now?: () => Date;
};

/** A ReceiptSource for one new-model domain. */
export function pagopaReceiptSource(options: PagopaRecoveryOptions): ReceiptSource {
  const now = options.now ?? (() => new Date());
  return {
    async findReceipt(attempt: AttemptToRecover): Promise<ReceiptLookup> {
      const id = await options.client.findReceiptId({
        domainId: attempt.domainId,
        iuv: attempt.iuv,
      });
      if (id.kind === 'not-found') {
        return { found: false, upstreamState: `no biz-event for the IUV (${id.reason})` };
      }
      // The IUR-only path: the one with /paymentoptions/{iuv} is deprecated by biz-events.
      const copy = await options.client.copy({
        domainId: attempt.domainId,
        receiptId: id.receiptId,
      });
      if (copy.kind === 'not-found') {
        return {
          found: false,
          upstreamState: `biz-event ${id.bizEventId ?? id.receiptId} has no receipt (${copy.reason})`,
        };
      }
      const receipt = bizEventsReceipt(copy.raw);
      return {
        found: true,
        rawXml: copy.raw,
        receipt: incomingFromBizEvents(receipt, copy.raw, attempt, options.domain, now()),
      };
    },
  };
}

// ------------------------------------------------------------------------------------------------
// CtReceiptModelResponse → Receipt.

/**
 * BigDecimal amounts come as JSON numbers (25, 25.5, 25.00 all read as numbers); a string is
 * accepted too. More than two decimals is not an amount in euro.
 */
const Amount = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d{1,2})?$/)]);
const text = (max: number) => z.string().min(1).max(max);
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/;
const optText = (max: number) => z.string().max(max).nullish();

const JsonSubject = z.object({
  entityUniqueIdentifierType: z.enum(['F', 'G']),
  entityUniqueIdentifierValue: z.string().min(2).max(16),
  fullName: text(70),
  streetName: optText(70),
  civicNumber: optText(16),
  postalCode: optText(16),
  city: optText(35),
  stateProvinceRegion: optText(35),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .nullish(),
  email: optText(256),
});
const JsonMetadata = z.array(z.object({ key: text(140), value: text(140) })).nullish();
const JsonTransfer = z.object({
  idTransfer: z.union([z.number().int(), z.string().regex(/^\d+$/)]),
  transferAmount: Amount,
  fiscalCodePA: z.string().regex(/^\d{11}$/),
  // The model spells them iban / mbdAttachment; older answers IBAN / MBDAttachment.
  iban: optText(35),
  IBAN: optText(35),
  mbdAttachment: z.string().nullish(),
  MBDAttachment: z.string().nullish(),
  remittanceInformation: text(140),
  transferCategory: text(140),
  metadata: JsonMetadata,
});
const JsonReceipt = z.object({
  receiptId: text(35),
  noticeNumber: z.string().regex(/^\d{18}$/),
  fiscalCode: z.string().regex(/^\d{11}$/),
  outcome: z.enum(['OK', 'KO']).nullish(),
  creditorReferenceId: text(35),
  paymentAmount: Amount,
  description: text(140),
  companyName: text(140),
  officeName: optText(140),
  debtor: JsonSubject,
  transferList: z.array(JsonTransfer).min(1).max(5),
  idPSP: text(35),
  pspFiscalCode: optText(70),
  pspPartitaIVA: optText(20),
  pspCompanyName: text(70),
  idChannel: text(35),
  channelDescription: optText(35),
  payer: JsonSubject.nullish(),
  paymentMethod: optText(35),
  fee: Amount.nullish(),
  primaryCiIncurredFee: Amount.nullish(),
  idBundle: optText(70),
  idCiBundle: optText(70),
  /** A date only (`yyyy-MM-dd`) in the current model; a date-time in earlier answers. */
  paymentDateTime: z.string().nullish(),
  /** The date-time (`yyyy-MM-ddTHH:mm:ss`, Italian time), as paSendRT gives paymentDateTime. */
  paymentDateTimeFormatted: z.string().regex(LOCAL_DATE_TIME).nullish(),
  applicationDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullish(),
  transferDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullish(),
  metadata: JsonMetadata,
});
type JsonSubjectT = z.output<typeof JsonSubject>;

function cents(value: number | string, where: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  const c = Math.round(n * 100);
  if (!Number.isSafeInteger(c) || Math.abs(n * 100 - c) > 1e-6) {
    throw unusable(`${where} ${String(value)} is not an amount in cents`);
  }
  return c;
}

/** Copies the members that are present (not null, not undefined) under their canonical names. */
function present<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: NonNullable<T[K]> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v !== null && v !== undefined) out[k] = v;
  }
  return out as { [K in keyof T]?: NonNullable<T[K]> };
}

function subject(s: JsonSubjectT): Subject {
  return {
    idType: s.entityUniqueIdentifierType,
    idValue: s.entityUniqueIdentifierValue,
    fullName: s.fullName,
    ...present({
      streetName: s.streetName,
      civicNumber: s.civicNumber,
      postalCode: s.postalCode,
      city: s.city,
      province: s.stateProvinceRegion,
      country: s.country,
      email: s.email,
    }),
  };
}

function transfer(t: z.output<typeof JsonTransfer>, i: number): ReceiptTransfer {
  const transferId = Number(t.idTransfer);
  if (transferId < 1 || transferId > 5)
    throw unusable(`transferList[${i}].idTransfer ${transferId}`);
  const iban = t.iban ?? t.IBAN;
  const stamp = t.mbdAttachment ?? t.MBDAttachment;
  const target =
    iban !== null && iban !== undefined && iban !== ''
      ? { iban }
      : stamp !== null && stamp !== undefined && stamp !== ''
        ? { stamp: { documentBase64: stamp } }
        : undefined;
  if (target === undefined) throw unusable(`transferList[${i}] has neither iban nor mbdAttachment`);
  const metadata = t.metadata ?? undefined;
  return {
    transferId,
    amountCents: cents(t.transferAmount, `transferList[${i}].transferAmount`),
    domainFiscalCode: t.fiscalCodePA,
    ...target,
    remittanceInformation: t.remittanceInformation,
    transferCategory: t.transferCategory,
    ...(metadata === undefined ? {} : { metadata }),
  };
}

/**
 * Reads a biz-events receipt (`CtReceiptModelResponse`) into the canonical receipt of paSendRT,
 * field for field, in the same key order; absent and null members are left out.
 * @throws AppError('upstream-error') when it is not JSON or not a receipt.
 */
export function bizEventsReceipt(raw: string): Receipt {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new AppError('upstream-error', 'the biz-events receipt is not JSON', {}, { cause: err });
  }
  const parsed = JsonReceipt.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw unusable(detail);
  }
  const r = parsed.data;
  const transfers = r.transferList.map(transfer);
  if (new Set(transfers.map((t) => t.transferId)).size !== transfers.length) {
    throw unusable('idTransfer values must be distinct');
  }
  const fee = r.fee ?? undefined;
  const primaryFee = r.primaryCiIncurredFee ?? undefined;
  const metadata = r.metadata ?? undefined;
  return {
    receiptId: r.receiptId,
    noticeNumber: r.noticeNumber,
    domainFiscalCode: r.fiscalCode,
    // CtReceiptModelResponse defaults it to OK: biz-events keeps successful payments.
    outcome: r.outcome ?? 'OK',
    iuv: r.creditorReferenceId,
    amountCents: cents(r.paymentAmount, 'paymentAmount'),
    description: r.description,
    companyName: r.companyName,
    ...present({ officeName: r.officeName }),
    debtor: subject(r.debtor),
    transfers,
    psp: {
      id: r.idPSP,
      ...present({ fiscalCode: r.pspFiscalCode, vatNumber: r.pspPartitaIVA }),
      companyName: r.pspCompanyName,
      channelId: r.idChannel,
      channelDescription: r.channelDescription ?? '',
    },
    ...(r.payer === null || r.payer === undefined ? {} : { payer: subject(r.payer) }),
    ...present({ paymentMethod: r.paymentMethod }),
    ...(fee === undefined ? {} : { feeCents: cents(fee, 'fee') }),
    ...(primaryFee === undefined
      ? {}
      : { primaryCreditorFeeCents: cents(primaryFee, 'primaryCiIncurredFee') }),
    ...present({
      bundleId: r.idBundle,
      creditorBundleId: r.idCiBundle,
      paymentDateTime:
        r.paymentDateTimeFormatted ??
        (LOCAL_DATE_TIME.test(r.paymentDateTime ?? '') ? r.paymentDateTime : undefined),
      applicationDate: r.applicationDate,
      transferDate: r.transferDate,
    }),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

function unusable(detail: string): AppError {
  return new AppError('upstream-error', `the biz-events receipt is unusable: ${detail}`);
}

/** The receipt as the paSendRT door would accept it, with RECOVERY as its source. */
function incomingFromBizEvents(
  receipt: Receipt,
  raw: string,
  attempt: AttemptToRecover,
  domain: DomainConfig,
  now: Date,
): IncomingReceipt {
  const paidAt =
    receipt.paymentDateTime === undefined ? undefined : wireDateTime(receipt.paymentDateTime);
  const problems = noticeReceiptProblems(
    {
      calledDomainId: attempt.domainId,
      noticeDomainId: receipt.domainFiscalCode,
      noticeNumber: receipt.noticeNumber,
      iuv: receipt.iuv,
      amountCents: receipt.amountCents,
      transfers: receipt.transfers.map((t) => ({
        domainId: t.domainFiscalCode,
        amountCents: t.amountCents,
      })),
      ...(paidAt === undefined ? {} : { paidAt }),
    },
    now,
  );
  if (receipt.iuv !== attempt.iuv) {
    problems.push(`creditorReferenceId ${receipt.iuv} is not the attempt's IUV ${attempt.iuv}`);
  }
  if (problems.length > 0) {
    throw new AppError('upstream-error', `the biz-events receipt: ${problems.join('; ')}`);
  }
  const paid = receipt.outcome === 'OK';
  return {
    key: { domainId: attempt.domainId, iuv: receipt.iuv, receiptKey: receipt.receiptId },
    source: 'RECOVERY',
    noticeNumber: receipt.noticeNumber,
    brokerId: domain.brokerFiscalCode,
    stationId: domain.stationId,
    outcome: paid ? 'PAID' : 'NOT_PAID',
    amountCents: paid ? receipt.amountCents : 0,
    ...(paidAt === undefined ? {} : { paidAt }),
    // The document as biz-events gave it (JSON here; the column keeps raw documents of any kind).
    rawXml: raw,
    parsed: receipt,
    hashed: receiptIdentity(receipt),
  };
}
