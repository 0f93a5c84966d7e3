import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export type RunningServer = { port: number; stop: () => Promise<void> };

/** PEM contents for an HTTPS server that requires a client certificate signed by `ca`. */
export type MutualTls = { cert: Buffer; key: Buffer; ca: Buffer };

/**
 * Listens and returns the bound port (0 in tests picks a free one) and a stop function.
 * Stop refuses new connections, lets in-flight requests finish, and closes keep-alive sockets.
 * With `tls` the server speaks HTTPS and refuses, during the handshake, any client without a
 * certificate signed by `tls.ca` (mutual TLS, as pagoPA calls the EC: PAGOPA.md §1).
 */
export async function listen(
  app: Express,
  port: number,
  host: string,
  requestTimeoutMs: number,
  tls?: MutualTls,
): Promise<RunningServer> {
  const server =
    tls === undefined
      ? http.createServer(app)
      : https.createServer(
          { ...tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
          app,
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
