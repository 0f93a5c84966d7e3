import fs from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';

/**
 * The knex factory, database creation and the migration runner.
 *
 * Why a custom migration source: migrations are TypeScript in the repository and JavaScript in the
 * built image; knex records file names, so names are stored without their extension and the same
 * database can be migrated by either.
 */

export type Db = Knex;

export type DbOptions = {
  url: string;
  poolMax: number;
  acquireTimeoutMs?: number;
  /** Where knex's own warnings go; without it knex writes to the console. */
  logger?: { warn: (obj: object, msg: string) => void; debug: (obj: object, msg: string) => void };
};

const quietKnexLog = {
  warn: () => undefined,
  error: () => undefined,
  deprecate: () => undefined,
  debug: () => undefined,
};

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
const MIGRATION_FILE = /^\d{8}_\d{4}_[a-z0-9_-]+\.(ts|js)$/;

function connectionFromUrl(url: string, withDatabase: boolean): Knex.MySql2ConnectionConfig {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  return {
    host: u.hostname,
    port: u.port === '' ? 3306 : Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    ...(withDatabase ? { database } : {}),
    charset: 'utf8mb4',
    // Timestamps are written and read as UTC whatever the server's zone.
    timezone: 'Z',
    dateStrings: false,
    supportBigNumbers: true,
    bigNumberStrings: false,
    connectTimeout: 5_000,
  };
}

export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) {
    throw new Error(`database name "${name}" must be 1-64 letters, digits or underscores`);
  }
  return name;
}

export function createDb(options: DbOptions): Db {
  return knex({
    client: 'mysql2',
    connection: connectionFromUrl(options.url, true),
    pool: { min: 0, max: options.poolMax },
    // Bounded: a request waiting for a connection fails instead of hanging while MariaDB is down.
    acquireConnectionTimeout: options.acquireTimeoutMs ?? 5_000,
    log: options.logger
      ? {
          warn: (message: unknown) => options.logger?.warn({ message }, 'knex warning'),
          error: (message: unknown) => options.logger?.warn({ message }, 'knex error'),
          deprecate: (message: unknown) => options.logger?.debug({ message }, 'knex deprecation'),
          debug: (message: unknown) => options.logger?.debug({ message }, 'knex debug'),
        }
      : quietKnexLog,
  });
}

/** Creates the database named in the URL when it does not exist (utf8mb4). */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const admin = knex({
    client: 'mysql2',
    connection: connectionFromUrl(url, false),
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 5_000,
    log: quietKnexLog,
  });
  try {
    await admin.raw(
      `CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await admin.destroy();
  }
}

class ExtensionlessMigrationSource implements Knex.MigrationSource<string> {
  getMigrations(): Promise<string[]> {
    const files = fs
      .readdirSync(MIGRATIONS_DIR)
      .filter((f) => MIGRATION_FILE.test(f) && !f.endsWith('.d.ts'));
    const names = [...new Set(files.map((f) => f.replace(/\.(ts|js)$/, '')))].sort();
    return Promise.resolve(names);
  }

  getMigrationName(migration: string): string {
    return migration;
  }

  getMigration(migration: string): Promise<Knex.Migration> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(MIGRATIONS_DIR, migration)) as Knex.Migration;
    return Promise.resolve(mod);
  }
}

const migratorConfig: Knex.MigratorConfig = {
  migrationSource: new ExtensionlessMigrationSource(),
  tableName: 'knex_migrations',
};

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migratorConfig)) as [number, string[]];
  return applied;
}

/** Rolls back the last batch; returns the names rolled back. */
export async function migrateRollback(db: Db): Promise<string[]> {
  const [, rolledBack] = (await db.migrate.rollback(migratorConfig)) as [number, string[]];
  return rolledBack;
}

/** Counts migrations not yet applied (for readiness and the CLI). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migratorConfig)) as [unknown, { file: string }[]];
  return pending.map((p) => p.file);
}

const mariaDbPools = new WeakMap<Db, Promise<boolean>>();

/**
 * Whether the server is MariaDB, asked once per pool. The fast paths use what only MariaDB has
 * (anonymous compound statements `BEGIN NOT ATOMIC … END`, `INSERT … RETURNING`); MySQL gets the
 * portable path.
 */
export function isMariaDb(db: Db): Promise<boolean> {
  let known = mariaDbPools.get(db);
  if (known === undefined) {
    known = db
      .raw('SELECT VERSION() AS version')
      .then(([rows]: [{ version: string }[]]) => /mariadb/i.test(rows[0]?.version ?? ''));
    // A failed question is asked again next time (the database may be down right now).
    known.catch(() => mariaDbPools.delete(db));
    mariaDbPools.set(db, known);
  }
  return known;
}
