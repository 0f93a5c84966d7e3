import http from 'node:http';
import { createDb } from '../../src/data-access/db';
import { uniqueDatabaseUrl } from '../helpers/db';
import { eventually, spawnCli, waitForExit } from '../helpers/service';

/**
 * The service as an operator runs it: a child process started through the real command line.
 */
const dropDatabase = async (url: string): Promise<void> => {
  // Through the server, not the database: a process stopped early may never have created it.
  const server = new URL(url);
  server.pathname = '/';
  const db = createDb({ url: server.toString(), poolMax: 1 });
  try {
    await db.raw(`DROP DATABASE IF EXISTS \`${new URL(url).pathname.slice(1)}\``);
  } finally {
    await db.destroy();
  }
};

function getStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.setTimeout(2_000, () => req.destroy(new Error('timeout')));
  });
}

const freePorts = (() => {
  // Distinct ports per test file run; the range is far from the demo ports.
  let next = 20_000 + (process.pid % 5_000) * 4;
  return () => {
    next += 4;
    return { api: next, soap: next + 1, simulator: next + 2 };
  };
})();

const serveEnv = (dbUrl: string, ports: { api: number; soap: number; simulator: number }) => ({
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  DATABASE_URL: dbUrl,
  HTTP_PORT: String(ports.api),
  SOAP_PORT: String(ports.soap),
  SIMULATOR_PORT: String(ports.simulator),
  HTTP_BIND_ADDRESS: '127.0.0.1',
  SHUTDOWN_TIMEOUT_MS: '5000',
});

describe('the serve command', () => {
  test('an invalid environment stops start-up with one message naming every bad key', async () => {
    const child = spawnCli(['serve'], { HTTP_PORT: 'abc', REDIS_URL: 'nope' });
    const { code, stderr } = await waitForExit(child);
    expect(code).not.toBe(0);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/HTTP_PORT/);
    expect(lines[0]).toMatch(/REDIS_URL/);
  });

  test('it becomes ready, and SIGTERM under load exits 0 within the shutdown time', async () => {
    const dbUrl = uniqueDatabaseUrl('serve');
    const ports = freePorts();
    const child = spawnCli(['serve', '--role', 'all'], serveEnv(dbUrl, ports));
    const exited = waitForExit(child);
    try {
      // Start-up is not what this test times (tsx compiles the sources on a cold cache, and the
      // suite runs other files beside it): generous; the shutdown below is held to 5 s.
      const ready = await eventually(
        async () => (await getStatus(`http://127.0.0.1:${ports.api}/health/ready`)) === 200,
        60_000,
        200,
      );
      expect(ready).toBe(true);

      // Load: a bounded burst of concurrent requests still in flight when the signal arrives.
      let answered = 0;
      const load = Array.from({ length: 200 }, () =>
        getStatus(`http://127.0.0.1:${ports.api}/health/ready`)
          .then(() => {
            answered += 1;
          })
          .catch(() => undefined),
      );
      await new Promise((r) => setTimeout(r, 20));
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      const { code, stdout } = await exited;
      await Promise.all(load);
      expect(code).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(5_000);
      expect(answered).toBeGreaterThan(0);
      expect(stdout).toMatch(/"msg":"shutting down"/);
      // HTTP stops before Redis and the database pool: the order of a clean drain.
      const stoppedAt = (component: string): string =>
        new RegExp(`"time":"([^"]+)"[^\\n]*"component":"${component}","msg":"stopped"`).exec(
          stdout,
        )?.[1] ?? 'missing';
      expect(stoppedAt('http:api') <= stoppedAt('redis')).toBe(true);
      expect(stoppedAt('redis') <= stoppedAt('mariadb')).toBe(true);
      expect(stoppedAt('mariadb')).not.toBe('missing');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await dropDatabase(dbUrl);
    }
  }, 90_000);

  test('SIGTERM during start-up exits 0 within the shutdown time', async () => {
    const dbUrl = uniqueDatabaseUrl('startup');
    const child = spawnCli(['serve', '--role', 'all'], serveEnv(dbUrl, freePorts()));
    const exited = waitForExit(child);
    try {
      // Wait until the process has started its own start-up (its first log line), then stop it.
      await new Promise<void>((resolve) => {
        child.stdout?.once('data', () => resolve());
      });
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      const { code } = await exited;
      expect(code).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(5_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await dropDatabase(dbUrl);
    }
  });
});

describe('the migrate commands', () => {
  test('migrate creates the database and applies migrations; rollback undoes the last batch', async () => {
    const dbUrl = uniqueDatabaseUrl('migrate');
    try {
      const migrated = await waitForExit(spawnCli(['migrate'], { DATABASE_URL: dbUrl }));
      expect(migrated.code).toBe(0);
      expect(migrated.stdout).toMatch(/applied: .*20261123_0001_audit_events/);

      const again = await waitForExit(spawnCli(['migrate'], { DATABASE_URL: dbUrl }));
      expect(again.stdout).toMatch(/already up to date/);

      const rolledBack = await waitForExit(spawnCli(['migrate:rollback'], { DATABASE_URL: dbUrl }));
      expect(rolledBack.code).toBe(0);
      expect(rolledBack.stdout).toMatch(/rolled back: .*20261123_0001_audit_events/);
      const db = createDb({ url: dbUrl, poolMax: 1 });
      try {
        expect(await db.schema.hasTable('audit_events')).toBe(false);
      } finally {
        await db.destroy();
      }
    } finally {
      await dropDatabase(dbUrl);
    }
  });
});
