/**
 * nodeForPa (new connectivity): the EC asks the Node for its reporting flows (flussi di
 * rendicontazione): the list of available flows, then each flow's FlussoRiversamento document.
 *
 * These live in pagoPA's wsdl/nodeForPa.wsdl (namespace http://ws.pagamenti.telematici.gov/, the
 * old model's namespace, with unqualified children). The same-named NodoPerPa (old connection)
 * elements are handled elsewhere. We build requests and parse responses; the simulator does the
 * opposite with the same functions. Responses have no outcome element: a faultBean means KO.
 * The FlussoRiversamento document itself is parsed by the reporting-flow module.
 */
import { AppError } from '../../domain/errors';
import {
  type XmlObject,
  attr,
  base64XmlDecode,
  base64XmlEncode,
  el,
  elAttrs,
  invalidElement,
  leaf,
  listObjects,
  optChild,
  optText,
  soapEnvelope,
  text,
} from './xml';
import {
  type Fault,
  bodyOf,
  boundedText,
  dateTime,
  faultXml,
  optBoundedText,
  optTextLeaf,
  readFault,
  textLeaf,
} from './pa-for-node/common';

export const NODE_FOR_PA_NS = 'http://ws.pagamenti.telematici.gov/';
const NFPA = 'nfpa';

/** The station credentials every nodeForPa request carries. */
export interface NodeForPaCaller {
  /** identificativoIntermediarioPA */
  readonly brokerId: string;
  /** identificativoStazioneIntermediarioPA */
  readonly stationId: string;
  /** Station password (8..15 chars); still mandatory next to the subscription key. A secret. */
  readonly password: string;
}

export interface FlowListRequest {
  readonly caller: NodeForPaCaller;
  /** identificativoDominio: only flows for this EC. */
  readonly domainId?: string;
  /** identificativoPSP: only flows from this PSP. */
  readonly pspId?: string;
}

export interface FlowRequest extends FlowListRequest {
  /** identificativoFlusso */
  readonly flowId: string;
}

/** One entry of the flow list: a flow id and the date-time of its latest version. */
export interface FlowRef {
  /** identificativoFlusso */
  readonly flowId: string;
  /** dataOraFlusso, as sent; a later one for the same flowId supersedes the earlier. */
  readonly flowDateTime: string;
}

export type FlowListResponse =
  | { readonly outcome: 'OK'; readonly totalReturned: number; readonly flows: readonly FlowRef[] }
  | { readonly outcome: 'KO'; readonly fault: Fault };

export type FlowResponse =
  /** flowXml is absent when the EC receives flows by SFTP. */
  | { readonly outcome: 'OK'; readonly flowXml?: string }
  | { readonly outcome: 'KO'; readonly fault: Fault };

const LIST_REQ = 'nodoChiediElencoFlussiRendicontazione';
const LIST_RES = 'nodoChiediElencoFlussiRendicontazioneRisposta';
const FLOW_REQ = 'nodoChiediFlussoRendicontazione';
const FLOW_RES = 'nodoChiediFlussoRendicontazioneRisposta';

function wrapper(name: string, ...children: string[]): string {
  return elAttrs(`${NFPA}:${name}`, { [`xmlns:${NFPA}`]: NODE_FOR_PA_NS }, ...children);
}

function callerXml(r: FlowListRequest): string {
  const p = r.caller.password;
  if (p.length < 8 || p.length > 15) {
    throw new AppError('invalid-input', 'password: 8..15 characters expected');
  }
  return (
    textLeaf('identificativoIntermediarioPA', r.caller.brokerId, 35) +
    textLeaf('identificativoStazioneIntermediarioPA', r.caller.stationId, 35) +
    leaf('password', p) +
    optTextLeaf('identificativoDominio', r.domainId, 35) +
    optTextLeaf('identificativoPSP', r.pspId, 35)
  );
}

function readCaller(body: XmlObject): FlowListRequest {
  const password = text(body, 'password');
  if (password.length < 8 || password.length > 15) {
    throw invalidElement(body, 'password', '8..15 characters expected');
  }
  const domainId = optBoundedText(body, 'identificativoDominio', 35);
  const pspId = optBoundedText(body, 'identificativoPSP', 35);
  return {
    caller: {
      brokerId: boundedText(body, 'identificativoIntermediarioPA', 35),
      stationId: boundedText(body, 'identificativoStazioneIntermediarioPA', 35),
      password,
    },
    ...(domainId === undefined ? {} : { domainId }),
    ...(pspId === undefined ? {} : { pspId }),
  };
}

// ------------------------------------------------------------------------------------------------
// nodoChiediElencoFlussiRendicontazione

export const flowListRequestBody = (r: FlowListRequest): string => wrapper(LIST_REQ, callerXml(r));

/**
 * The SOAP envelope asking for the flow list (soapAction `nodoChiediElencoFlussiRendicontazione`).
 * @throws AppError('invalid-input') for a password outside 8..15 chars or over-long ids.
 */
export const buildFlowListRequest = (r: FlowListRequest): string =>
  soapEnvelope(flowListRequestBody(r));

/** Simulator side. */
export function parseFlowListRequest(xml: string): FlowListRequest {
  return readCaller(bodyOf(xml, LIST_REQ).payload);
}

export function flowListResponseBody(r: FlowListResponse): string {
  if (r.outcome === 'KO') return wrapper(LIST_RES, faultXml(r.fault));
  if (!Number.isInteger(r.totalReturned) || r.totalReturned < 0 || r.totalReturned > 2147483647) {
    throw new AppError('invalid-input', 'totRestituiti: non-negative int expected');
  }
  return wrapper(
    LIST_RES,
    el(
      'elencoFlussiRendicontazione',
      leaf('totRestituiti', r.totalReturned),
      r.flows.map((f) =>
        el(
          'idRendicontazione',
          textLeaf('identificativoFlusso', f.flowId, 70),
          dateTimeLeaf(f.flowDateTime),
        ),
      ),
    ),
  );
}

export const buildFlowListResponse = (r: FlowListResponse): string =>
  soapEnvelope(flowListResponseBody(r));

/**
 * Parses the Node's answer with the flow list. Nil entries (`xsi:nil="true"`, allowed by the XSD)
 * are skipped; an answer with neither fault nor list is an empty list.
 * @throws AppError('xml-schema-invalid') for a bad totRestituiti or dataOraFlusso.
 */
export function parseFlowListResponse(xml: string): FlowListResponse {
  const res = bodyOf(xml, LIST_RES).payload;
  const fault = readFault(res);
  if (fault !== undefined) return { outcome: 'KO', fault };
  const list = optChild(res, 'elencoFlussiRendicontazione');
  if (list === undefined) return { outcome: 'OK', totalReturned: 0, flows: [] };
  const total = text(list, 'totRestituiti');
  if (!/^\+?\d{1,10}$/.test(total)) {
    throw invalidElement(list, 'totRestituiti', `integer expected, found '${total}'`);
  }
  const flows = listObjects(list, 'idRendicontazione')
    .filter((e) => attr(e, 'nil') !== 'true' && attr(e, 'nil') !== '1')
    .map((e) => ({
      flowId: boundedText(e, 'identificativoFlusso', 70),
      flowDateTime: dateTime(e, 'dataOraFlusso'),
    }));
  return { outcome: 'OK', totalReturned: Number(total), flows };
}

// ------------------------------------------------------------------------------------------------
// nodoChiediFlussoRendicontazione

export function flowRequestBody(r: FlowRequest): string {
  return wrapper(FLOW_REQ, callerXml(r), textLeaf('identificativoFlusso', r.flowId, 70));
}

/** The SOAP envelope asking for one flow (soapAction `nodoChiediFlussoRendicontazione`). */
export const buildFlowRequest = (r: FlowRequest): string => soapEnvelope(flowRequestBody(r));

/** Simulator side. */
export function parseFlowRequest(xml: string): FlowRequest {
  const body = bodyOf(xml, FLOW_REQ).payload;
  return { ...readCaller(body), flowId: boundedText(body, 'identificativoFlusso', 70) };
}

export function flowResponseBody(r: FlowResponse): string {
  if (r.outcome === 'KO') return wrapper(FLOW_RES, faultXml(r.fault));
  return wrapper(
    FLOW_RES,
    r.flowXml === undefined ? '' : leaf('xmlRendicontazione', base64XmlEncode(r.flowXml)),
  );
}

export const buildFlowResponse = (r: FlowResponse): string => soapEnvelope(flowResponseBody(r));

/**
 * Parses the Node's answer with one flow; the FlussoRiversamento document comes back decoded.
 * @throws AppError('xml-schema-invalid') for invalid base64 or non-UTF-8 content.
 */
export function parseFlowResponse(xml: string): FlowResponse {
  const res = bodyOf(xml, FLOW_RES).payload;
  const fault = readFault(res);
  if (fault !== undefined) return { outcome: 'KO', fault };
  const b64 = optText(res, 'xmlRendicontazione');
  return b64 === undefined || b64 === ''
    ? { outcome: 'OK' }
    : { outcome: 'OK', flowXml: base64XmlDecode(b64) };
}

function dateTimeLeaf(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/.test(value)) {
    throw new AppError('invalid-input', `dataOraFlusso: date-time expected, found '${value}'`);
  }
  return leaf('dataOraFlusso', value);
}
