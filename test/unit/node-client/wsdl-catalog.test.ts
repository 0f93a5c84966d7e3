/**
 * The operations the clients call exist in our WSDLs, with the SOAPAction the clients send
 * (the client tests' interceptors match on that header) and the endpoint path they post to.
 */
import path from 'node:path';
import { endpointUrl } from '../../../src/adapters/node-client/soap';
import { readWsdlOperations, WsdlCatalog } from '../../../src/adapters/node-client/wsdl-catalog';
import { PACKAGE_ROOT } from '../../../src/shared/paths';
import { wsdl } from './helpers';

const CALLED = {
  nodoPerPa: [
    'nodoInviaRPT',
    'nodoInviaCarrelloRPT',
    'nodoChiediStatoRPT',
    'nodoChiediCopiaRT',
    'nodoChiediListaPendentiRPT',
    'nodoChiediElencoFlussiRendicontazione',
    'nodoChiediFlussoRendicontazione',
  ],
  nodeForPa: ['nodoChiediElencoFlussiRendicontazione', 'nodoChiediFlussoRendicontazione'],
  mypay: ['paaSILImportaDovuto', 'paaSILInviaDovuti', 'paaSILChiediPagati'],
} as const;

describe('WSDL catalog', () => {
  test.each(
    Object.entries(CALLED).flatMap(([upstream, ops]) => ops.map((op) => [upstream, op] as const)),
  )('%s declares %s with soapAction equal to the operation name', (upstream, op) => {
    const o = wsdl.operation(upstream as keyof typeof CALLED, op);
    expect(o.soapAction).toBe(op);
  });

  test('endpoint paths come from the soap:address of each WSDL', () => {
    expect(wsdl.operation('nodoPerPa', 'nodoInviaRPT').endpointPath).toBe(
      '/nodo-auth/nodo-per-pa/v1',
    );
    expect(wsdl.operation('nodeForPa', 'nodoChiediFlussoRendicontazione').endpointPath).toBe(
      '/nodo-auth/node-for-pa/v1',
    );
    expect(wsdl.operation('mypay', 'paaSILChiediPagati').endpointPath).toBe('/ws/pa/');
  });

  test('an operation our WSDL does not declare is refused', () => {
    expect(() => wsdl.operation('nodoPerPa', 'nodoChiediInformativaPSP')).toThrow(
      /declares no operation/,
    );
  });

  test('a missing WSDL folder stops the start', () => {
    expect(() => WsdlCatalog.load(path.join(PACKAGE_ROOT, 'no-such-dir'))).toThrow();
  });

  test('every binding operation of the MyPay WSDL is one we call', () => {
    const ops = readWsdlOperations(path.join(PACKAGE_ROOT, 'wsdl'), 'mypay/pa-per-ente.wsdl');
    expect(ops.map((o) => o.operation).sort()).toEqual([...CALLED.mypay].sort());
  });

  test.each([
    [
      'https://api.platform.pagopa.it',
      '/nodo-auth/node-for-pa/v1',
      'https://api.platform.pagopa.it/nodo-auth/node-for-pa/v1',
    ],
    [
      'https://api.platform.pagopa.it/',
      '/nodo-auth/nodo-per-pa/v1',
      'https://api.platform.pagopa.it/nodo-auth/nodo-per-pa/v1',
    ],
    [
      'https://api.platform.pagopa.it/nodo-auth/nodo-per-pa/v1',
      '/nodo-auth/node-for-pa/v1',
      'https://api.platform.pagopa.it/nodo-auth/node-for-pa/v1',
    ],
    [
      'http://127.0.0.1:8090/sim',
      '/nodo-auth/nodo-per-pa/v1',
      'http://127.0.0.1:8090/sim/nodo-auth/nodo-per-pa/v1',
    ],
  ])('endpointUrl(%s, %s) = %s', (base, p, expected) => {
    expect(endpointUrl(base, p, wsdl.endpointPaths)).toBe(expected);
  });
});
