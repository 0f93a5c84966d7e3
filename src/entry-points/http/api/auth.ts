import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import {
  findActiveKeyByHash,
  insertKey,
  isDuplicateKeyName,
} from '../../../data-access/api-keys-repository';
import { AppError } from '../../../domain/errors';
import type { ConfiguredApiKey } from '../../../shared/config';
import { sha256Hex } from '../../../shared/hash';

export const ROLES = ['erp', 'operator'] as const;
export type Role = (typeof ROLES)[number];
export type Principal = { name: string; roles: readonly Role[] };

/**
 * The demo keys, documented in the README, valid only outside production.
 * Known here by their hashes like every other key; the plain values are public on purpose.
 */
export const DEMO_KEYS: readonly ConfiguredApiKey[] = [
  { name: 'demo-erp', roles: ['erp'], sha256: sha256Hex('dev-erp-key') },
  { name: 'demo-operator', roles: ['operator'], sha256: sha256Hex('dev-operator-key') },
];

const isRole = (r: string): r is Role => (ROLES as readonly string[]).includes(r);

/**
 * Resolves `Authorization: Bearer <key>` to a principal: keys from the environment, the demo
 * keys outside production, and keys made with `pagopa-adapter keys create` (database, only
 * their SHA-256). Lookup is by hash, so no secret is compared character by character.
 */
export function createAuthenticator(options: {
  db: Knex;
  configured: readonly ConfiguredApiKey[];
  allowDemoKeys: boolean;
}): (authorization: string | undefined) => Promise<Principal> {
  const fixed = new Map<string, Principal>();
  for (const key of [...options.configured, ...(options.allowDemoKeys ? DEMO_KEYS : [])]) {
    fixed.set(key.sha256, { name: key.name, roles: key.roles });
  }
  return async (authorization) => {
    const match = /^Bearer ([\x21-\x7e]{1,200})$/.exec(authorization ?? '');
    if (match?.[1] === undefined) {
      throw new AppError('unauthenticated', 'send Authorization: Bearer <API key>');
    }
    const hash = sha256Hex(match[1]);
    const known = fixed.get(hash);
    if (known !== undefined) return known;
    const row = await findActiveKeyByHash(options.db, hash);
    if (row === undefined) throw new AppError('unauthenticated', 'unknown or revoked API key');
    return { name: row.name, roles: row.roles.filter(isRole) };
  };
}

/**
 * Makes a new random key, stores its hash, and returns the plain key (shown once, never stored).
 * @throws AppError('conflict') when a key with that name exists.
 */
export async function createApiKey(
  db: Knex,
  name: string,
  roles: readonly Role[],
): Promise<string> {
  const key = `pak_${randomBytes(32).toString('base64url')}`;
  try {
    await insertKey(db, { name, sha256: sha256Hex(key), roles });
  } catch (err) {
    if (isDuplicateKeyName(err))
      throw new AppError('conflict', `a key named "${name}" already exists`);
    throw err;
  }
  return key;
}
