/**
 * The four revocation levers and the ordered revocation log:
 * - `jti` denylist: one access token, kept until its `exp`;
 * - session (`sid`) revoked: every token of one login;
 * - per-user cutoff: tokens with `iat` before it are dead (logout everywhere, password change);
 * - account status: a disabled account's tokens are dead.
 * Every revocation is appended to the log and published, for guards (pushed revocation).
 */

import { type AccessTokenClaims, AuthError } from '@tessera/core';
import type { DurableStore, EphemeralStore, RevocationKind } from '../contracts.js';
import { SERVER_CLOCK_TOLERANCE_SEC } from '../tolerance.js';

export class RevocationService {
  readonly #durable: DurableStore;
  readonly #ephemeral: EphemeralStore;
  /** How long an event matters: the longest access token life plus tolerance, seconds. */
  readonly #relevanceSec: number;
  readonly #observer: ((kind: RevocationKind) => void) | undefined;

  constructor(
    durable: DurableStore,
    ephemeral: EphemeralStore,
    relevanceSec: number,
    observer?: (kind: RevocationKind) => void,
  ) {
    this.#durable = durable;
    this.#ephemeral = ephemeral;
    this.#relevanceSec = relevanceSec;
    this.#observer = observer;
  }

  /** How long an event matters, seconds: what `GET /auth/revocations` reports as `relevance_sec`. */
  get relevanceSec(): number {
    return this.#relevanceSec;
  }

  async #log(kind: RevocationKind, value: string, now: number, expiresAt = now + this.#relevanceSec): Promise<void> {
    const event = await this.#durable.appendRevocation({ kind, value, at: now, expiresAt });
    this.#observer?.(kind);
    await this.#ephemeral.publish(event);
  }

  async denyAccessToken(claims: Pick<AccessTokenClaims, 'jti' | 'exp'>, now: number): Promise<void> {
    // Verifiers accept a token until exp + tolerance, so the denial must outlive exp by as much.
    const until = claims.exp + SERVER_CLOCK_TOLERANCE_SEC;
    if (until <= now) return;
    await this.#ephemeral.denyJti(claims.jti, until);
    await this.#log('jti', claims.jti, now, until);
  }

  async revokeSession(sessionId: string, reason: string, now: number): Promise<boolean> {
    const revoked = await this.#durable.revokeSession(sessionId, reason, now);
    if (revoked) await this.#log('sid', sessionId, now);
    return revoked;
  }

  /** Publishes a session revocation already written by the store (e.g. reuse detection). */
  async announceSessionRevoked(sessionId: string, now: number): Promise<void> {
    await this.#log('sid', sessionId, now);
  }

  async revokeUserSessions(userId: string, reason: string, now: number, exceptId?: string): Promise<string[]> {
    const ids = await this.#durable.revokeUserSessions(userId, reason, now, exceptId);
    for (const id of ids) await this.#log('sid', id, now);
    return ids;
  }

  /**
   * Publishes a retired signing key (`kid` event) so guards stop accepting tokens signed with it
   * even while their cached JWKS still lists it. `expiresAt` defaults to now + relevance; the
   * caller passes a later one when caches may hold the key longer (the JWKS max-age).
   */
  async announceKeyRetired(kid: string, now: number, expiresAt = now + this.#relevanceSec): Promise<void> {
    await this.#log('kid', kid, now, expiresAt);
  }

  async setUserCutoff(userId: string, now: number): Promise<void> {
    await this.#durable.updateUser(userId, { tokensValidAfter: now }, now);
    await this.#log('sub', `${userId}@${now}`, now);
  }

  async disableUser(userId: string, now: number): Promise<void> {
    await this.#durable.updateUser(userId, { status: 'disabled' }, now);
    await this.revokeUserSessions(userId, 'user_disabled', now);
    await this.#log('user_disabled', userId, now);
  }

  /**
   * Checks an already verified access token against all four levers. Throws
   * `ERR_TOKEN_REVOKED` naming no lever publicly (the detail is for logs).
   */
  async assertActive(claims: AccessTokenClaims, now: number): Promise<{ userId: string }> {
    if (await this.#ephemeral.isJtiDenied(claims.jti, now)) {
      throw new AuthError('ERR_TOKEN_REVOKED', { detail: 'jti denylisted' });
    }
    const [session, user] = await Promise.all([
      claims.sid === undefined ? Promise.resolve(undefined) : this.#durable.findSession(claims.sid),
      this.#durable.findUserById(claims.sub),
    ]);
    if (user === undefined) throw new AuthError('ERR_TOKEN_REVOKED', { detail: 'user gone' });
    if (user.status !== 'active') throw new AuthError('ERR_TOKEN_REVOKED', { detail: 'account disabled' });
    if (claims.iat < user.tokensValidAfter) throw new AuthError('ERR_TOKEN_REVOKED', { detail: 'user cutoff' });
    if (claims.sid !== undefined) {
      if (session === undefined || session.userId !== user.id) {
        throw new AuthError('ERR_TOKEN_REVOKED', { detail: 'session unknown' });
      }
      if (session.revokedAt !== null) throw new AuthError('ERR_TOKEN_REVOKED', { detail: 'session revoked' });
      if (now >= session.absoluteExpiresAt || now >= session.idleExpiresAt) {
        throw new AuthError('ERR_TOKEN_REVOKED', { detail: 'session ended' });
      }
    }
    return { userId: user.id };
  }
}
