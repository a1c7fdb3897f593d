/**
 * The embedded default: one SQLite file (WAL) implementing both DurableStore and
 * EphemeralStore. better-sqlite3 is synchronous, so every multi-statement operation is one
 * `BEGIN IMMEDIATE` transaction: the write lock is taken up front, which makes
 * `rotateRefreshToken` a true compare-and-set across threads and processes sharing the file.
 *
 * Durability: `synchronous = NORMAL` in WAL mode does not fsync every commit; a power loss can
 * drop the last commits. For this data that costs at worst a re-login, never a security
 * property, and it is what makes thousands of rotations per second possible.
 */

import { EventEmitter } from 'node:events';
import type {
  AuditEvent,
  ClientRecord,
  DurableStore,
  EphemeralStore,
  FailureCount,
  NewAuditEvent,
  NewRefreshToken,
  RefreshContext,
  RefreshTokenRecord,
  RevocationEvent,
  RotateInput,
  RotationResult,
  SessionRecord,
  SigningKeyPatch,
  SigningKeyRecord,
  SigningKeyState,
  UserPatch,
  UserRecord,
} from '@tessera/server/contracts';
import {
  auditValues,
  type Row,
  toClient,
  toRefreshContext,
  toRevocation,
  toSession,
  toSigningKey,
  toUser,
} from '@tessera/server/store-rows';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export interface SqliteStoreOptions {
  /** Database file path, or ':memory:' for a private in-memory database (tests only). */
  readonly path: string;
  /** How long to wait for another writer, in milliseconds. Default 5000. */
  readonly busyTimeoutMs?: number;
}

function prepareStatements(db: Database.Database) {
  const prepare = (sql: string) => db.prepare(sql);
  return {
    insertUser: prepare(
      `INSERT INTO users (id, email, password_hash, status, created_at, updated_at, tokens_valid_after)
       VALUES (@id, @email, @passwordHash, @status, @createdAt, @updatedAt, @tokensValidAfter)
       ON CONFLICT DO NOTHING`,
    ),
    userById: prepare('SELECT * FROM users WHERE id = ?'),
    userByEmail: prepare('SELECT * FROM users WHERE email = ?'),
    listUsers: prepare('SELECT * FROM users ORDER BY created_at, id LIMIT ? OFFSET ?'),
    insertSession: prepare(
      `INSERT INTO sessions (id, user_id, client_id, scope, auth_time, created_at, last_used_at, idle_expires_at,
         absolute_expires_at, revoked_at, revoked_reason, user_agent, ip)
       VALUES (@id, @userId, @clientId, @scope, @authTime, @createdAt, @lastUsedAt, @idleExpiresAt,
         @absoluteExpiresAt, @revokedAt, @revokedReason, @userAgent, @ip)`,
    ),
    insertToken: prepare('INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)'),
    sessionById: prepare('SELECT * FROM sessions WHERE id = ?'),
    sessionByToken: prepare('SELECT s.* FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?'),
    refreshContext: prepare(
      `SELECT s.*, t.rotated_at AS token_rotated_at, u.status AS user_status
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id LEFT JOIN users u ON u.id = s.user_id
        WHERE t.hash = ?`,
    ),
    sessionsOfUser: prepare('SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id'),
    liveSessionsOfUser: prepare(
      `SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL
         AND idle_expires_at > ? AND absolute_expires_at > ? ORDER BY created_at DESC, id`,
    ),
    revokeSession: prepare(
      'UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL',
    ),
    liveSessionIdsOfUser: prepare('SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL'),
    rotationRow: prepare(
      `SELECT t.hash, t.expires_at AS token_expires_at, t.rotated_at, t.grace_response, t.used_ip,
              t.used_user_agent, s.*, u.status AS user_status
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id LEFT JOIN users u ON u.id = s.user_id
        WHERE t.hash = ?`,
    ),
    tokenWithSession: prepare(
      `SELECT t.hash, t.created_at AS token_created_at, t.expires_at AS token_expires_at, t.rotated_at,
              t.grace_response, t.used_ip, t.used_user_agent, s.*
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?`,
    ),
    markRotated: prepare(
      `UPDATE refresh_tokens SET rotated_at = ?, replaced_by = ?, grace_response = ?, used_ip = ?, used_user_agent = ?
        WHERE hash = ? AND rotated_at IS NULL`,
    ),
    touchSession: prepare('UPDATE sessions SET last_used_at = ?, idle_expires_at = ? WHERE id = ?'),
    listKeys: prepare('SELECT * FROM signing_keys ORDER BY created_at, kid'),
    insertKey: prepare(
      `INSERT INTO signing_keys (kid, alg, state, private_jwk_encrypted, public_jwk, created_at, activated_at, retired_at, expires_at)
       VALUES (@kid, @alg, @state, @privateJwkEncrypted, @publicJwk, @createdAt, @activatedAt, @retiredAt, @expiresAt)`,
    ),
    insertRevocation: prepare('INSERT INTO revocations (kind, value, at, expires_at) VALUES (?, ?, ?, ?)'),
    listRevocations: prepare('SELECT * FROM revocations WHERE id > ? AND expires_at > ? ORDER BY id LIMIT ?'),
    insertAudit: prepare(
      'INSERT INTO audit_events (at, type, user_id, session_id, ip, user_agent, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    auditByUser: prepare('SELECT * FROM audit_events WHERE user_id = ? ORDER BY id DESC LIMIT ?'),
    auditBySession: prepare('SELECT * FROM audit_events WHERE session_id = ? ORDER BY id DESC LIMIT ?'),
    auditAll: prepare('SELECT * FROM audit_events ORDER BY id DESC LIMIT ?'),
    denyJti: prepare(
      `INSERT INTO jti_denylist (jti, expires_at) VALUES (?, ?)
       ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
    ),
    isDenied: prepare('SELECT 1 FROM jti_denylist WHERE jti = ? AND expires_at > ?'),
    bucket: prepare('SELECT tokens, updated_at FROM rate_buckets WHERE key = ?'),
    putBucket: prepare(
      `INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`,
    ),
  };
}

interface QueuedWrite {
  readonly run: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export class SqliteStore implements DurableStore, EphemeralStore {
  readonly db: Database.Database;
  readonly #events = new EventEmitter();
  readonly #stmt: ReturnType<typeof prepareStatements>;
  /** One rotation as a savepoint inside the group-commit transaction. */
  readonly #rotateOne: (input: RotateInput) => RotationResult;
  readonly #takeOne: (
    key: string,
    capacity: number,
    refillPerSec: number,
    now: number,
  ) => {
    allowed: boolean;
    retryAfterSec: number;
  };
  #closed = false;
  /** Writes waiting for the next group commit, in arrival order. */
  readonly #writeQueue: QueuedWrite[] = [];
  #flushScheduled = false;

  constructor(options: SqliteStoreOptions) {
    if (options === null || typeof options !== 'object' || typeof options.path !== 'string' || options.path === '') {
      throw new TypeError('path must be a non-empty string');
    }
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    this.#events.setMaxListeners(0);
    this.#migrateSync();
    this.#stmt = prepareStatements(this.db);
    this.#rotateOne = this.db.transaction((input: RotateInput) => this.#rotateInTransaction(input));
    this.#takeOne = this.db.transaction((key: string, capacity: number, refillPerSec: number, now: number) => {
      const row = this.#stmt.bucket.get(key) as { tokens: number; updated_at: number } | undefined;
      const elapsed = row === undefined ? 0 : Math.max(0, now - row.updated_at);
      const tokens = row === undefined ? capacity : Math.min(capacity, row.tokens + elapsed * refillPerSec);
      if (tokens >= 1) {
        this.#stmt.putBucket.run(key, tokens - 1, now);
        return { allowed: true, retryAfterSec: 0 };
      }
      this.#stmt.putBucket.run(key, tokens, now);
      return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((1 - tokens) / refillPerSec)) };
    });
  }

  #migrateSync(): void {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const applied = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
    );
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      this.db
        .transaction(() => {
          this.db.exec(migration.sql);
          this.db
            .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
            .run(migration.version, migration.name, Math.floor(Date.now() / 1000));
        })
        .immediate();
    }
  }

  async migrate(): Promise<void> {
    this.#migrateSync();
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error('store is closed');
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flushWrites();
    this.#closed = true;
    this.#events.removeAllListeners();
    this.db.close();
  }

  // --- users ---

  async createUser(user: UserRecord): Promise<'created' | 'exists'> {
    return this.#stmt.insertUser.run(user).changes === 1 ? 'created' : 'exists';
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = this.#stmt.userById.get(id) as Row | undefined;
    return row === undefined ? undefined : toUser(row);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = this.#stmt.userByEmail.get(email) as Row | undefined;
    return row === undefined ? undefined : toUser(row);
  }

  async updateUser(id: string, patch: UserPatch, now: number): Promise<UserRecord | undefined> {
    const sets: string[] = ['updated_at = @now'];
    if (patch.status !== undefined) sets.push('status = @status');
    if (patch.passwordHash !== undefined) sets.push('password_hash = @passwordHash');
    if (patch.tokensValidAfter !== undefined)
      sets.push('tokens_valid_after = max(tokens_valid_after, @tokensValidAfter)');
    this.db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = @id`).run({ ...patch, id, now });
    return this.findUserById(id);
  }

  async listUsers(limit: number, offset: number): Promise<UserRecord[]> {
    return (this.#stmt.listUsers.all(limit, offset) as Row[]).map(toUser);
  }

  // --- sessions ---

  async createSession(session: SessionRecord, firstToken: NewRefreshToken): Promise<void> {
    this.db
      .transaction(() => {
        this.#stmt.insertSession.run(session);
        this.#stmt.insertToken.run(firstToken.hash, session.id, session.createdAt, firstToken.expiresAt);
      })
      .immediate();
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.#stmt.sessionById.get(id) as Row | undefined;
    return row === undefined ? undefined : toSession(row);
  }

  async findSessionByRefreshHash(hash: string): Promise<SessionRecord | undefined> {
    const row = this.#stmt.sessionByToken.get(hash) as Row | undefined;
    return row === undefined ? undefined : toSession(row);
  }

  async findRefreshContext(hash: string): Promise<RefreshContext | undefined> {
    const row = this.#stmt.refreshContext.get(hash) as Row | undefined;
    return row === undefined ? undefined : toRefreshContext(row);
  }

  async findRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined> {
    const row = this.#stmt.tokenWithSession.get(hash) as Row | undefined;
    if (row === undefined) return undefined;
    return {
      hash: row.hash as string,
      session: toSession(row),
      createdAt: row.token_created_at as number,
      expiresAt: row.token_expires_at as number,
      rotatedAt: (row.rotated_at as number | null) ?? null,
    };
  }

  async listSessions(userId: string, options: { includeEnded: boolean; now: number }): Promise<SessionRecord[]> {
    const rows = options.includeEnded
      ? this.#stmt.sessionsOfUser.all(userId)
      : this.#stmt.liveSessionsOfUser.all(userId, options.now, options.now);
    return (rows as Row[]).map(toSession);
  }

  async revokeSession(id: string, reason: string, now: number): Promise<boolean> {
    return this.#stmt.revokeSession.run(now, reason, id).changes === 1;
  }

  async revokeUserSessions(userId: string, reason: string, now: number, exceptId?: string): Promise<string[]> {
    return this.db
      .transaction(() => {
        const ids = (this.#stmt.liveSessionIdsOfUser.all(userId) as { id: string }[])
          .map((r) => r.id)
          .filter((id) => id !== exceptId);
        for (const id of ids) this.#stmt.revokeSession.run(now, reason, id);
        return ids;
      })
      .immediate();
  }

  // --- rotation ---

  rotateRefreshToken(input: RotateInput): Promise<RotationResult> {
    return this.#enqueueWrite(() => this.#rotateOne(input));
  }

  /**
   * Group commit. Rotations and audit rows queued during one turn of the event loop run in one
   * `BEGIN IMMEDIATE` transaction, each rotation in its own savepoint, in arrival order; every
   * promise settles only after the commit. Each rotation is still a compare-and-set under the
   * write lock (other processes wait on it), but a burst of N requests pays for one commit
   * instead of N: the commit was the most expensive part of a refresh under load.
   */
  #enqueueWrite<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#writeQueue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flushWrites());
      }
    });
  }

  #flushWrites(): void {
    this.#flushScheduled = false;
    const batch = this.#writeQueue.splice(0);
    if (batch.length === 0) return;
    if (this.#closed) {
      for (const item of batch) item.reject(new Error('store is closed'));
      return;
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.db
        .transaction(() => {
          for (const item of batch) {
            try {
              outcomes.push({ ok: true, value: item.run() });
            } catch (error) {
              // Usually only the item's savepoint (or statement) was rolled back and the others
              // are unaffected. But some errors (SQLITE_FULL, IOERR, NOMEM) make SQLite roll back
              // the whole transaction: the items before were undone too, and the ones after would
              // run outside it, each committing alone. Fail the whole batch instead: nothing of
              // it is committed, and every caller is told so (found by review).
              if (!this.db.inTransaction) throw error;
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i] as (typeof outcomes)[number];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  #rotateInTransaction(input: RotateInput): RotationResult {
    const row = this.#stmt.rotationRow.get(input.presentedHash) as Row | undefined;
    if (row === undefined) return { outcome: 'unknown' };
    const session = toSession(row);
    const now = input.now;
    // A disabled (or deleted) owner gets nothing, whatever the token's state.
    if (session.revokedAt !== null || row.user_status !== 'active') return { outcome: 'revoked', session };
    if (now >= session.absoluteExpiresAt || now >= session.idleExpiresAt) return { outcome: 'expired', session };
    const rotatedAt = row.rotated_at as number | null;
    // A rotated token is checked for reuse before its own expiry: the family may well be alive
    // (each rotation extends it) long after an early token expired, and replaying such a token
    // is exactly what theft looks like.
    if (rotatedAt === null && now >= (row.token_expires_at as number)) return { outcome: 'expired', session };
    if (rotatedAt !== null) {
      const graceResponse = row.grace_response as string | null;
      if (input.graceSec > 0 && now - rotatedAt <= input.graceSec && graceResponse !== null) {
        return { outcome: 'grace', session, graceResponse };
      }
      const revokedNow = this.#stmt.revokeSession.run(now, 'refresh_reuse', session.id).changes === 1;
      return {
        outcome: 'reused',
        session: { ...session, revokedAt: now, revokedReason: 'refresh_reuse' },
        firstUse: {
          at: rotatedAt,
          ip: (row.used_ip as string | null) ?? null,
          userAgent: (row.used_user_agent as string | null) ?? null,
        },
        revokedNow,
      };
    }
    const won = this.#stmt.markRotated.run(
      now,
      input.next.hash,
      input.graceSec > 0 ? input.graceResponse : null,
      input.ip,
      input.userAgent,
      input.presentedHash,
    );
    if (won.changes !== 1) throw new Error('rotation compare-and-set lost inside an immediate transaction');
    const idleExpiresAt = Math.min(now + input.idleSec, session.absoluteExpiresAt);
    this.#stmt.insertToken.run(
      input.next.hash,
      session.id,
      now,
      Math.min(input.next.expiresAt, session.absoluteExpiresAt),
    );
    this.#stmt.touchSession.run(now, idleExpiresAt, session.id);
    if (input.audit !== undefined) this.#stmt.insertAudit.run(...auditValues(input.audit));
    return { outcome: 'rotated', session: { ...session, lastUsedAt: now, idleExpiresAt } };
  }

  // --- keys ---

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return (this.#stmt.listKeys.all() as Row[]).map(toSigningKey);
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    this.#stmt.insertKey.run(key);
  }

  async updateSigningKey(kid: string, patch: SigningKeyPatch, expectedState?: SigningKeyState): Promise<boolean> {
    const columns: Record<keyof SigningKeyPatch, string> = {
      state: 'state',
      activatedAt: 'activated_at',
      retiredAt: 'retired_at',
      expiresAt: 'expires_at',
    };
    const sets = (Object.keys(patch) as (keyof SigningKeyPatch)[])
      .filter((k) => k in columns && patch[k] !== undefined)
      .map((k) => `${columns[k]} = @${k}`);
    if (sets.length === 0) return false;
    const guard = expectedState === undefined ? '' : ' AND state = @expectedState';
    return (
      this.db
        .prepare(`UPDATE signing_keys SET ${sets.join(', ')} WHERE kid = @kid${guard}`)
        .run({ ...patch, kid, ...(expectedState === undefined ? {} : { expectedState }) }).changes === 1
    );
  }

  // --- revocation log ---

  async appendRevocation(event: Omit<RevocationEvent, 'id'>): Promise<RevocationEvent> {
    const info = this.#stmt.insertRevocation.run(event.kind, event.value, event.at, event.expiresAt);
    return { ...event, id: Number(info.lastInsertRowid) };
  }

  async listRevocations(afterId: number, limit: number, now: number): Promise<RevocationEvent[]> {
    return (this.#stmt.listRevocations.all(afterId, now, limit) as Row[]).map(toRevocation);
  }

  // --- audit ---

  /** Audit rows join the group commit (see #enqueueWrite). */
  appendAudit(event: NewAuditEvent): Promise<void> {
    const row = auditValues(event);
    return this.#enqueueWrite(() => {
      this.#stmt.insertAudit.run(...row);
    });
  }

  async listAudit(filter: { userId?: string; sessionId?: string; limit: number }): Promise<AuditEvent[]> {
    this.#flushWrites();
    const rows =
      filter.userId !== undefined
        ? this.#stmt.auditByUser.all(filter.userId, filter.limit)
        : filter.sessionId !== undefined
          ? this.#stmt.auditBySession.all(filter.sessionId, filter.limit)
          : this.#stmt.auditAll.all(filter.limit);
    return (rows as Row[]).map((r) => ({
      id: r.id as number,
      at: r.at as number,
      type: r.type as string,
      userId: (r.user_id as string | null) ?? null,
      sessionId: (r.session_id as string | null) ?? null,
      ip: (r.ip as string | null) ?? null,
      userAgent: (r.user_agent as string | null) ?? null,
      data: JSON.parse(r.data as string) as Record<string, unknown>,
    }));
  }

  // --- clients ---

  async createClient(client: ClientRecord): Promise<'created' | 'exists'> {
    const info = this.db
      .prepare(
        `INSERT INTO clients (id, name, secret_hash, created_at, scopes) VALUES (@id, @name, @secretHash, @createdAt, @scopes)
         ON CONFLICT DO NOTHING`,
      )
      .run(client);
    return info.changes === 1 ? 'created' : 'exists';
  }

  async findClient(id: string): Promise<ClientRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM clients WHERE id = ?').get(id) as Row | undefined;
    return row === undefined ? undefined : toClient(row);
  }

  async listClients(): Promise<ClientRecord[]> {
    return (this.db.prepare('SELECT * FROM clients ORDER BY created_at, id').all() as Row[]).map(toClient);
  }

  async deleteClient(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM clients WHERE id = ?').run(id).changes === 1;
  }

  // --- failure counters ---

  async recordFailure(key: string, now: number, ttlSec: number): Promise<FailureCount> {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT count, last_at FROM failure_counters WHERE key = ?').get(key) as
          | { count: number; last_at: number }
          | undefined;
        const count = row === undefined || now - row.last_at > ttlSec ? 1 : row.count + 1;
        this.db
          .prepare(
            `INSERT INTO failure_counters (key, count, last_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET count = excluded.count, last_at = excluded.last_at`,
          )
          .run(key, count, now);
        return { count, lastAt: now };
      })
      .immediate();
  }

  async getFailures(key: string, now: number, ttlSec: number): Promise<FailureCount> {
    const row = this.db.prepare('SELECT count, last_at FROM failure_counters WHERE key = ?').get(key) as
      | { count: number; last_at: number }
      | undefined;
    if (row === undefined || now - row.last_at > ttlSec) return { count: 0, lastAt: 0 };
    return { count: row.count, lastAt: row.last_at };
  }

  async clearFailures(key: string): Promise<void> {
    this.db.prepare('DELETE FROM failure_counters WHERE key = ?').run(key);
  }

  async purgeExpired(now: number): Promise<number> {
    return this.db
      .transaction(() => {
        let n = 0;
        n += this.db
          .prepare('DELETE FROM sessions WHERE absolute_expires_at <= ? OR idle_expires_at <= ? OR revoked_at <= ?')
          .run(now - 86_400, now - 86_400, now - 86_400).changes;
        n += this.db
          .prepare(
            'UPDATE refresh_tokens SET grace_response = NULL WHERE grace_response IS NOT NULL AND rotated_at <= ?',
          )
          .run(now - 3600).changes;
        n += this.db.prepare('DELETE FROM revocations WHERE expires_at <= ?').run(now).changes;
        n += this.db.prepare('DELETE FROM jti_denylist WHERE expires_at <= ?').run(now).changes;
        n += this.db.prepare('DELETE FROM rate_buckets WHERE updated_at <= ?').run(now - 86_400).changes;
        n += this.db.prepare('DELETE FROM failure_counters WHERE last_at <= ?').run(now - 86_400).changes;
        return n;
      })
      .immediate();
  }

  // --- ephemeral ---

  async denyJti(jti: string, expiresAt: number): Promise<void> {
    this.#stmt.denyJti.run(jti, expiresAt);
  }

  async isJtiDenied(jti: string, now: number): Promise<boolean> {
    return this.#stmt.isDenied.get(jti, now) !== undefined;
  }

  async takeToken(
    key: string,
    capacity: number,
    refillPerSec: number,
    now: number,
  ): Promise<{ allowed: boolean; retryAfterSec: number }> {
    // Joins the group commit (see #enqueueWrite): on every rate-limited request, a transaction
    // of its own cost a fifth of the refresh throughput. Takes on one key within a batch run one
    // after another on this connection, so each sees the one before.
    return this.#enqueueWrite(() => this.#takeOne(key, capacity, refillPerSec, now));
  }

  /**
   * Delivers to every subscriber. One that throws is reported as a process warning and neither
   * starves the others nor fails the revocation that was already stored.
   */
  async publish(event: RevocationEvent): Promise<void> {
    for (const listener of this.#events.listeners('revocation') as ((e: RevocationEvent) => void)[]) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(
          `a revocation subscriber threw: ${error instanceof Error ? error.message : String(error)}`,
          'TesseraWarning',
        );
      }
    }
  }

  subscribe(listener: (event: RevocationEvent) => void): () => void {
    this.#events.on('revocation', listener);
    return () => this.#events.off('revocation', listener);
  }
}

export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
