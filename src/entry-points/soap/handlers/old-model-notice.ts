import type { CreditorPaymentData, PptHeader } from '../../../adapters/pagopa/old-model-soap';
import { optChild, optText, type XmlObject } from '../../../adapters/pagopa/xml';
import { AppError, isAppError } from '../../../domain/errors';
import type { DomainConfig } from '../../../shared/domains-config';
import { checkCaller } from '../caller';
import type { SoapDeps } from '../index';
import { loadPayableNotice, type LoadedNotice } from './notice-common';

/**
 * What paaVerificaRPT and paaAttivaRPT share (old model 3: the PSP starts from a notice): the
 * caller check on the intestazionePPT header, the notice its IUV names, and datiPagamentoPA.
 */

/**
 * Parses the request envelope with the old-model codec. Its amount reader reports a malformed
 * amount (`42,00`) as 'amount-invalid', which the mapper would answer PAA_SEMANTICA; in an
 * envelope it breaks the stImporto pattern, so here it is a syntax fault.
 * @throws AppError('xml-*') for anything that breaks the envelope's schema (PAA_SINTASSI_EXTRAXSD).
 */
export function parseEnvelope<T>(parse: (xml: string) => T, rawXml: string): T {
  try {
    return parse(rawXml);
  } catch (err) {
    if (!isAppError(err) || err.code !== 'amount-invalid') throw err;
    throw new AppError('xml-schema-invalid', err.message, err.details, { cause: err });
  }
}

/** The domain named in intestazionePPT, for the fault id. */
export function headerDomainOf(header: XmlObject | undefined): string | undefined {
  const h = header === undefined ? undefined : optChild(header, 'intestazionePPT');
  return h === undefined ? undefined : optText(h, 'identificativoDominio');
}

/**
 * The payable notice the header's IUV names, after checking who is calling.
 * @throws AppError('domain-unknown' | 'broker-unknown' | 'station-unknown' | 'forbidden')
 * @throws AppError('not-found' | 'position-paid' | 'position-cancelled' | 'position-expired')
 * @throws AppError('xml-semantic-invalid') for a notice with a marca da bollo (new model only).
 */
export async function loadRptNotice(
  deps: SoapDeps,
  header: PptHeader,
  remoteAddress: string | undefined,
): Promise<{ domain: DomainConfig; loaded: LoadedNotice }> {
  const domain = checkCaller(
    deps.domains,
    { idPA: header.domainId, idBrokerPA: header.brokerId, idStation: header.stationId },
    remoteAddress,
  );
  const loaded = await loadPayableNotice(deps, domain, { iuv: header.iuv }, { postal: false });
  if (loaded.notice.hasStamp) {
    throw new AppError(
      'xml-semantic-invalid',
      `IUV ${header.iuv} includes a marca da bollo: it can be paid with the new model only (paGetPaymentV2)`,
    );
  }
  return { domain, loaded };
}

/**
 * datiPagamentoPA: the amount in force today and the account of the first transfer (the RPT
 * model names one creditor account; the RPT itself carries the split), the causale of that
 * transfer, and the domain as beneficiary.
 */
export function creditorPaymentData(
  domain: DomainConfig,
  { notice }: LoadedNotice,
): CreditorPaymentData {
  const first = notice.transfers.find((t) => t.iban !== undefined);
  if (first?.iban === undefined) {
    throw new AppError('internal', `IUV ${notice.option.iuv} has no transfer to an account`);
  }
  return {
    amountCents: notice.amountCents,
    creditIban: first.iban,
    creditor: {
      taxCode: domain.fiscalCode,
      name: domain.name.slice(0, 70),
      ...(domain.office === undefined || domain.office === ''
        ? {}
        : { unitName: domain.office.slice(0, 70) }),
    },
    remittance: { kind: 'text', text: first.remittanceInformation },
  };
}
