/** MariaDB/MySQL error numbers we act on. */
const ER_DUP_ENTRY = 1062;
const ER_LOCK_DEADLOCK = 1213;
const ER_LOCK_WAIT_TIMEOUT = 1205;

const errno = (err: unknown): number | undefined =>
  typeof err === 'object' && err !== null && 'errno' in err ? Number(err.errno) : undefined;

/** A unique index refused the row: another request stored the same business key first. */
export const isDuplicateKey = (err: unknown): boolean => errno(err) === ER_DUP_ENTRY;

/** Worth retrying the whole transaction. */
export const isTransientDbError = (err: unknown): boolean => {
  const n = errno(err);
  if (n === ER_LOCK_DEADLOCK || n === ER_LOCK_WAIT_TIMEOUT) return true;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  return ['PROTOCOL_CONNECTION_LOST', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(
    code,
  );
};
