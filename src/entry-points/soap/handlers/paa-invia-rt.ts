import { buildPaaInviaRTResponse } from '../../../adapters/pagopa/old-model-soap';
import {
  creditedCents,
  idAt,
  parseRt,
  rtProblems,
  type PaymentReceipt,
} from '../../../adapters/pagopa/rpt-rt';
import {
  base64XmlDecode,
  child,
  optChild,
  optText,
  text,
  type XmlObject,
} from '../../../adapters/pagopa/xml';
import { AppError, isAppError } from '../../../domain/errors';
import { acceptReceipt, type AcceptReceiptDeps } from '../../../domain/receipts/accept-receipt';
import {
  assertNoProblems,
  rtEnvelopeProblems,
  rtOutcome,
  wireDateTime,
} from '../../../domain/receipts/semantics';
import { checkCaller } from '../caller';
import { deliveryFault } from './misdirected';
import type { SoapDeps } from '../index';
import type { SoapOperation } from '../operations';

type PptHeader = {
  brokerId: string;
  stationId: string;
  domainId: string;
  iuv: string;
  ccp: string;
};

/**
 * paaInviaRT (RT model): the node pushes an RT, base64 in the body, with the intestazionePPT
 * header naming the broker, station, domain, IUV and CCP.
 *
 * Envelope or header broken → PAA_SINTASSI_EXTRAXSD; the RT not base64 XML or breaking its XSD →
 * PAA_SINTASSI_XSD; RT rules (amounts that do not add up, outcome without lines...) or a header
 * that names another RT → PAA_SEMANTICA; a modified resend → PAA_RT_DUPLICATA. Outcomes 1 and 3
 * are stored with 0 cents and close the attempt without money; 2 and 4 credit only the lines paid.
 */
export function paaInviaRtOperations(deps: SoapDeps, intake: AcceptReceiptDeps): SoapOperation[] {
  return [
    {
      name: 'paaInviaRT',
      service: 'PaPerNodo',
      handle: async (payload, ctx) => {
        const header = readHeader(ctx.header);
        const signatureType = optText(payload, 'tipoFirma') ?? '';
        const rtBase64 = text(payload, 'rt');
        const misdirected = deliveryFault(() =>
          checkCaller(
            deps.domains,
            { idPA: header.domainId, idBrokerPA: header.brokerId, idStation: header.stationId },
            ctx.remoteAddress,
          ),
        );
        let rt: PaymentReceipt;
        let receiptAt: Date;
        try {
          if (signatureType !== '' && signatureType !== '0') {
            // Only "0 = firma non richiesta" is still in use (PAGOPA.md §1).
            throw new AppError(
              'xml-semantic-invalid',
              `tipoFirma ${signatureType} is not supported`,
            );
          }
          rt = decodeRt(rtBase64);
          receiptAt = wireDateTime(rt.receiptDateTime);
          assertNoProblems([
            ...rtProblems(rt),
            ...rtEnvelopeProblems(
              { header, domainId: rt.domain.domainId, iuv: rt.iuv, ccp: rt.ccp, receiptAt },
              new Date(),
            ),
          ]);
        } catch (err) {
          // A delivery fault comes first: it is the one the node can act on. An invalid RT is not
          // stored, misdirected or not.
          throw misdirected ?? err;
        }
        await acceptReceipt(
          intake,
          {
            key: { domainId: header.domainId, iuv: rt.iuv, receiptKey: rt.ccp },
            source: 'PAA_INVIA_RT',
            brokerId: header.brokerId,
            stationId: header.stationId,
            outcome: rtOutcome(rt.outcome),
            amountCents: creditedCents(rt),
            paidAt: receiptAt,
            rawXml: ctx.rawXml,
            parsed: rt,
            attemptCcp: rt.ccp,
            ...(misdirected === undefined ? {} : { misdirected: misdirected.message }),
          },
          ctx.log,
        );
        if (misdirected !== undefined) throw misdirected;
        return buildPaaInviaRTResponse({ outcome: 'OK' });
      },
      ko: (fault) => buildPaaInviaRTResponse({ outcome: 'KO', fault }),
      domainOf: (_payload, header) => {
        const h = header === undefined ? undefined : optChild(header, 'intestazionePPT');
        return h === undefined ? undefined : optText(h, 'identificativoDominio');
      },
    },
  ];
}

/**
 * The intestazionePPT header.
 * @throws AppError('xml-schema-invalid') when it is missing or incomplete (PAA_SINTASSI_EXTRAXSD).
 */
function readHeader(header: XmlObject | undefined): PptHeader {
  if (header === undefined) {
    throw new AppError('xml-schema-invalid', '/Envelope/Header: intestazionePPT required');
  }
  const h = child(header, 'intestazionePPT');
  return {
    brokerId: idAt(h, 'identificativoIntermediarioPA'),
    stationId: idAt(h, 'identificativoStazioneIntermediarioPA'),
    domainId: idAt(h, 'identificativoDominio'),
    iuv: idAt(h, 'identificativoUnivocoVersamento'),
    ccp: idAt(h, 'codiceContestoPagamento'),
  };
}

/**
 * Decodes and parses the embedded RT, without the consistency rules (checked by the caller, so
 * they answer PAA_SEMANTICA, not a syntax fault).
 * @throws AppError('xml-embedded-invalid') for anything that is not base64 of a schema-valid RT.
 */
function decodeRt(rtBase64: string): PaymentReceipt {
  try {
    return parseRt(base64XmlDecode(rtBase64), { checkConsistency: false });
  } catch (err) {
    if (!isAppError(err)) throw err;
    throw new AppError('xml-embedded-invalid', `rt: ${err.message}`, {}, { cause: err });
  }
}
