/**
 * The contract between the guard and wherever revocations come from (the auth server's SSE
 * feed, later Redis pub/sub). The guard asks `isRevoked` for every verified token and evicts
 * its verified-token cache on `onRevocation`.
 *
 * Event semantics (the same as the auth server's revocation log):
 * - `jti`: value is the token id; that token is dead.
 * - `sid`: value is the session id; every token with that `sid` is dead.
 * - `sub`: value is `<userId>@<cutoff>`; tokens of that user with `iat < cutoff` are dead.
 * - `user_disabled`: value is the user id; tokens of that user with `iat <= at` are dead (a
 *   disabled account cannot obtain new tokens, so later ones exist only after re-enabling).
 * - `kid`: value is a key id that was retired; tokens signed with it are dead.
 * Every event carries `expiresAt`: after it, no token it could affect is still valid, so it may
 * be forgotten.
 */

export type RevocationKind = 'jti' | 'sid' | 'sub' | 'user_disabled' | 'kid';

export interface RevocationEvent {
  readonly id: number;
  readonly kind: RevocationKind;
  readonly value: string;
  /** Seconds since the epoch. */
  readonly at: number;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

/** The claims a revocation check needs. */
export interface RevocableClaims {
  readonly jti: string;
  readonly sub: string;
  readonly iat: number;
  readonly sid?: string | undefined;
}

export interface RevocationSource {
  /** True when any known revocation applies to the token. `kid` is the token header's key id. */
  isRevoked(claims: RevocableClaims, kid?: string): boolean;
  /**
   * Seconds since the source last heard from the server (an event, a heartbeat or a snapshot);
   * `Infinity` before the first contact.
   */
  stalenessSec(): number;
  /** Called for every new revocation (to evict caches). Returns an unsubscribe function. */
  onRevocation(listener: (event: RevocationEvent) => void): () => void;
  close(): Promise<void>;
}
