/**
 * New-model (paForNode) messages: typed builders and parsers for paVerifyPaymentNotice,
 * paGetPayment(V2), paSendRT(V2) and paDemandPaymentNotice, requests and responses.
 *
 * Our SOAP server parses requests ({@link parsePaForNodeRequest}) and builds responses; the
 * simulator builds requests and parses responses with the same functions.
 */
import { AppError } from '../../../domain/errors';
import { parseSoapEnvelope } from '../xml';
import { type PaDemandPaymentNoticeRequest, readPaDemandPaymentNoticeRequest } from './pa-demand';
import { type PaGetPaymentRequest, readPaGetPaymentRequest } from './pa-get-payment';
import { type PaSendRtRequest, readPaSendRtRequest } from './pa-send-rt';
import { type PaVerifyPaymentNoticeRequest, readPaVerifyPaymentNoticeRequest } from './pa-verify';

export {
  type Fault,
  type KoResponse,
  type MetadataEntry,
  type NoticeRef,
  type StationRef,
  type Subject,
  AMOUNT_CENTS_MAX,
  PA_FOR_NODE_NS,
  formatCents,
} from './common';
export * from './pa-verify';
export * from './pa-get-payment';
export * from './pa-send-rt';
export * from './pa-demand';
export * from './receipt-identity';

/** The operations of paForNode.wsdl; each is also its soapAction. */
export const PA_FOR_NODE_OPERATIONS = [
  'paVerifyPaymentNotice',
  'paGetPayment',
  'paGetPaymentV2',
  'paSendRT',
  'paSendRTV2',
  'paDemandPaymentNotice',
] as const;
export type PaForNodeOperation = (typeof PA_FOR_NODE_OPERATIONS)[number];

export type PaForNodeRequest =
  | { readonly operation: 'paVerifyPaymentNotice'; readonly request: PaVerifyPaymentNoticeRequest }
  | { readonly operation: 'paGetPayment' | 'paGetPaymentV2'; readonly request: PaGetPaymentRequest }
  | { readonly operation: 'paSendRT' | 'paSendRTV2'; readonly request: PaSendRtRequest }
  | { readonly operation: 'paDemandPaymentNotice'; readonly request: PaDemandPaymentNoticeRequest };

/**
 * Parses any request the Node sends to paForNode, dispatching on the body element (not on the
 * SOAPAction header, which some intermediaries rewrite).
 * @throws AppError('xml-forbidden-construct') for DOCTYPE / ENTITY declarations.
 * @throws AppError('xml-malformed') for a broken document or a non-SOAP root.
 * @throws AppError('xml-schema-invalid') naming the element that breaks the XSD rules.
 * @throws AppError('unknown-operation') for a body element that is not a paForNode request.
 */
export function parsePaForNodeRequest(xml: string): PaForNodeRequest {
  const { operation: element, payload } = parseSoapEnvelope(xml);
  switch (element) {
    case 'paVerifyPaymentNoticeReq':
      return {
        operation: 'paVerifyPaymentNotice',
        request: readPaVerifyPaymentNoticeRequest(payload),
      };
    case 'paGetPaymentReq':
      return { operation: 'paGetPayment', request: readPaGetPaymentRequest(1, payload) };
    case 'paGetPaymentV2Request':
      return { operation: 'paGetPaymentV2', request: readPaGetPaymentRequest(2, payload) };
    case 'paSendRTReq':
      return { operation: 'paSendRT', request: readPaSendRtRequest(1, payload) };
    case 'paSendRTV2Request':
      return { operation: 'paSendRTV2', request: readPaSendRtRequest(2, payload) };
    case 'paDemandPaymentNoticeRequest':
      return {
        operation: 'paDemandPaymentNotice',
        request: readPaDemandPaymentNoticeRequest(payload),
      };
    default:
      throw new AppError('unknown-operation', `not a paForNode request: ${element}`, {
        operation: element,
      });
  }
}
