/**
 * Where each outbound SOAP operation goes and which SOAPAction it carries, read from our WSDLs.
 *
 * Why from the WSDL and not constants: the WSDLs in `wsdl/` are the contract we are tested against
 * (their schemas validate every body we build), so taking the endpoint path and the SOAPAction
 * from the same files keeps the three in step. The files are parsed once, at start; the messages
 * themselves are built by our own codecs (old-model-soap, node-for-pa, mypay), not by a generic
 * SOAP client, because those codecs are faster and already conformance-tested.
 */
import fs from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';

/** One operation of one of our WSDLs. */
export interface WsdlOperation {
  /** The WSDL file, relative to the wsdl folder (e.g. `NodoPerPa.wsdl`). */
  readonly wsdlFile: string;
  readonly operation: string;
  /** The binding's soapAction (sent quoted in the SOAPAction header). */
  readonly soapAction: string;
  /** The path of the service's soap:address (e.g. `/nodo-auth/nodo-per-pa/v1`). */
  readonly endpointPath: string;
}

/** The WSDLs we call through, by upstream. */
export const OUTBOUND_WSDLS = {
  nodoPerPa: 'NodoPerPa.wsdl',
  nodeForPa: 'nodeForPa.wsdl',
  mypay: 'mypay/pa-per-ente.wsdl',
} as const;
export type OutboundWsdl = keyof typeof OUTBOUND_WSDLS;

export class WsdlCatalogError extends Error {
  override readonly name = 'WsdlCatalogError';
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  isArray: (name) => ['operation', 'binding', 'service', 'port'].includes(name),
});

type Node = Record<string, unknown>;
const asNodes = (v: unknown): Node[] =>
  Array.isArray(v) ? (v as Node[]) : v === undefined ? [] : [v as Node];
const attrOf = (n: Node, name: string): string | undefined => {
  const v = n[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
};

/**
 * Reads the SOAP 1.1 bindings and the service address of one WSDL.
 * @throws WsdlCatalogError when the file has no binding operations or no soap:address.
 */
export function readWsdlOperations(wsdlDir: string, wsdlFile: string): WsdlOperation[] {
  const file = path.join(wsdlDir, wsdlFile);
  const doc = parser.parse(fs.readFileSync(file, 'utf8')) as Node;
  const defs = doc['definitions'] as Node | undefined;
  if (defs === undefined) throw new WsdlCatalogError(`${file}: not a WSDL 1.1 document`);
  const port = asNodes(defs['service']).flatMap((s) => asNodes(s['port']))[0];
  const location = port === undefined ? undefined : attrOf(port['address'] as Node, 'location');
  if (location === undefined) throw new WsdlCatalogError(`${file}: no soap:address location`);
  const endpointPath = new URL(location, 'http://relative.invalid').pathname;
  const ops = asNodes(defs['binding']).flatMap((b) =>
    asNodes(b['operation']).map((op) => {
      const name = attrOf(op, 'name');
      const soapOp = asNodes(op['operation'])[0];
      const soapAction = soapOp === undefined ? undefined : attrOf(soapOp, 'soapAction');
      if (name === undefined || soapAction === undefined) {
        throw new WsdlCatalogError(`${file}: binding operation without name or soapAction`);
      }
      return { wsdlFile, operation: name, soapAction, endpointPath };
    }),
  );
  if (ops.length === 0) throw new WsdlCatalogError(`${file}: no binding operations`);
  return ops;
}

/** The outbound operations of our WSDLs, looked up by upstream and operation name. */
export class WsdlCatalog {
  private constructor(private readonly byKey: ReadonlyMap<string, WsdlOperation>) {}

  /**
   * Parses every outbound WSDL once.
   * @throws WsdlCatalogError when a file is missing or malformed.
   */
  static load(wsdlDir: string): WsdlCatalog {
    const map = new Map<string, WsdlOperation>();
    for (const [upstream, file] of Object.entries(OUTBOUND_WSDLS)) {
      for (const op of readWsdlOperations(wsdlDir, file))
        map.set(`${upstream}:${op.operation}`, op);
    }
    return new WsdlCatalog(map);
  }

  /** Every endpoint path of the outbound WSDLs (to recognise a base URL given as an endpoint). */
  get endpointPaths(): string[] {
    return [...new Set([...this.byKey.values()].map((o) => o.endpointPath))];
  }

  /** @throws WsdlCatalogError when our WSDL does not declare the operation. */
  operation(upstream: OutboundWsdl, operation: string): WsdlOperation {
    const op = this.byKey.get(`${upstream}:${operation}`);
    if (op === undefined) {
      throw new WsdlCatalogError(`${OUTBOUND_WSDLS[upstream]} declares no operation ${operation}`);
    }
    return op;
  }
}
