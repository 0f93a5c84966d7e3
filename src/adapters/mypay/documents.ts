/**
 * The documents MyPay exchanges as base64 inside its SIL SOAP calls (PagInf_Dovuti_Pagati 6.2.0,
 * namespace `http://www.regione.veneto.it/schemas/2012/Pagamenti/Ente/`, qualified):
 * - `Dovuti`: what the citizen is about to pay (paaSILInviaDovuti), 1..5 items;
 * - `Versamento`: one debt position to insert, modify or cancel (paaSILImportaDovuto);
 * - `Pagati`: the outcome MyPay reports (paaSILChiediPagati), an RT-like document.
 *
 * Domain names are English; MyPay's names appear only in the wire mapping. Amounts are integer
 * cents (strict decimal codec); builders refuse what the XSD would refuse, so what we send validates.
 * The person and creditor blocks have the RPT's shape, so the RPT module's codecs are reused.
 */
import { AppError } from '../../domain/errors';
import {
  centsToDecimal,
  creditorChildrenXml,
  debtorXml,
  decimalToCents,
  idAt,
  isoDateAt,
  isoDateTimeAt,
  opt,
  optIdAt,
  parseCreditor,
  parseDebtor,
  type Cents,
  type Organisation,
  type Person,
} from '../pagopa/rpt-rt';
import {
  buildXml,
  child,
  el,
  elAttrs,
  invalidElement,
  leaf,
  listObjects,
  optChild,
  optLeaf,
  optText,
  parseXml,
  rootElement,
  text,
  type XmlObject,
} from '../pagopa/xml';

export const MYPAY_DOC_NS = 'http://www.regione.veneto.it/schemas/2012/Pagamenti/Ente/';
export const MYPAY_DOC_VERSION = '6.2.0';

/** The payer block (soggettoPagatore); `province` is 2 letters here. */
export type MyPayPayer = Person;

export interface MyPayStamp {
  /** base64 SHA-256 of the document (≤ 70). */
  readonly documentHash: string;
  /** Two upper-case letters. */
  readonly province: string;
}

export interface MyPayDueItem {
  /** identificativoUnivocoDovuto (IUD): our id of the item, ≤ 35. */
  readonly dueId: string;
  readonly amountCents: Cents;
  readonly creditorFeeCents?: Cents;
  /** identificativoTipoDovuto: the tenant's type code from onboarding (≤ 64). */
  readonly dueTypeCode: string;
  /** causaleVersamento, ≤ 1024. */
  readonly remittanceInformation: string;
  /** datiSpecificiRiscossione, `9/<taxonomy>/...`. */
  readonly collectionData: string;
  readonly stamp?: MyPayStamp;
}

export interface MyPayDues {
  readonly payer: MyPayPayer;
  /** tipoVersamento: `ALL`, or PSP types joined by `|`; default `ALL`. */
  readonly paymentTypes?: string;
  /** Deprecated by MyPay for immediate payments; MyPay generates it. */
  readonly iuv?: string;
  /** 1..5. */
  readonly items: readonly MyPayDueItem[];
}

/** azione of a Versamento: insert, modify, cancel, cancel with code 9, print the notice only. */
export type MyPayAction = 'I' | 'M' | 'A' | '9' | 'S';

export interface MyPayDueImport {
  readonly action: MyPayAction;
  readonly payer?: MyPayPayer;
  /** dataEsecuzionePagamento (due date), YYYY-MM-DD. */
  readonly dueDate?: string;
  readonly paymentTypes?: string;
  readonly iuv?: string;
  readonly dueId?: string;
  readonly amountCents: Cents;
  readonly creditorFeeCents?: Cents;
  readonly dueTypeCode: string;
  readonly remittanceInformation: string;
  readonly collectionData: string;
  /** flagGeneraIuv of the request: ask MyPay to assign the IUV. */
  readonly generateIuv?: boolean;
}

/** codiceEsitoPagamento: 0 paid, 1 not paid, 2 partly paid, 3 time limit elapsed, 4 partly elapsed. */
export type MyPayPaymentOutcome = 0 | 1 | 2 | 3 | 4;

export interface MyPayPaidLine {
  readonly dueId: string;
  readonly paidCents: Cents;
  readonly outcomeText?: string;
  readonly outcomeDate: string;
  /** identificativoUnivocoRiscossione. */
  readonly iur: string;
  readonly remittanceInformation: string;
  readonly collectionData: string;
}

export interface MyPayPaid {
  readonly domainId: string;
  readonly stationId?: string;
  readonly receiptMessageId: string;
  readonly receiptDateTime: string;
  readonly requestMessageRef: string;
  readonly requestDateRef: string;
  readonly attestingPsp: {
    readonly idKind: 'G' | 'A' | 'B';
    readonly id: string;
    readonly name: string;
  };
  readonly creditor: Organisation;
  readonly payer: MyPayPayer;
  readonly outcome: MyPayPaymentOutcome;
  readonly totalPaidCents: Cents;
  readonly iuv: string;
  readonly ccp: string;
  readonly lines: readonly MyPayPaidLine[];
}

/** What paaSILChiediPagati tells about a session. */
export type MyPayPaidReport =
  | {
      readonly state: 'paid' | 'not-paid' | 'partially-paid' | 'time-limit' | 'partial-time-limit';
      readonly paid: MyPayPaid;
      /** The Pagati document as received (decoded). */
      readonly raw: string;
    }
  | {
      /** PAA_PAGAMENTO_NON_INIZIATO / _IN_CORSO: ask again later; _ANNULLATO / _SCADUTO: final. */
      readonly state: 'not-started' | 'in-progress' | 'cancelled' | 'expired';
      readonly faultCode: string;
    };

export const PAID_STATES = [
  'paid',
  'not-paid',
  'partially-paid',
  'time-limit',
  'partial-time-limit',
] as const;

// ------------------------------------------------------------------------------------------------
// Checks shared by the builders.

const COLLECTION_DATA = /^[0129]\/\S{3,138}$/;
const PROVINCE = /^[A-Z]{2}$/;

function invalid(what: string, why: string): AppError {
  return new AppError('invalid-input', `${what}: ${why}`, { field: what });
}

function checkText(what: string, v: string | undefined, max: number): void {
  if (v !== undefined && (v.length < 1 || v.length > max)) {
    throw invalid(what, `must be 1..${max} characters`);
  }
}

function checkPayer(p: MyPayPayer): void {
  checkText('payer.taxCode', p.taxCode, 35);
  checkText('payer.name', p.name, 70);
  if (p.province !== undefined && !PROVINCE.test(p.province)) {
    throw invalid('payer.province', 'must be 2 upper-case letters');
  }
}

function checkCommon(
  what: string,
  i: Pick<MyPayDueItem, 'dueTypeCode' | 'remittanceInformation' | 'collectionData'>,
): void {
  checkText(`${what}.dueTypeCode`, i.dueTypeCode, 64);
  checkText(`${what}.remittanceInformation`, i.remittanceInformation, 1024);
  if (!COLLECTION_DATA.test(i.collectionData)) {
    throw invalid(`${what}.collectionData`, 'must look like 9/<taxonomy code>/');
  }
}

function positiveAmount(what: string, cents: Cents): string {
  if (!Number.isSafeInteger(cents) || cents < 1) throw invalid(what, 'must be at least 1 cent');
  return centsToDecimal(cents);
}

function optAmount(name: string, cents: Cents | undefined): string {
  return cents === undefined ? '' : leaf(name, centsToDecimal(cents));
}

// ------------------------------------------------------------------------------------------------
// Dovuti.

/**
 * Builds a Dovuti document.
 * @throws AppError('invalid-input') for 0 or more than 5 items, or a value the XSD refuses.
 */
export function buildDovuti(d: MyPayDues): string {
  if (d.items.length < 1 || d.items.length > 5) {
    throw invalid('items', `1..5 items, not ${d.items.length}`);
  }
  checkPayer(d.payer);
  checkText('paymentTypes', d.paymentTypes, 32);
  checkText('iuv', d.iuv, 35);
  return buildXml(
    elAttrs(
      'Dovuti',
      { xmlns: MYPAY_DOC_NS },
      leaf('versioneOggetto', MYPAY_DOC_VERSION),
      debtorXml(d.payer),
      el(
        'datiVersamento',
        leaf('tipoVersamento', d.paymentTypes ?? 'ALL'),
        optLeaf('identificativoUnivocoVersamento', d.iuv),
        d.items.map((item, n) => {
          const what = `items[${n}]`;
          checkText(`${what}.dueId`, item.dueId, 35);
          checkCommon(what, item);
          if (item.stamp !== undefined) {
            checkText(`${what}.stamp.documentHash`, item.stamp.documentHash, 70);
            if (!PROVINCE.test(item.stamp.province)) {
              throw invalid(`${what}.stamp.province`, 'must be 2 upper-case letters');
            }
          }
          return el(
            'datiSingoloVersamento',
            leaf('identificativoUnivocoDovuto', item.dueId),
            leaf(
              'importoSingoloVersamento',
              positiveAmount(`${what}.amountCents`, item.amountCents),
            ),
            optAmount('commissioneCaricoPA', item.creditorFeeCents),
            leaf('identificativoTipoDovuto', item.dueTypeCode),
            leaf('causaleVersamento', item.remittanceInformation),
            leaf('datiSpecificiRiscossione', item.collectionData),
            item.stamp &&
              el(
                'datiMarcaBolloDigitale',
                leaf('tipoBollo', '01'),
                leaf('hashDocumento', item.stamp.documentHash),
                leaf('provinciaResidenza', item.stamp.province),
              ),
          );
        }),
      ),
    ),
  );
}

function parseItem(o: XmlObject): MyPayDueItem {
  const stamp = optChild(o, 'datiMarcaBolloDigitale');
  return {
    dueId: idAt(o, 'identificativoUnivocoDovuto'),
    amountCents: decimalToCents(text(o, 'importoSingoloVersamento'), 'importoSingoloVersamento'),
    ...opt(
      'creditorFeeCents',
      o['commissioneCaricoPA'] === undefined
        ? undefined
        : decimalToCents(text(o, 'commissioneCaricoPA'), 'commissioneCaricoPA'),
    ),
    dueTypeCode: idAt(o, 'identificativoTipoDovuto', 64),
    remittanceInformation: idAt(o, 'causaleVersamento', 1024),
    collectionData: idAt(o, 'datiSpecificiRiscossione', 140),
    ...opt(
      'stamp',
      stamp === undefined
        ? undefined
        : {
            documentHash: idAt(stamp, 'hashDocumento', 70),
            province: idAt(stamp, 'provinciaResidenza', 2),
          },
    ),
  };
}

/** Parses a Dovuti document (the simulator's side). @throws AppError('xml-*') when broken. */
export function parseDovuti(xml: string): MyPayDues {
  const { element: r } = rootElement(parseXml(xml), 'Dovuti');
  const dv = child(r, 'datiVersamento');
  const items = listObjects(dv, 'datiSingoloVersamento').map(parseItem);
  if (items.length < 1 || items.length > 5) {
    throw invalidElement(dv, 'datiSingoloVersamento', '1..5 expected');
  }
  return {
    payer: parseDebtor(child(r, 'soggettoPagatore')),
    paymentTypes: idAt(dv, 'tipoVersamento', 32),
    ...opt('iuv', optIdAt(dv, 'identificativoUnivocoVersamento')),
    items,
  };
}

// ------------------------------------------------------------------------------------------------
// Versamento.

const ACTIONS: readonly MyPayAction[] = ['I', 'M', 'A', '9', 'S'];

/**
 * Builds a Versamento document (paaSILImportaDovuto).
 * @throws AppError('invalid-input') for an unknown action or a value the XSD refuses.
 */
export function buildVersamento(v: MyPayDueImport): string {
  if (!ACTIONS.includes(v.action)) throw invalid('action', `must be one of ${ACTIONS.join(', ')}`);
  if (v.payer !== undefined) checkPayer(v.payer);
  if (v.dueDate !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v.dueDate)) {
    throw invalid('dueDate', 'must be YYYY-MM-DD');
  }
  checkText('paymentTypes', v.paymentTypes, 32);
  checkText('iuv', v.iuv, 35);
  checkText('dueId', v.dueId, 35);
  checkCommon('due', v);
  return buildXml(
    elAttrs(
      'Versamento',
      { xmlns: MYPAY_DOC_NS },
      leaf('versioneOggetto', MYPAY_DOC_VERSION),
      v.payer && debtorXml(v.payer),
      el(
        'datiVersamento',
        optLeaf('dataEsecuzionePagamento', v.dueDate),
        optLeaf('tipoVersamento', v.paymentTypes),
        optLeaf('identificativoUnivocoVersamento', v.iuv),
        optLeaf('identificativoUnivocoDovuto', v.dueId),
        leaf('importoSingoloVersamento', positiveAmount('amountCents', v.amountCents)),
        optAmount('commissioneCaricoPA', v.creditorFeeCents),
        leaf('identificativoTipoDovuto', v.dueTypeCode),
        leaf('causaleVersamento', v.remittanceInformation),
        leaf('datiSpecificiRiscossione', v.collectionData),
      ),
      leaf('azione', v.action),
    ),
  );
}

/** Parses a Versamento document (the simulator's side). @throws AppError('xml-*') when broken. */
export function parseVersamento(xml: string): Omit<MyPayDueImport, 'generateIuv'> {
  const { element: r } = rootElement(parseXml(xml), 'Versamento');
  const dv = child(r, 'datiVersamento');
  const payer = optChild(r, 'soggettoPagatore');
  const action = text(r, 'azione');
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw invalidElement(r, 'azione', `"${action}" is not one of ${ACTIONS.join(', ')}`);
  }
  return {
    action: action as MyPayAction,
    ...opt('payer', payer === undefined ? undefined : parseDebtor(payer)),
    ...opt(
      'dueDate',
      dv['dataEsecuzionePagamento'] === undefined
        ? undefined
        : isoDateAt(dv, 'dataEsecuzionePagamento'),
    ),
    ...opt('paymentTypes', optIdAt(dv, 'tipoVersamento', 32)),
    ...opt('iuv', optIdAt(dv, 'identificativoUnivocoVersamento')),
    ...opt('dueId', optIdAt(dv, 'identificativoUnivocoDovuto')),
    amountCents: decimalToCents(text(dv, 'importoSingoloVersamento'), 'importoSingoloVersamento'),
    ...opt(
      'creditorFeeCents',
      dv['commissioneCaricoPA'] === undefined
        ? undefined
        : decimalToCents(text(dv, 'commissioneCaricoPA'), 'commissioneCaricoPA'),
    ),
    dueTypeCode: idAt(dv, 'identificativoTipoDovuto', 64),
    remittanceInformation: idAt(dv, 'causaleVersamento', 1024),
    collectionData: idAt(dv, 'datiSpecificiRiscossione', 140),
  };
}

// ------------------------------------------------------------------------------------------------
// Pagati.

const OUTCOMES: readonly MyPayPaymentOutcome[] = [0, 1, 2, 3, 4];

/**
 * Builds a Pagati document (the simulator and tests play MyPay with it).
 * @throws AppError('invalid-input') for more than 5 lines or an unknown outcome.
 */
export function buildPagati(p: MyPayPaid): string {
  if (!OUTCOMES.includes(p.outcome)) throw invalid('outcome', 'must be 0..4');
  if (p.lines.length > 5) throw invalid('lines', 'at most 5');
  return buildXml(
    elAttrs(
      'Pagati',
      { xmlns: MYPAY_DOC_NS },
      leaf('versioneOggetto', MYPAY_DOC_VERSION),
      el(
        'dominio',
        leaf('identificativoDominio', p.domainId),
        optLeaf('identificativoStazioneRichiedente', p.stationId),
      ),
      leaf('identificativoMessaggioRicevuta', p.receiptMessageId),
      leaf('dataOraMessaggioRicevuta', p.receiptDateTime),
      leaf('riferimentoMessaggioRichiesta', p.requestMessageRef),
      leaf('riferimentoDataRichiesta', p.requestDateRef),
      el(
        'istitutoAttestante',
        el(
          'identificativoUnivocoAttestante',
          leaf('tipoIdentificativoUnivoco', p.attestingPsp.idKind),
          leaf('codiceIdentificativoUnivoco', p.attestingPsp.id),
        ),
        leaf('denominazioneAttestante', p.attestingPsp.name),
      ),
      el('enteBeneficiario', creditorChildrenXml(p.creditor)),
      debtorXml(p.payer),
      el(
        'datiPagamento',
        leaf('codiceEsitoPagamento', p.outcome),
        leaf('importoTotalePagato', centsToDecimal(p.totalPaidCents)),
        leaf('identificativoUnivocoVersamento', p.iuv),
        leaf('codiceContestoPagamento', p.ccp),
        p.lines.map((l) =>
          el(
            'datiSingoloPagamento',
            leaf('identificativoUnivocoDovuto', l.dueId),
            leaf('singoloImportoPagato', centsToDecimal(l.paidCents)),
            optLeaf('esitoSingoloPagamento', l.outcomeText),
            leaf('dataEsitoSingoloPagamento', l.outcomeDate),
            leaf('identificativoUnivocoRiscossione', l.iur),
            leaf('causaleVersamento', l.remittanceInformation),
            leaf('datiSpecificiRiscossione', l.collectionData),
          ),
        ),
      ),
    ),
  );
}

/**
 * Parses a Pagati document.
 * @throws AppError('xml-malformed' | 'xml-forbidden-construct' | 'xml-schema-invalid') when broken.
 * @throws AppError('amount-invalid') for amounts not in `\d+\.\d{2}` form.
 */
export function parsePagati(xml: string): MyPayPaid {
  const { element: r } = rootElement(parseXml(xml), 'Pagati');
  const dom = child(r, 'dominio');
  const psp = child(r, 'istitutoAttestante');
  const pspId = child(psp, 'identificativoUnivocoAttestante');
  const idKind = text(pspId, 'tipoIdentificativoUnivoco');
  if (idKind !== 'G' && idKind !== 'A' && idKind !== 'B') {
    throw invalidElement(pspId, 'tipoIdentificativoUnivoco', 'must be G, A or B');
  }
  const dp = child(r, 'datiPagamento');
  const outcome = Number(text(dp, 'codiceEsitoPagamento'));
  if (
    !(OUTCOMES as readonly number[]).includes(outcome) ||
    !/^\d$/.test(text(dp, 'codiceEsitoPagamento'))
  ) {
    throw invalidElement(dp, 'codiceEsitoPagamento', 'must be 0..4');
  }
  const lines = listObjects(dp, 'datiSingoloPagamento').map((l) => ({
    dueId: idAt(l, 'identificativoUnivocoDovuto'),
    paidCents: decimalToCents(text(l, 'singoloImportoPagato'), 'singoloImportoPagato'),
    ...opt('outcomeText', optText(l, 'esitoSingoloPagamento')),
    outcomeDate: isoDateAt(l, 'dataEsitoSingoloPagamento'),
    iur: idAt(l, 'identificativoUnivocoRiscossione'),
    remittanceInformation: idAt(l, 'causaleVersamento', 140),
    collectionData: idAt(l, 'datiSpecificiRiscossione', 140),
  }));
  if (lines.length > 5) throw invalidElement(dp, 'datiSingoloPagamento', 'at most 5');
  return {
    domainId: idAt(dom, 'identificativoDominio'),
    ...opt('stationId', optIdAt(dom, 'identificativoStazioneRichiedente')),
    receiptMessageId: idAt(r, 'identificativoMessaggioRicevuta'),
    receiptDateTime: isoDateTimeAt(r, 'dataOraMessaggioRicevuta'),
    requestMessageRef: idAt(r, 'riferimentoMessaggioRichiesta'),
    requestDateRef: isoDateAt(r, 'riferimentoDataRichiesta'),
    attestingPsp: {
      idKind,
      id: idAt(pspId, 'codiceIdentificativoUnivoco'),
      name: idAt(psp, 'denominazioneAttestante', 70),
    },
    creditor: parseCreditor(child(r, 'enteBeneficiario')),
    payer: parseDebtor(child(r, 'soggettoPagatore')),
    outcome: outcome as MyPayPaymentOutcome,
    totalPaidCents: decimalToCents(text(dp, 'importoTotalePagato'), 'importoTotalePagato'),
    iuv: idAt(dp, 'identificativoUnivocoVersamento'),
    ccp: idAt(dp, 'codiceContestoPagamento'),
    lines,
  };
}
