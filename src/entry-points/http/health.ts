import type { Redis } from 'ioredis';
import type { Db } from '../../data-access/db';

export type DependencyCheck = { name: string; check: () => Promise<void> };

export type ReadinessReport = {
  status: 'ok' | 'unavailable';
  checks: Record<string, { status: 'ok' | 'down'; error?: string; latencyMs: number }>;
};

export const mariadbCheck = (db: Db): DependencyCheck => ({
  name: 'mariadb',
  check: async () => {
    await db.raw('SELECT 1');
  },
});

export const redisCheck = (redis: Redis): DependencyCheck => ({
  name: 'redis',
  check: async () => {
    const answer: string = await redis.ping();
    if (answer !== 'PONG') throw new Error(`unexpected PING answer ${answer}`);
  },
});

/**
 * Runs every check in parallel, each bounded by `timeoutMs`, and names the failing ones.
 * Why bounded: a dependency that hangs (a half-open TCP connection) must read as down, not make
 * the orchestrator's probe time out with no explanation.
 */
export async function checkReadiness(
  checks: readonly DependencyCheck[],
  timeoutMs: number,
): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
        return [name, { status: 'ok' as const, latencyMs: elapsed(started) }] as const;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        return [name, { status: 'down' as const, error, latencyMs: elapsed(started) }] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const report: ReadinessReport = { status: 'ok', checks: {} };
  for (const [name, result] of results) {
    report.checks[name] = result;
    if (result.status === 'down') report.status = 'unavailable';
  }
  return report;
}

const elapsed = (started: number): number => Math.round(performance.now() - started);
