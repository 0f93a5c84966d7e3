import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export type RunningServer = { port: number; stop: () => Promise<void> };

/**
 * Listens and returns the bound port (0 in tests picks a free one) and a stop function.
 * Stop refuses new connections, lets in-flight requests finish, and closes keep-alive sockets.
 */
export async function listen(
  app: Express,
  port: number,
  host: string,
  requestTimeoutMs: number,
): Promise<RunningServer> {
  const server = http.createServer(app);
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
