import type { Knex } from 'knex';
import { isDuplicateKey } from './errors';

/** API keys made by `pagopa-adapter keys create`: only their SHA-256 is stored. */

export async function findActiveKeyByHash(
  db: Knex,
  sha256: string,
): Promise<{ name: string; roles: string[] } | undefined> {
  const row = (await db('api_keys')
    .where({ key_sha256: sha256 })
    .whereNull('revoked_at')
    .first('name', 'roles')) as { name: string; roles: string } | undefined;
  return row === undefined ? undefined : { name: row.name, roles: row.roles.split(',') };
}

export async function insertKey(
  db: Knex,
  key: { name: string; sha256: string; roles: readonly string[] },
): Promise<void> {
  await db('api_keys').insert({
    name: key.name,
    key_sha256: key.sha256,
    roles: key.roles.join(','),
  });
}

/** Marks a key revoked (kept for the audit trail); false when no active key has that name. */
export async function revokeKeyByName(db: Knex, name: string): Promise<boolean> {
  const n = await db('api_keys')
    .where({ name })
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now(3) });
  return n > 0;
}

export async function listKeys(
  db: Knex,
): Promise<{ name: string; roles: string; createdAt: Date; revokedAt: Date | null }[]> {
  const rows = (await db('api_keys')
    .orderBy('id')
    .select('name', 'roles', 'created_at', 'revoked_at')) as {
    name: string;
    roles: string;
    created_at: Date;
    revoked_at: Date | null;
  }[];
  return rows.map((r) => ({
    name: r.name,
    roles: r.roles,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  }));
}

/** A key with that name exists already. */
export const isDuplicateKeyName = isDuplicateKey;
