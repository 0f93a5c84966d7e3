import { randomBytes } from 'node:crypto';
import { AppError } from '../../domain/errors';
import { romeDate } from '../../domain/positions/dates';
import { payableNotice } from '../../domain/positions/payable-notice';
import type { RptNodeClient } from '../node-client';
import { buildRpt, RPT_RT_VERSION, type PaymentRequest, type RptLine } from '../pagopa/rpt-rt';
import type {
  OnlinePaymentInput,
  OnlinePaymentLine,
  OnlinePaymentStarter,
  SentDocument,
  StartedOnlinePayment,
} from './ports';

/**
 * `rpt` dialect (regional nodes, WISP): one RPT per line, each with a CCP of its own, sent with
 * nodoInviaRPT (one line) or nodoInviaCarrelloRPT (2..5) on WISP's universal route
 * (tipoVersamento BBT: the citizen picks the PSP on WISP's page).
 *
 * Why a fresh CCP per RPT and per start: the node keys an RPT by (domain, IUV, CCP) and refuses
 * the same key twice (PPT_RPT_DUPLICATA), so a second attempt at the same notice (the first was
 * abandoned, or its answer lost) needs a new one; the CCP is also what the RT comes back with
 * and what nodoChiediCopiaRT asks about when the RT is lost.
 */
export class RptOnlinePaymentStarter implements OnlinePaymentStarter {
  readonly channel = 'RPT' as const;

  constructor(
    private readonly client: RptNodeClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(input: OnlinePaymentInput): Promise<StartedOnlinePayment> {
    const at = this.now();
    const rpts = input.lines.map((line) => ({ line, rpt: rptOf(input, line, at) }));
    const documents: SentDocument[] = rpts.map(({ line, rpt }) => ({
      paymentId: line.paymentId,
      kind: 'RPT',
      iuv: rpt.iuv,
      ccp: rpt.ccp,
      xml: buildRpt(rpt),
    }));
    const started = await this.client.start({
      rpts: rpts.map((r) => r.rpt),
      // identificativoCarrello is at most 35 characters: the UUID without its dashes.
      ...(rpts.length > 1 ? { cartId: input.cartId.replace(/-/g, '') } : {}),
    });
    return {
      channel: this.channel,
      redirectUrl: started.redirectUrl,
      ...(started.sessionId === undefined ? {} : { sessionId: started.sessionId }),
      ccpByPaymentId: Object.fromEntries(rpts.map(({ line, rpt }) => [line.paymentId, rpt.ccp])),
      documents,
    };
  }
}

/** A new codiceContestoPagamento: 32 hex characters (the XSD allows 35). */
export function newCcp(): string {
  return randomBytes(16).toString('hex');
}

/**
 * What kind of RPT: the universal one (BBT, a fresh CCP: the citizen picks the PSP on WISP), or
 * the one owed after a PSP's paaAttivaRPT (old model 3: PO, with the CCP the PSP made).
 */
export type RptKind = { paymentType: 'BBT' } | { paymentType: 'PO'; ccp: string };

/**
 * The RPT of one line: the option's transfers in force today as its lines, the position's
 * debtor, the domain as creditor; universal (BBT) unless `kind` says PO.
 * @throws AppError('invalid-input') when a transfer credits another entity (an RPT has one
 * creditor) or the amount in force moved since the line was priced (for PO: since the activation).
 */
export function rptOf(
  input: Pick<OnlinePaymentInput, 'domain'>,
  line: OnlinePaymentLine,
  at: Date,
  kind: RptKind = { paymentType: 'BBT' },
): PaymentRequest {
  const { domain } = input;
  const today = romeDate(at);
  const payable = payableNotice(line.position, { iuv: line.option.iuv }, today, { postal: false });
  if (payable.amountCents !== line.amountCents) {
    throw new AppError(
      'invalid-input',
      `notice ${line.option.noticeNumber}: ${line.amountCents} cents asked, ${payable.amountCents} in force`,
    );
  }
  const lines: RptLine[] = payable.transfers.map((t) => {
    if (t.beneficiaryFiscalCode !== domain.fiscalCode) {
      throw new AppError(
        'invalid-input',
        `notice ${line.option.noticeNumber}: a transfer to ${t.beneficiaryFiscalCode} cannot go in an RPT of ${domain.fiscalCode}`,
      );
    }
    const common = {
      amountCents: t.amountCents,
      remittanceInformation: t.remittanceInformation.slice(0, 140),
      collectionData: `9/${t.taxonomyCode}/`,
    };
    return t.stamp === undefined
      ? { ...common, creditIban: t.iban }
      : {
          ...common,
          stamp: {
            stampType: '01',
            documentHash: t.stamp.documentHash,
            province: t.stamp.province,
          },
        };
  });
  const debtor = line.position.debtor;
  return {
    version: RPT_RT_VERSION,
    domain: { domainId: domain.fiscalCode, requestingStationId: domain.stationId },
    requestMessageId: randomBytes(16).toString('hex'),
    requestDateTime: at.toISOString().slice(0, 19),
    authentication: 'N/A',
    debtor: {
      kind: debtor.type,
      taxCode: debtor.fiscalCode,
      name: debtor.fullName.slice(0, 70),
      ...(debtor.email === null ? {} : { email: debtor.email }),
    },
    creditor: {
      taxCode: domain.fiscalCode,
      name: domain.name.slice(0, 70),
      ...(domain.office === undefined ? {} : { unitName: domain.office.slice(0, 70) }),
    },
    executionDate: today,
    totalCents: payable.amountCents,
    paymentType: kind.paymentType,
    iuv: line.option.iuv,
    ccp: kind.paymentType === 'PO' ? kind.ccp : newCcp(),
    lines,
  };
}
