import net from 'node:net';

/**
 * Fails the run at once, with the command to fix it, when MariaDB or Redis is not there:
 * otherwise every component test would time out one by one with a less useful message.
 */
export default async function globalSetup(): Promise<void> {
  const missing: string[] = [];
  for (const [name, port] of [
    ['MariaDB', 3306],
    ['Redis', 6379],
  ] as const) {
    if (!(await canConnect('127.0.0.1', port))) missing.push(`${name} on 127.0.0.1:${port}`);
  }
  if (missing.length > 0) {
    throw new Error(
      `tests need ${missing.join(' and ')}; start them (see README "Prerequisites") or run .ci/run`,
    );
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
