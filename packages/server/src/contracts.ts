/**
 * The storage contracts, owned by the server (the domain), implemented by adapters
 * (`@tessera/store-sqlite`, `@tessera/store-postgres`, `@tessera/store-redis`). Every adapter
 * passes the shared conformance suite in `@tessera/store-testing`.
 *
 * Units: all times are whole seconds since the epoch. Tokens are never stored: refresh tokens
 * are keyed by their SHA-256 (hex), and the only token material at rest is the grace-window
 * replay of a rotation, encrypted under a key derived from the presented (old) refresh token.
 */

export type UserStatus = 'active' | 'disabled';

export interface UserRecord {
  readonly id: string;
  /** Normalised (trimmed, NFC, lower-cased) address. */
  readonly email: string;
  readonly passwordHash: string;
  readonly status: UserStatus;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Per-user cutoff: access tokens with `iat` before this are dead. 0 when never set. */
  readonly tokensValidAfter: number;
}

export interface UserPatch {
  readonly status?: UserStatus;
  readonly passwordHash?: string;
  readonly tokensValidAfter?: number;
}

export interface SessionRecord {
  /** The `sid`: one login session, which is one refresh token family. */
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly scope: string;
  /** When the user authenticated (the `auth_time` claim). */
  readonly authTime: number;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  /** Idle expiry: moves forward on every rotation, never past `absoluteExpiresAt`. */
  readonly idleExpiresAt: number;
  /** The absolute session ceiling. */
  readonly absoluteExpiresAt: number;
  readonly revokedAt: number | null;
  readonly revokedReason: string | null;
  readonly userAgent: string | null;
  readonly ip: string | null;
}

export interface NewRefreshToken {
  /** SHA-256 of the token, hex. */
  readonly hash: string;
  readonly expiresAt: number;
}

/** One stored refresh token (by hash) with its session, for introspection. */
export interface RefreshTokenRecord {
  /** SHA-256 of the token, hex. */
  readonly hash: string;
  readonly session: SessionRecord;
  readonly createdAt: number;
  /** The token's own expiry; the session's idle and absolute expiries still apply. */
  readonly expiresAt: number;
  /** When it was rotated (used), or null while it is the family's current token. */
  readonly rotatedAt: number | null;
}

export interface RotateInput {
  /** SHA-256 (hex) of the presented refresh token. */
  readonly presentedHash: string;
  /** The successor, minted before the compare-and-set; discarded unless it wins. */
  readonly next: NewRefreshToken;
  /** The winner's response, encrypted for replay to concurrent duplicates. */
  readonly graceResponse: string;
  readonly now: number;
  /** Grace window in seconds; 0 disables it (every second use is a reuse). */
  readonly graceSec: number;
  /** Idle lifetime in seconds: the session's idle expiry becomes `now + idleSec`, capped. */
  readonly idleSec: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /**
   * The caller's last read ({@link DurableStore.findRefreshContext}) found the token unrotated.
   * A hint that only skips work: a store may drop its lock-free grace pre-read, and the
   * outcome is decided under the lock either way, so a stale hint is never wrong.
   */
  readonly seenUnrotated?: boolean;
  /**
   * Appended in the same transaction as the rotation when, and only when, the outcome is
   * `rotated`: a committed rotation always has its audit row, and one round trip does both.
   */
  readonly audit?: NewAuditEvent;
}

/** What a refresh reads before it signs, in one lookup. */
export interface RefreshContext {
  /** The family the presented token belongs to, whatever the token's state. */
  readonly session: SessionRecord;
  /** The session owner's status, or null when the account no longer exists. */
  readonly userStatus: UserStatus | null;
  /** When the presented token was rotated, or null while it is the family's current token. */
  readonly rotatedAt: number | null;
}

export interface UseInfo {
  readonly at: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/**
 * The result of one atomic rotation attempt. Exactly one concurrent attempt gets `rotated`.
 * The store decides under its lock, in this order: unknown token; `revoked` when the session is
 * revoked or its owner is not active (disabled or deleted: nothing is consumed); `expired`;
 * `grace` or `reused` for a rotated token; else `rotated`.
 */
export type RotationResult =
  | { readonly outcome: 'rotated'; readonly session: SessionRecord }
  | { readonly outcome: 'grace'; readonly session: SessionRecord; readonly graceResponse: string }
  | {
      readonly outcome: 'reused';
      readonly session: SessionRecord;
      /** The use that rotated the token, for the audit event. */
      readonly firstUse: UseInfo;
      /** Whether this call revoked the family (false if it was already revoked by a reuse). */
      readonly revokedNow: boolean;
    }
  | { readonly outcome: 'expired'; readonly session: SessionRecord }
  | { readonly outcome: 'revoked'; readonly session: SessionRecord }
  | { readonly outcome: 'unknown' };

export type RotationOutcome = RotationResult['outcome'];

export type SigningKeyState = 'next' | 'current' | 'retiring' | 'retired';

export interface SigningKeyRecord {
  readonly kid: string;
  readonly alg: string;
  readonly state: SigningKeyState;
  /** The private JWK, encrypted with the master key (AES-256-GCM envelope, base64url). */
  readonly privateJwkEncrypted: string;
  readonly publicJwk: string;
  readonly createdAt: number;
  /** When it became (or becomes) `current`. */
  readonly activatedAt: number | null;
  /** When it stopped signing. */
  readonly retiredAt: number | null;
  /** When the last token it signed expires: it may leave the JWKS after this. */
  readonly expiresAt: number | null;
}

export interface SigningKeyPatch {
  readonly state?: SigningKeyState;
  readonly activatedAt?: number | null;
  readonly retiredAt?: number | null;
  readonly expiresAt?: number | null;
}

export type RevocationKind = 'jti' | 'sid' | 'sub' | 'user_disabled' | 'kid';

export interface RevocationEvent {
  /** Ordered id assigned by the store. */
  readonly id: number;
  readonly kind: RevocationKind;
  readonly value: string;
  readonly at: number;
  /** After this the entry is irrelevant (every token it could affect has expired). */
  readonly expiresAt: number;
}

export interface AuditEvent {
  readonly id: number;
  readonly at: number;
  readonly type: string;
  readonly userId: string | null;
  readonly sessionId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** Event-specific JSON, never containing tokens, passwords or cookie values. */
  readonly data: Record<string, unknown>;
}

export type NewAuditEvent = Omit<AuditEvent, 'id'>;

/** A confidential OAuth client (a resource server, later the BFF). */
export interface ClientRecord {
  /** The `client_id`: 1-128 printable ASCII characters. */
  readonly id: string;
  /** Human label for operators. */
  readonly name: string;
  /**
   * SHA-256 (hex) of the client secret. Secrets are 256 random bits generated by Tessera, so a
   * fast hash is enough: there is nothing to brute-force that a slow hash would protect.
   */
  readonly secretHash: string;
  readonly createdAt: number;
  /** Space-separated permissions: `introspect`, `revoke`, `revocations`. */
  readonly scopes: string;
}

/** Failed-login bookkeeping for progressive delays. */
export interface FailureCount {
  readonly count: number;
  /** When the last failure was recorded, seconds since the epoch. */
  readonly lastAt: number;
}

/** Durable state: users, sessions, refresh tokens, keys, revocations and audit. */
export interface DurableStore {
  /** Runs versioned migrations; idempotent. */
  migrate(): Promise<void>;
  /** Cheap liveness check used by readiness probes. */
  ping(): Promise<void>;
  close(): Promise<void>;

  createUser(user: UserRecord): Promise<'created' | 'exists'>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  updateUser(id: string, patch: UserPatch, now: number): Promise<UserRecord | undefined>;
  listUsers(limit: number, offset: number): Promise<UserRecord[]>;

  /** Creates a session with its first refresh token, atomically. */
  createSession(session: SessionRecord, firstToken: NewRefreshToken): Promise<void>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  /** The session a refresh token (by hash) belongs to, whatever the token's state. */
  findSessionByRefreshHash(hash: string): Promise<SessionRecord | undefined>;
  /**
   * The session of a refresh token (by hash) with its owner's status and the token's state, in
   * one read: everything the refresh path needs before it signs the access token.
   */
  findRefreshContext(hash: string): Promise<RefreshContext | undefined>;
  /** A refresh token (by hash) with its state and session; read-only, whatever the state. */
  findRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined>;
  listSessions(userId: string, options: { includeEnded: boolean; now: number }): Promise<SessionRecord[]>;
  /** Returns false when the session did not exist or was already revoked. */
  revokeSession(id: string, reason: string, now: number): Promise<boolean>;
  /** Revokes every live session of a user except `exceptId`; returns the revoked ids. */
  revokeUserSessions(userId: string, reason: string, now: number, exceptId?: string): Promise<string[]>;

  /** The heart: one atomic compare-and-set. See {@link RotationResult}. */
  rotateRefreshToken(input: RotateInput): Promise<RotationResult>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
  /**
   * Patches a key; with `expectedState`, only while the key is in that state (a compare-and-set,
   * so instances ticking at the same moment make each transition once). True when it changed.
   */
  updateSigningKey(kid: string, patch: SigningKeyPatch, expectedState?: SigningKeyState): Promise<boolean>;

  /** Appends to the ordered revocation log and returns the event with its id. */
  appendRevocation(event: Omit<RevocationEvent, 'id'>): Promise<RevocationEvent>;
  listRevocations(afterId: number, limit: number, now: number): Promise<RevocationEvent[]>;

  appendAudit(event: NewAuditEvent): Promise<void>;
  listAudit(filter: { userId?: string; sessionId?: string; limit: number }): Promise<AuditEvent[]>;

  /** Returns 'exists' when the id is taken. */
  createClient(client: ClientRecord): Promise<'created' | 'exists'>;
  findClient(id: string): Promise<ClientRecord | undefined>;
  listClients(): Promise<ClientRecord[]>;
  /** Returns false when there was no such client. */
  deleteClient(id: string): Promise<boolean>;

  /** Deletes rows that can no longer matter (expired tokens, sessions, revocations). */
  purgeExpired(now: number): Promise<number>;
}

/** Short-lived, high-rate state; may live in memory, SQLite or Redis. */
export interface EphemeralStore {
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Denylists a `jti` until `expiresAt` (the token's own `exp`). */
  denyJti(jti: string, expiresAt: number): Promise<void>;
  isJtiDenied(jti: string, now: number): Promise<boolean>;
  /**
   * Token bucket: takes one token from bucket `key` holding at most `capacity`, refilled at
   * `refillPerSec`. Returns whether allowed and, if not, the seconds until one is available.
   */
  takeToken(
    key: string,
    capacity: number,
    refillPerSec: number,
    now: number,
  ): Promise<{ allowed: boolean; retryAfterSec: number }>;
  /** Fans a revocation event out to every subscriber (other instances, guards). */
  /**
   * Counts a failure under `key`; counts older than `ttlSec` since the last failure start over.
   * Returns the count including this one.
   */
  recordFailure(key: string, now: number, ttlSec: number): Promise<FailureCount>;
  /** The current count (zero when none or expired). */
  getFailures(key: string, now: number, ttlSec: number): Promise<FailureCount>;
  clearFailures(key: string): Promise<void>;
  publish(event: RevocationEvent): Promise<void>;
  subscribe(listener: (event: RevocationEvent) => void): () => void;
}
