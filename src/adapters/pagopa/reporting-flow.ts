/**
 * FlussoRiversamento (reporting flow, "flusso di rendicontazione"), versions 1.0.4 and 1.0.5.
 *
 * Why one parser for both versions: the document layout is the same and its own versioneOggetto
 * says 1.0 or 1.1 whatever the schema file version, so the flow cannot tell which XSD it was
 * written for. We accept the union of outcome codes (0, 3, 4, 8, 9); the builder checks the
 * codes against the schema version the caller targets.
 */
import { AppError } from '../../domain/errors';
import {
  buildXml,
  child,
  el,
  elAttrs,
  invalidElement,
  leaf,
  listObjects,
  optLeaf,
  optText,
  parseXml,
  rootElement,
  text,
  type XmlObject,
} from './xml';
import {
  centsToDecimal,
  decimalToCents,
  idAt,
  isoDateAt,
  isoDateTimeAt,
  opt,
  optIdAt,
  PAGAMENTI_NS,
  type Cents,
} from './rpt-rt';

/**
 * codiceEsitoSingoloPagamento: 0 paid, 3 revoked (1.0.4 only), 4 paid in stand-in, 8 stand-in
 * without RPT (1.0.5), 9 paid without RPT / with an expired token.
 */
export const REPORTED_OUTCOMES = [0, 3, 4, 8, 9] as const;
export type ReportedOutcome = (typeof REPORTED_OUTCOMES)[number];

export type FlowSchemaVersion = '1.0.4' | '1.0.5';
const OUTCOMES_BY_SCHEMA: Record<FlowSchemaVersion, readonly ReportedOutcome[]> = {
  '1.0.4': [0, 3, 9],
  '1.0.5': [0, 4, 8, 9],
};

export interface ReportedPayment {
  /** identificativoUnivocoVersamento: the IUV (creditorReferenceId). */
  readonly iuv: string;
  /** identificativoUnivocoRiscossione: the RT's IUR, or the receipt's paymentToken (new model). */
  readonly iur: string;
  /** indiceDatiSingoloPagamento: RT line index or the receipt's idTransfer (1..5). */
  readonly transferIndex?: number;
  readonly amountCents: Cents;
  readonly outcome: ReportedOutcome;
  readonly outcomeDate: string;
}

export interface ReportingFlow {
  /** versioneOggetto of the document: 1.0 or 1.1. */
  readonly version: '1.0' | '1.1';
  readonly flowId: string;
  readonly flowDateTime: string;
  /** identificativoUnivocoRegolamento: the SCT's TRN (else its EndToEndId). */
  readonly settlementId: string;
  readonly settlementDate: string;
  readonly sender: {
    readonly idKind: 'G' | 'A' | 'B';
    readonly id: string;
    readonly name?: string;
  };
  readonly senderBankBic?: string;
  readonly receiver: { readonly taxCode: string; readonly name?: string };
  readonly totalCount: number;
  readonly totalCents: Cents;
  readonly payments: readonly ReportedPayment[];
}

const FLOW_ID = /^[a-zA-Z0-9\-_]{1,35}$/;

function oneOf<T extends string>(o: XmlObject, name: string, allowed: readonly T[]): T {
  const v = text(o, name);
  if (!(allowed as readonly string[]).includes(v))
    throw invalidElement(o, name, `"${v}" is not one of ${allowed.join(', ')}`);
  return v as T;
}

function parsePayment(o: XmlObject): ReportedPayment {
  const idx = optText(o, 'indiceDatiSingoloPagamento');
  if (idx !== undefined && !/^[1-5]$/.test(idx))
    throw invalidElement(o, 'indiceDatiSingoloPagamento', 'must be 1..5');
  const amountCents = decimalToCents(text(o, 'singoloImportoPagato'), 'singoloImportoPagato');
  if (amountCents === 0)
    throw new AppError('amount-invalid', 'singoloImportoPagato must be at least 0.01');
  return {
    iuv: idAt(o, 'identificativoUnivocoVersamento'),
    iur: idAt(o, 'identificativoUnivocoRiscossione'),
    ...opt('transferIndex', idx === undefined ? undefined : Number(idx)),
    amountCents,
    outcome: Number(
      oneOf(o, 'codiceEsitoSingoloPagamento', ['0', '3', '4', '8', '9'] as const),
    ) as ReportedOutcome,
    outcomeDate: isoDateAt(o, 'dataEsitoSingoloPagamento'),
  };
}

/** Rules the XSD cannot express: the count and the total must match the lines. */
export function flowProblems(f: ReportingFlow): string[] {
  const problems: string[] = [];
  if (f.payments.length === 0) problems.push('at least one datiSingoliPagamenti');
  if (f.totalCount !== f.payments.length) {
    problems.push(`numeroTotalePagamenti ${f.totalCount} != ${f.payments.length} lines`);
  }
  const sum = f.payments.reduce((s, p) => s + p.amountCents, 0);
  if (sum !== f.totalCents) {
    problems.push(
      `importoTotalePagamenti ${centsToDecimal(f.totalCents)} != sum of lines ${centsToDecimal(sum)}`,
    );
  }
  return problems;
}

/**
 * Parses a FlussoRiversamento document (decoded from xmlRendicontazione).
 * @throws AppError('xml-malformed' | 'xml-forbidden-construct' | 'xml-schema-invalid' | 'amount-invalid')
 * @throws AppError('xml-semantic-invalid') when count or total disagree with the lines.
 */
export function parseReportingFlow(xml: string): ReportingFlow {
  const { element: f } = rootElement(parseXml(xml), 'FlussoRiversamento');
  const flowId = text(f, 'identificativoFlusso');
  if (!FLOW_ID.test(flowId))
    throw invalidElement(f, 'identificativoFlusso', 'must match [a-zA-Z0-9-_]{1,35}');
  const sender = child(f, 'istitutoMittente');
  const senderId = child(sender, 'identificativoUnivocoMittente');
  const receiver = child(f, 'istitutoRicevente');
  const receiverId = child(receiver, 'identificativoUnivocoRicevente');
  oneOf(receiverId, 'tipoIdentificativoUnivoco', ['G'] as const);
  const count = text(f, 'numeroTotalePagamenti');
  if (!/^\d{1,15}$/.test(count) || Number(count) < 1) {
    throw invalidElement(f, 'numeroTotalePagamenti', 'must be a positive integer');
  }
  const senderName = optText(sender, 'denominazioneMittente');
  const receiverName = optText(receiver, 'denominazioneRicevente');
  const flow: ReportingFlow = {
    version: oneOf(f, 'versioneOggetto', ['1.0', '1.1'] as const),
    flowId,
    flowDateTime: isoDateTimeAt(f, 'dataOraFlusso'),
    settlementId: idAt(f, 'identificativoUnivocoRegolamento'),
    settlementDate: isoDateAt(f, 'dataRegolamento'),
    sender: {
      idKind: oneOf(senderId, 'tipoIdentificativoUnivoco', ['G', 'A', 'B'] as const),
      id: idAt(senderId, 'codiceIdentificativoUnivoco'),
      ...opt('name', senderName),
    },
    ...opt('senderBankBic', optIdAt(f, 'codiceBicBancaDiRiversamento')),
    receiver: {
      taxCode: idAt(receiverId, 'codiceIdentificativoUnivoco'),
      ...opt('name', receiverName),
    },
    totalCount: Number(count),
    totalCents: decimalToCents(text(f, 'importoTotalePagamenti'), 'importoTotalePagamenti'),
    payments: listObjects(f, 'datiSingoliPagamenti').map(parsePayment),
  };
  const problems = flowProblems(flow);
  if (problems.length > 0) {
    throw new AppError(
      'xml-semantic-invalid',
      `reporting flow inconsistent: ${problems.join('; ')}`,
      { problems },
    );
  }
  return flow;
}

/**
 * Builds a FlussoRiversamento document for the given schema version (used by the simulator and tests).
 * @throws AppError('invalid-input') for an outcome code the schema version does not have.
 * @throws AppError('xml-semantic-invalid') when count or total disagree with the lines.
 */
export function buildReportingFlow(f: ReportingFlow, schema: FlowSchemaVersion = '1.0.4'): string {
  const allowed = OUTCOMES_BY_SCHEMA[schema];
  const bad = f.payments.find((p) => !allowed.includes(p.outcome));
  if (bad !== undefined) {
    throw new AppError(
      'invalid-input',
      `outcome ${bad.outcome} does not exist in FlussoRiversamento ${schema}`,
    );
  }
  const problems = flowProblems(f);
  if (problems.length > 0) {
    throw new AppError(
      'xml-semantic-invalid',
      `reporting flow inconsistent: ${problems.join('; ')}`,
      { problems },
    );
  }
  return buildXml(
    elAttrs(
      'FlussoRiversamento',
      { xmlns: PAGAMENTI_NS },
      leaf('versioneOggetto', f.version),
      leaf('identificativoFlusso', f.flowId),
      leaf('dataOraFlusso', f.flowDateTime),
      leaf('identificativoUnivocoRegolamento', f.settlementId),
      leaf('dataRegolamento', f.settlementDate),
      el(
        'istitutoMittente',
        el(
          'identificativoUnivocoMittente',
          leaf('tipoIdentificativoUnivoco', f.sender.idKind),
          leaf('codiceIdentificativoUnivoco', f.sender.id),
        ),
        optLeaf('denominazioneMittente', f.sender.name),
      ),
      optLeaf('codiceBicBancaDiRiversamento', f.senderBankBic),
      el(
        'istitutoRicevente',
        el(
          'identificativoUnivocoRicevente',
          leaf('tipoIdentificativoUnivoco', 'G'),
          leaf('codiceIdentificativoUnivoco', f.receiver.taxCode),
        ),
        optLeaf('denominazioneRicevente', f.receiver.name),
      ),
      leaf('numeroTotalePagamenti', f.totalCount),
      leaf('importoTotalePagamenti', centsToDecimal(f.totalCents)),
      f.payments.map((p) =>
        el(
          'datiSingoliPagamenti',
          leaf('identificativoUnivocoVersamento', p.iuv),
          leaf('identificativoUnivocoRiscossione', p.iur),
          optLeaf('indiceDatiSingoloPagamento', p.transferIndex),
          leaf('singoloImportoPagato', centsToDecimal(p.amountCents)),
          leaf('codiceEsitoSingoloPagamento', p.outcome),
          leaf('dataEsitoSingoloPagamento', p.outcomeDate),
        ),
      ),
    ),
  );
}
