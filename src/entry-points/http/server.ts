import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export type RunningServer = { port: number; stop: () => Promise<void> };

/** PEM contents for an HTTPS server that requires a client certificate signed by `ca`. */
export type MutualTls = { cert: Buffer; key: Buffer; ca: Buffer };

/** Tried before the express app on every request; true when it took the request. */
export type FrontHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/**
 * Listens and returns the bound port (0 in tests picks a free one) and a stop function.
 * Stop refuses new connections, lets in-flight requests finish, and closes keep-alive sockets.
 * With `tls` the server speaks HTTPS and refuses, during the handshake, any client without a
 * certificate signed by `tls.ca` (mutual TLS, as pagoPA calls the EC: PAGOPA.md §1).
 * `front` sees each request first (the SOAP doors' fast path) and leaves the rest to `app`.
 */
export async function listen(
  app: Express,
  port: number,
  host: string,
  requestTimeoutMs: number,
  tls?: MutualTls,
  front?: FrontHandler,
): Promise<RunningServer> {
  const handler: http.RequestListener =
    front === undefined
      ? app
      : (req, res) => {
          if (!front(req, res)) app(req, res);
        };
  const server =
    tls === undefined
      ? http.createServer(handler)
      : https.createServer(
          { ...tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
          handler,
        );
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = Math.min(requestTimeoutMs, 60_000);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
