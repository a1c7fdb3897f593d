/**
 * The sessions of refresh tokens this process issued, by token hash, so the next refresh with
 * such a token can sign before it reaches the store and the store answers in one call.
 *
 * Only what never changes for a session is used from here: its id, owner, client, scope,
 * `auth_time` and absolute expiry. Everything that can change (revocation, idle expiry, the
 * token's state, the owner's status) is decided by the store under its lock, in the same call
 * that rotates, so a cached entry can make a refresh cheaper but never lets a dead one through.
 * A miss (another instance issued the token, the process restarted, the entry was evicted)
 * costs one store read, as without the cache.
 *
 * An entry is taken out when its token is presented: a second presentation (a duplicate inside
 * the grace window, a replay) reads the store.
 */

import type { SessionRecord } from '../contracts.js';

export type CachedSession = Pick<
  SessionRecord,
  'id' | 'userId' | 'clientId' | 'scope' | 'authTime' | 'absoluteExpiresAt'
>;

interface Entry {
  readonly session: CachedSession;
  /** Seconds since the epoch after which the entry is useless (the token or session has expired). */
  readonly expiresAt: number;
}

export class RefreshSessionCache {
  readonly #max: number;
  /** Insertion order is age order: the first key is the oldest entry. */
  readonly #entries = new Map<string, Entry>();

  /** @param max entries kept; the oldest goes first. 0 disables the cache. */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0) throw new TypeError('max must be a non-negative integer');
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Remembers the session of a token just issued, until `expiresAt` (seconds). */
  remember(hash: string, session: CachedSession, expiresAt: number): void {
    if (this.#max === 0) return;
    this.#entries.delete(hash);
    this.#entries.set(hash, {
      session: {
        id: session.id,
        userId: session.userId,
        clientId: session.clientId,
        scope: session.scope,
        authTime: session.authTime,
        absoluteExpiresAt: session.absoluteExpiresAt,
      },
      expiresAt: Math.min(expiresAt, session.absoluteExpiresAt),
    });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** The session of `hash` if this process issued it and it may still be live; removes it. */
  take(hash: string, now: number): CachedSession | undefined {
    const entry = this.#entries.get(hash);
    if (entry === undefined) return undefined;
    this.#entries.delete(hash);
    return now < entry.expiresAt ? entry.session : undefined;
  }
}
