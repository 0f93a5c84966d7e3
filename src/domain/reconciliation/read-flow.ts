import { parseReportingFlow, type ReportingFlow } from '../../adapters/pagopa/reporting-flow';
import { centsToDecimal, decimalToCents } from '../../adapters/pagopa/rpt-rt';
import { listObjects, parseXml, rootElement, text } from '../../adapters/pagopa/xml';
import { isAppError } from '../errors';

/** A flow as read for storage: its declared totals, and why it is not trusted if it is not. */
export interface ReadFlow {
  readonly flow: ReportingFlow;
  readonly status: 'OK' | 'ANOMALOUS';
  /** What does not add up (empty when OK). */
  readonly anomalies: readonly string[];
  readonly computedCount: number;
  readonly computedCents: number;
}

const COUNT = /(<(?:[\w.-]+:)?numeroTotalePagamenti>)[^<]*(<)/;
const TOTAL = /(<(?:[\w.-]+:)?importoTotalePagamenti>)[^<]*(<)/;

/**
 * Reads a FlussoRiversamento with the codec. A flow whose declared count or total disagree with
 * its lines is kept, as ANOMALOUS, rather than refused: the PSP's money arrived anyway and an
 * operator must see it (PAGOPA.md §11). Its lines are read by parsing the document again with
 * the totals set to what the lines add up to, so every other rule of the codec still applies;
 * the declared totals are put back in the result.
 * @throws AppError('xml-malformed' | 'xml-schema-invalid' | 'amount-invalid' | ...) as the codec
 * does for anything but the totals.
 */
export function readFlow(xml: string): ReadFlow {
  try {
    const flow = parseReportingFlow(xml);
    return {
      flow,
      status: 'OK',
      anomalies: [],
      computedCount: flow.payments.length,
      computedCents: flow.totalCents,
    };
  } catch (err) {
    if (!isAppError(err) || err.code !== 'xml-semantic-invalid') throw err;
    const { element } = rootElement(parseXml(xml), 'FlussoRiversamento');
    const lines = listObjects(element, 'datiSingoliPagamenti');
    const computedCents = lines.reduce(
      (s, l) => s + decimalToCents(text(l, 'singoloImportoPagato'), 'singoloImportoPagato'),
      0,
    );
    const declaredCount = Number(text(element, 'numeroTotalePagamenti'));
    const declaredCents = decimalToCents(
      text(element, 'importoTotalePagamenti'),
      'importoTotalePagamenti',
    );
    const patched = xml
      .replace(COUNT, `$1${lines.length}$2`)
      .replace(TOTAL, `$1${centsToDecimal(computedCents)}$2`);
    const flow = parseReportingFlow(patched);
    const problems = err.details['problems'];
    return {
      flow: { ...flow, totalCount: declaredCount, totalCents: declaredCents },
      status: 'ANOMALOUS',
      anomalies: Array.isArray(problems) ? problems.map(String) : [err.message],
      computedCount: lines.length,
      computedCents,
    };
  }
}
