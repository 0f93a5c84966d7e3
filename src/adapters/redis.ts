import { Redis, type RedisOptions } from 'ioredis';

/**
 * The one Redis connection factory.
 *
 * Why two kinds: a producer (HTTP/SOAP request path, health checks) must fail fast when Redis is
 * down so the caller gets a 503 or PAA_SYSTEM_ERROR instead of a hung request; a BullMQ worker
 * connection must wait through an outage (BullMQ requires `maxRetriesPerRequest: null`).
 */
export type RedisKind = 'producer' | 'worker';

export function createRedis(url: string, kind: RedisKind, name: string): Redis {
  const common: RedisOptions = {
    connectionName: `pagopa-adapter:${name}`,
    connectTimeout: 5_000,
    // Reconnect forever with a capped delay: an outage ends, and we want to be back without a restart.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    lazyConnect: false,
  };
  const options: RedisOptions =
    kind === 'producer'
      ? { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null };
  return new Redis(url, options);
}

/** Closes a connection: QUIT when connected, disconnect otherwise (QUIT would wait forever). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // Fall through: the connection dropped while quitting.
    }
  }
  redis.disconnect(false);
}

/** Resolves true once the connection is ready, false after `timeoutMs` (it keeps reconnecting). */
export function waitUntilReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    redis.once('ready', onReady);
  });
}
