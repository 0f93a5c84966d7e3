import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Console sessions, kept in this process's memory.
 *
 * Why a server-side session id and not the key: the cookie holds 32 random bytes that mean
 * nothing elsewhere; the operator key itself is checked once at login and never stored, in a
 * cookie or here. The cookie is HttpOnly and SameSite=Strict, and every form also carries the
 * session's CSRF token. Sessions end on logout, after `idleMs` without a request, or after
 * `ttlMs` in all; a restart logs everyone out (several API replicas need sticky sessions).
 */
export type ConsoleSession = {
  readonly id: string;
  /** The operator key's name: the console's actions are audited as `console:<name>`. */
  readonly operator: string;
  readonly csrfToken: string;
  readonly createdAt: number;
  lastSeenAt: number;
  /** A one-time message for the next page (an action's outcome). */
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
};

export const SESSION_COOKIE = 'ops_session';
const SESSIONS_MAX = 10_000;

export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(private readonly options: { ttlMs: number; idleMs: number }) {}

  create(operator: string, now: number = Date.now()): ConsoleSession {
    this.sweep(now);
    if (this.sessions.size >= SESSIONS_MAX) {
      // The oldest session goes first (Map keeps insertion order).
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      operator,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session of this id, touched; undefined when unknown or expired. */
  find(id: string | undefined, now: number = Date.now()): ConsoleSession | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (this.expired(session, now)) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  destroy(id: string): void {
    this.sessions.delete(id);
  }

  private expired(s: ConsoleSession, now: number): boolean {
    return now - s.createdAt > this.options.ttlMs || now - s.lastSeenAt > this.options.idleMs;
  }

  private sweep(now: number): void {
    for (const [id, s] of this.sessions) if (this.expired(s, now)) this.sessions.delete(id);
  }
}

/** Compares a submitted CSRF token with the session's in constant time. */
export function csrfMatches(session: ConsoleSession, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of one cookie from a Cookie header (no dependency for one cookie). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
