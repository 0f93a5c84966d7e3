import { AppError } from '../errors';

/**
 * Paging through a card's movements, newest first.
 *
 * Why a keyset cursor: entries are only ever appended, so "entries older than id N" is stable
 * while new meals are charged during paging; an offset would shift and repeat rows.
 * The cursor is opaque to callers (base64url of the last id returned).
 */

export const DEFAULT_PAGE_SIZE = 50;

export const encodeCursor = (lastId: number): string =>
  Buffer.from(String(lastId), 'utf8').toString('base64url');

/**
 * The id a cursor stands for.
 * @throws AppError('invalid-input') when the cursor was not made by {@link encodeCursor}.
 */
export function decodeCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,40}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  const id = /^[1-9]\d{0,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id) || encodeCursor(id) !== cursor) {
    throw new AppError(
      'invalid-input',
      'query.cursor is not a cursor this API returned; start again without it',
    );
  }
  return id;
}

/** The page size to use: the caller's, or the default capped by the configured maximum. */
export const pageSize = (asked: number | undefined, maxSize: number): number =>
  asked ?? Math.min(DEFAULT_PAGE_SIZE, maxSize);

/**
 * Cuts a page out of `limit + 1` rows read newest first: the extra row only tells whether
 * another page exists.
 */
export function toPage<T extends { id: number }>(
  rows: readonly T[],
  limit: number,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.id) : null,
  };
}
