import type { TLSSocket } from 'node:tls';
import type { RequestHandler } from 'express';
import { AppError } from '../../domain/errors';
import { paaFaultCodeFor } from './error-to-pa-fault';
import { soapFault } from './soap-server';

/**
 * The subject of the client certificate, as `C=IT, O=PagoPA S.p.A., CN=...` (RFC 4514 order
 * reversed as Node prints it, joined with ", "), or undefined on a plain connection.
 */
export function peerSubject(socket: unknown): string | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerX509Certificate !== 'function') return undefined;
  return tls.getPeerX509Certificate()?.subject.split('\n').join(', ');
}

/**
 * With in-process mTLS the handshake already proved that the client holds a certificate signed by
 * the configured CA; this checks it is the node's (pagoPA's forwarder, or the regional node):
 * its subject must contain `expected` (e.g. `CN=forwarder.platform.pagopa.it`). Anything else is
 * answered with a SOAP Fault PAA_ID_INTERMEDIARIO_ERRATO before any primitive runs.
 */
export function requireClientSubject(expected: string): RequestHandler {
  return (req, res, next) => {
    const subject = peerSubject(req.socket);
    if (subject !== undefined && subject.includes(expected)) {
      next();
      return;
    }
    const err = new AppError(
      'forbidden',
      subject === undefined
        ? 'a client certificate is required'
        : 'the client certificate subject does not name the node',
    );
    res
      .status(500)
      .type('text/xml')
      .send(soapFault(paaFaultCodeFor(err.code, 'new'), err.message));
  };
}
