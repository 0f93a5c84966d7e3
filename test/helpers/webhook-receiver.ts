import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A webhook as the ERP received it: headers and the exact body, for signature checks. */
export type Hook = { headers: http.IncomingHttpHeaders; body: string };

/** The ERP's webhook endpoint for a test: keeps every request, answers 200. */
export async function startWebhookReceiver(): Promise<{
  url: string;
  received: Hook[];
  close: () => Promise<void>;
}> {
  const received: Hook[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/erp`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
