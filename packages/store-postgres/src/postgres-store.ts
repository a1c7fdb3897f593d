/**
 * PostgresStore: the DurableStore for scale-out mode, on a node-postgres pool shared by every
 * request of this process, with any number of processes on the same database.
 *
 * Concurrency, in one paragraph: every multi-statement operation is one READ COMMITTED
 * transaction. A rotation is one call of the server-side function `rotate_refresh_token_v3`
 * (migration 3): past its unlocked grace check it locks the session row (`SELECT ... FOR
 * UPDATE`), then reads the presented token, so every rotation, reuse check and revocation of one family is
 * serialised on that row across all processes and the outcome is decided exactly as SQLite
 * decides it under its write lock. Revocation ids come from a one-row counter whose row lock
 * is held to commit, so ids are in commit order. All objects are schema-qualified; nothing
 * depends on `search_path`. Fixed statements run as named prepared statements (see #query);
 * behind a transaction-mode pooler use PgBouncer 1.21+ with `max_prepared_statements`, or
 * `preparedStatements: false`.
 */

import { createHash } from 'node:crypto';
import type {
  AuditEvent,
  ClientRecord,
  DurableStore,
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
import pg from 'pg';
import { MIGRATIONS } from './migrations.js';
import {
  auditValues,
  type Row,
  toAudit,
  toClient,
  toRefreshContext,
  toRevocation,
  toSession,
  toSigningKey,
  toUser,
} from './rows.js';
import { isConnectionBroken, StoreUnavailableError, toStoreError } from './store-unavailable.js';

export interface PostgresStoreOptions {
  /** A `postgres://` URL. Give this or `pool` (or both: the URL wins for what it names). */
  readonly connectionString?: string;
  /** node-postgres pool options (host, port, user, password, database, ssl, ...). */
  readonly pool?: pg.PoolConfig;
  /** The schema holding Tessera's tables, created by `migrate()`. Default `tessera`. */
  readonly schema?: string;
  /** Pool size: connections this process opens at most. Default 10. */
  readonly max?: number;
  /** Server-side limit per statement, in milliseconds; 0 disables it. Default 5000. */
  readonly statementTimeoutMs?: number;
  /** How long to wait for a free pooled connection (or a new one), in milliseconds. Default 5000. */
  readonly connectionTimeoutMs?: number;
  /** `application_name` shown in `pg_stat_activity`. Default `tessera`. */
  readonly applicationName?: string;
  /**
   * Run the fixed statements as named prepared statements (parsed and planned once per
   * connection). Default true. Turn off behind a transaction-mode pooler that does not track
   * prepared statements (PgBouncer before 1.21, or `max_prepared_statements = 0`).
   */
  readonly preparedStatements?: boolean;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const INT8_OID = 20;

/** BIGINT as a JS number: times in seconds and row ids are far below 2^53. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** Rows per audit INSERT: 7 parameters each, far below PostgreSQL's 65,535-parameter limit. */
const AUDIT_BATCH_MAX = 500;
/** The seven audit parameters of rotate_refresh_token_v3 when there is no row to insert. */
const NO_AUDIT: readonly null[] = [null, null, null, null, null, null, null];
/** SQLSTATE 0A000 "cached plan must not change result type": a table changed under a prepared statement. */
const FEATURE_NOT_SUPPORTED = '0A000';
/**
 * SQLSTATE 26000 (no such prepared statement) and 42P05 (it already exists): the connection is
 * not the one node-postgres prepared on, as behind a pooler that does not track statements.
 */
const PREPARED_MISMATCH = new Set(['26000', '42P05']);

function checkMs(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw new TypeError(`${name} must be an integer >= ${min}`);
  return value;
}

function buildSql(s: string) {
  return {
    insertUser: `INSERT INTO ${s}.users (id, email, password_hash, status, created_at, updated_at, tokens_valid_after)
      VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    userById: `SELECT * FROM ${s}.users WHERE id = $1`,
    userByEmail: `SELECT * FROM ${s}.users WHERE email = $1`,
    listUsers: `SELECT * FROM ${s}.users ORDER BY created_at, id LIMIT $1 OFFSET $2`,
    insertSession: `INSERT INTO ${s}.sessions (id, user_id, client_id, scope, auth_time, created_at, last_used_at,
        idle_expires_at, absolute_expires_at, revoked_at, revoked_reason, user_agent, ip)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    insertToken: `INSERT INTO ${s}.refresh_tokens (hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
    sessionById: `SELECT * FROM ${s}.sessions WHERE id = $1`,
    sessionByToken: `SELECT s.* FROM ${s}.refresh_tokens t JOIN ${s}.sessions s ON s.id = t.session_id WHERE t.hash = $1`,
    refreshContext: `SELECT s.*, t.rotated_at AS token_rotated_at, u.status AS user_status
      FROM ${s}.refresh_tokens t JOIN ${s}.sessions s ON s.id = t.session_id LEFT JOIN ${s}.users u ON u.id = s.user_id
      WHERE t.hash = $1`,
    tokenWithSession: `SELECT t.hash, t.created_at AS token_created_at, t.expires_at AS token_expires_at, t.rotated_at, s.*
      FROM ${s}.refresh_tokens t JOIN ${s}.sessions s ON s.id = t.session_id WHERE t.hash = $1`,
    sessionsOfUser: `SELECT * FROM ${s}.sessions WHERE user_id = $1 ORDER BY created_at DESC, id`,
    liveSessionsOfUser: `SELECT * FROM ${s}.sessions WHERE user_id = $1 AND revoked_at IS NULL
      AND idle_expires_at > $2 AND absolute_expires_at > $2 ORDER BY created_at DESC, id`,
    revokeSession: `UPDATE ${s}.sessions SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL`,
    revokeUserSessions: `UPDATE ${s}.sessions SET revoked_at = $1, revoked_reason = $2
      WHERE user_id = $3 AND revoked_at IS NULL AND id IS DISTINCT FROM $4 RETURNING id`,
    // The whole rotation decision and its audit row, server-side (migration 3).
    rotate: `SELECT * FROM ${s}.rotate_refresh_token_v3($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
      $11, $12, $13, $14, $15, $16, $17::jsonb)`,
    listKeys: `SELECT * FROM ${s}.signing_keys ORDER BY created_at, kid`,
    insertKey: `INSERT INTO ${s}.signing_keys (kid, alg, state, private_jwk_encrypted, public_jwk, created_at,
        activated_at, retired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    appendRevocation: `WITH next AS (
        UPDATE ${s}.revocation_counter SET last_id = last_id + 1 WHERE singleton RETURNING last_id
      )
      INSERT INTO ${s}.revocations (id, kind, value, at, expires_at)
      SELECT last_id, $1, $2, $3, $4 FROM next RETURNING id`,
    listRevocations: `SELECT * FROM ${s}.revocations WHERE id > $1 AND expires_at > $2 ORDER BY id LIMIT $3`,
    insertAuditBatch: `INSERT INTO ${s}.audit_events (at, type, user_id, session_id, ip, user_agent, data) VALUES `,
    auditByUser: `SELECT * FROM ${s}.audit_events WHERE user_id = $1 ORDER BY id DESC LIMIT $2`,
    auditBySession: `SELECT * FROM ${s}.audit_events WHERE session_id = $1 ORDER BY id DESC LIMIT $2`,
    auditAll: `SELECT * FROM ${s}.audit_events ORDER BY id DESC LIMIT $1`,
    insertClient: `INSERT INTO ${s}.clients (id, name, secret_hash, created_at, scopes) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT DO NOTHING`,
    clientById: `SELECT * FROM ${s}.clients WHERE id = $1`,
    listClients: `SELECT * FROM ${s}.clients ORDER BY created_at, id`,
    deleteClient: `DELETE FROM ${s}.clients WHERE id = $1`,
    purgeSessions: `DELETE FROM ${s}.sessions
      WHERE absolute_expires_at <= $1 OR idle_expires_at <= $1 OR revoked_at <= $1`,
    purgeGrace: `UPDATE ${s}.refresh_tokens SET grace_response = NULL
      WHERE grace_response IS NOT NULL AND rotated_at <= $1`,
    purgeRevocations: `DELETE FROM ${s}.revocations WHERE expires_at <= $1`,
  };
}

export class PostgresStore implements DurableStore {
  /** The schema holding the tables, as given (unquoted). */
  readonly schema: string;
  readonly #pool: pg.Pool;
  readonly #quotedSchema: string;
  readonly #sql: ReturnType<typeof buildSql>;
  /** Statement text to prepared-statement name (see #query). */
  readonly #statementNames: Map<string, string>;
  #statementGeneration = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** The first connection error each client reported, while checked out or idle. */
  readonly #lost = new WeakMap<pg.Client, Error>();
  /** Audit rows waiting for the next batch insert (see appendAudit). */
  readonly #auditQueue: { event: NewAuditEvent; resolve: () => void; reject: (error: unknown) => void }[] = [];
  #auditFlushing = false;

  constructor(options: PostgresStoreOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const { connectionString, pool } = options;
    if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === ''))
      throw new TypeError('connectionString must be a non-empty string');
    if (pool !== undefined && (pool === null || typeof pool !== 'object'))
      throw new TypeError('pool must be an object');
    if (connectionString === undefined && pool === undefined)
      throw new TypeError('give connectionString or pool options');
    const schema = options.schema ?? 'tessera';
    if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema))
      throw new TypeError('schema must be 1-63 characters: letters, digits and underscores, not starting with a digit');
    const max = checkMs('max', options.max, pool?.max ?? 10, 1);
    const statementTimeoutMs = checkMs('statementTimeoutMs', options.statementTimeoutMs, 5000, 0);
    const connectionTimeoutMs = checkMs('connectionTimeoutMs', options.connectionTimeoutMs, 5000, 1);
    const applicationName = options.applicationName ?? 'tessera';
    if (typeof applicationName !== 'string' || applicationName.length > 63)
      throw new TypeError('applicationName must be a string of at most 63 characters');

    this.schema = schema;
    this.#quotedSchema = `"${schema}"`;
    this.#sql = buildSql(this.#quotedSchema);
    // The name is a digest of the text, which names the schema: the same name always means the
    // same statement, across schemas, deployments sharing a pooler, and releases.
    this.#statementNames =
      options.preparedStatements === false
        ? new Map()
        : new Map(
            Object.values(this.#sql).map((text) => [
              text,
              `tessera_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`,
            ]),
          );
    this.#pool = new pg.Pool({
      ...pool,
      ...(connectionString === undefined ? {} : { connectionString }),
      max,
      connectionTimeoutMillis: connectionTimeoutMs,
      application_name: applicationName,
      // A transaction left open by a crashed request must not hold a family lock for long.
      idle_in_transaction_session_timeout: pool?.idle_in_transaction_session_timeout ?? 60_000,
      types: TYPES,
      ...(statementTimeoutMs === 0 ? {} : { statement_timeout: statementTimeoutMs }),
    });
    // An idle client losing its connection (server restart, failover) is reported here; without
    // a listener it would crash the process. The pool drops that client and the next query
    // opens a new connection or fails with StoreUnavailableError.
    this.#pool.on('error', () => {});
    // A checked-out client can lose its connection too: a FATAL (57P01 on a restart) that
    // arrives while no statement of it is in flight, e.g. between two statements of a
    // transaction, is an 'error' event on the client itself, which the pool does not listen to
    // while the client is out. Every client gets a listener for its whole life; the error is
    // kept so the transaction holding the client fails with it (StoreUnavailableError) and the
    // pool destroys the client (it is no longer queryable) instead of reusing it.
    this.#pool.on('connect', (client) => {
      client.on('error', (error: Error) => {
        if (!this.#lost.has(client)) this.#lost.set(client, error);
      });
    });
  }

  // --- plumbing ---

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError('closed');
  }

  /**
   * Runs one statement. The fixed statements of {@link buildSql} run as named prepared
   * statements: each connection parses and plans them once, not on every call, which was a
   * fifth of PostgreSQL's time per refresh. Other texts (dynamic updates, audit batches) run
   * unnamed. A migration that changes a table under a prepared `SELECT *` makes PostgreSQL
   * refuse the old plan (0A000); the names then move to a new generation, which every
   * connection prepares afresh, and the statement is retried once.
   */
  async #query(text: string, values: unknown[] = [], unnamed = false): Promise<pg.QueryResult<Row>> {
    this.#assertOpen();
    const name = unnamed ? undefined : this.#statementNames.get(text);
    const generation = this.#statementGeneration;
    try {
      if (name === undefined) return await this.#pool.query<Row>(text, values);
      return await this.#pool.query<Row>({ name: `${name}_${generation}`, text, values });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (name !== undefined && code === FEATURE_NOT_SUPPORTED) {
        // Only the first of many concurrent failures moves the names on.
        if (generation === this.#statementGeneration) this.#statementGeneration++;
        return this.#queryNamedAgain(text, values);
      }
      // A pooler handed us a connection that does not hold (or already holds) the statement:
      // this call runs unnamed, and the next tries the name again.
      if (name !== undefined && typeof code === 'string' && PREPARED_MISMATCH.has(code)) {
        return this.#query(text, values, true);
      }
      throw toStoreError(error);
    }
  }

  /** The retry after 0A000: once, under the new generation's name. */
  async #queryNamedAgain(text: string, values: unknown[]): Promise<pg.QueryResult<Row>> {
    const name = this.#statementNames.get(text) as string;
    try {
      return await this.#pool.query<Row>({ name: `${name}_${this.#statementGeneration}`, text, values });
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** Runs `work` in one READ COMMITTED transaction on one pooled connection. */
  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.#assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw toStoreError(error);
    }
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      // Lost after COMMIT's answer: committed; the pool drops the client (not queryable).
      client.release();
      return result;
    } catch (failure) {
      // A statement that failed because the connection was lost reports a secondary error
      // ("not queryable"); the connection's own error says why (57P01: server_unavailable).
      const error = this.#lost.get(client) ?? failure;
      let broken = this.#lost.has(client) || isConnectionBroken(error);
      if (!broken) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      // A broken connection is destroyed, never handed to the next request mid-transaction.
      client.release(broken ? (error instanceof Error ? error : true) : undefined);
      throw toStoreError(error);
    }
  }

  // --- lifecycle ---

  /**
   * Applies pending migrations in one transaction. The transaction-scoped advisory lock (keyed
   * by schema) makes instances that start together queue up: the first migrates, the others
   * then find nothing pending. No statement timeout applies while migrating.
   */
  async migrate(): Promise<void> {
    const s = this.#quotedSchema;
    await this.#transaction(async (client) => {
      await client.query('SET LOCAL statement_timeout = 0');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`tessera.migrate:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
      );
      const applied = new Set(
        (await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`)).rows.map(
          (r) => r.version,
        ),
      );
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql(s));
        await client.query(`INSERT INTO ${s}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [
          migration.version,
          migration.name,
          Math.floor(Date.now() / 1000),
        ]);
      }
    });
  }

  async ping(): Promise<void> {
    await this.#query('SELECT 1');
  }

  /** Ends the pool after in-flight queries finish; idempotent. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#closing = this.#pool.end().catch(() => {});
    }
    return this.#closing;
  }

  // --- users ---

  async createUser(user: UserRecord): Promise<'created' | 'exists'> {
    const result = await this.#query(this.#sql.insertUser, [
      user.id,
      user.email,
      user.passwordHash,
      user.status,
      user.createdAt,
      user.updatedAt,
      user.tokensValidAfter,
    ]);
    return result.rowCount === 1 ? 'created' : 'exists';
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = (await this.#query(this.#sql.userById, [id])).rows[0];
    return row === undefined ? undefined : toUser(row);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = (await this.#query(this.#sql.userByEmail, [email])).rows[0];
    return row === undefined ? undefined : toUser(row);
  }

  async updateUser(id: string, patch: UserPatch, now: number): Promise<UserRecord | undefined> {
    const values: unknown[] = [id, now];
    const sets = ['updated_at = $2'];
    if (patch.status !== undefined) sets.push(`status = $${values.push(patch.status)}`);
    if (patch.passwordHash !== undefined) sets.push(`password_hash = $${values.push(patch.passwordHash)}`);
    if (patch.tokensValidAfter !== undefined)
      sets.push(`tokens_valid_after = GREATEST(tokens_valid_after, $${values.push(patch.tokensValidAfter)})`);
    const sql = `UPDATE ${this.#quotedSchema}.users SET ${sets.join(', ')} WHERE id = $1 RETURNING *`;
    const row = (await this.#query(sql, values)).rows[0];
    return row === undefined ? undefined : toUser(row);
  }

  async listUsers(limit: number, offset: number): Promise<UserRecord[]> {
    return (await this.#query(this.#sql.listUsers, [limit, offset])).rows.map(toUser);
  }

  // --- sessions ---

  async createSession(session: SessionRecord, firstToken: NewRefreshToken): Promise<void> {
    await this.#transaction(async (client) => {
      await client.query(this.#sql.insertSession, [
        session.id,
        session.userId,
        session.clientId,
        session.scope,
        session.authTime,
        session.createdAt,
        session.lastUsedAt,
        session.idleExpiresAt,
        session.absoluteExpiresAt,
        session.revokedAt,
        session.revokedReason,
        session.userAgent,
        session.ip,
      ]);
      await client.query(this.#sql.insertToken, [firstToken.hash, session.id, session.createdAt, firstToken.expiresAt]);
    });
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = (await this.#query(this.#sql.sessionById, [id])).rows[0];
    return row === undefined ? undefined : toSession(row);
  }

  async findSessionByRefreshHash(hash: string): Promise<SessionRecord | undefined> {
    const row = (await this.#query(this.#sql.sessionByToken, [hash])).rows[0];
    return row === undefined ? undefined : toSession(row);
  }

  async findRefreshContext(hash: string): Promise<RefreshContext | undefined> {
    const row = (await this.#query(this.#sql.refreshContext, [hash])).rows[0];
    return row === undefined ? undefined : toRefreshContext(row);
  }

  async findRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined> {
    const row = (await this.#query(this.#sql.tokenWithSession, [hash])).rows[0];
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
    const result = options.includeEnded
      ? await this.#query(this.#sql.sessionsOfUser, [userId])
      : await this.#query(this.#sql.liveSessionsOfUser, [userId, options.now]);
    return result.rows.map(toSession);
  }

  async revokeSession(id: string, reason: string, now: number): Promise<boolean> {
    return (await this.#query(this.#sql.revokeSession, [now, reason, id])).rowCount === 1;
  }

  async revokeUserSessions(userId: string, reason: string, now: number, exceptId?: string): Promise<string[]> {
    const result = await this.#query(this.#sql.revokeUserSessions, [now, reason, userId, exceptId ?? null]);
    return result.rows.map((r) => r.id as string);
  }

  // --- rotation ---

  /**
   * One statement, `rotate_refresh_token` (migration 2), in its own implicit transaction: one
   * round trip instead of BEGIN, lock, read, compare-and-set, COMMIT. A token already rotated
   * within the grace window of a live session is answered from an unlocked read with the
   * stored response, so a storm of replays of one token never queues on the family lock.
   * Otherwise it locks the family's session row, then reads the presented token: concurrent
   * presentations of one token (from any process) queue on the lock; the first finds it
   * unrotated and wins, each later one reads the winner's committed state and gets `grace`
   * (within the window, replaying the winner's sealed response) or `reused`. The decision
   * order is SQLite's, step for step, so outcomes are identical.
   */
  async rotateRefreshToken(input: RotateInput): Promise<RotationResult> {
    const row = (
      await this.#query(this.#sql.rotate, [
        input.presentedHash,
        input.now,
        input.next.hash,
        input.graceSec > 0 ? input.graceResponse : null,
        input.ip,
        input.userAgent,
        input.next.expiresAt,
        input.idleSec,
        input.graceSec,
        input.seenUnrotated === true,
        ...(input.audit === undefined ? NO_AUDIT : auditValues(input.audit)),
      ])
    ).rows[0];
    const outcome = row?.o_outcome as RotationResult['outcome'] | undefined;
    if (row === undefined || outcome === undefined) throw new Error('rotate_refresh_token returned no outcome');
    if (outcome === 'unknown') return { outcome };
    const session = toSession(row.o_session as Row);
    const now = input.now;
    switch (outcome) {
      case 'revoked':
      case 'expired':
        return { outcome, session };
      case 'grace':
        return { outcome, session, graceResponse: row.o_grace_response as string };
      case 'reused':
        return {
          outcome,
          session: { ...session, revokedAt: now, revokedReason: 'refresh_reuse' },
          firstUse: {
            at: row.o_rotated_at as number,
            ip: (row.o_used_ip as string | null) ?? null,
            userAgent: (row.o_used_user_agent as string | null) ?? null,
          },
          revokedNow: row.o_revoked_now === true,
        };
      case 'rotated':
        return {
          outcome,
          session: { ...session, lastUsedAt: now, idleExpiresAt: row.o_idle_expires_at as number },
        };
      default:
        throw new Error(`rotate_refresh_token returned an unknown outcome ${String(outcome)}`);
    }
  }

  // --- keys ---

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return (await this.#query(this.#sql.listKeys)).rows.map(toSigningKey);
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.#query(this.#sql.insertKey, [
      key.kid,
      key.alg,
      key.state,
      key.privateJwkEncrypted,
      key.publicJwk,
      key.createdAt,
      key.activatedAt,
      key.retiredAt,
      key.expiresAt,
    ]);
  }

  async updateSigningKey(kid: string, patch: SigningKeyPatch, expectedState?: SigningKeyState): Promise<boolean> {
    const columns: Record<keyof SigningKeyPatch, string> = {
      state: 'state',
      activatedAt: 'activated_at',
      retiredAt: 'retired_at',
      expiresAt: 'expires_at',
    };
    const values: unknown[] = [kid];
    const sets = (Object.keys(columns) as (keyof SigningKeyPatch)[])
      .filter((k) => patch[k] !== undefined)
      .map((k) => `${columns[k]} = $${values.push(patch[k])}`);
    if (sets.length === 0) return false;
    const guard = expectedState === undefined ? '' : ` AND state = $${values.push(expectedState)}`;
    const result = await this.#query(
      `UPDATE ${this.#quotedSchema}.signing_keys SET ${sets.join(', ')} WHERE kid = $1${guard}`,
      values,
    );
    return result.rowCount === 1;
  }

  // --- revocation log ---

  /** One statement: the counter row's lock, held to commit, orders ids by commit. */
  async appendRevocation(event: Omit<RevocationEvent, 'id'>): Promise<RevocationEvent> {
    const result = await this.#query(this.#sql.appendRevocation, [event.kind, event.value, event.at, event.expiresAt]);
    const row = result.rows[0];
    if (row === undefined) throw new Error(`the revocation counter row is missing in schema ${this.schema}`);
    return { ...event, id: row.id as number };
  }

  async listRevocations(afterId: number, limit: number, now: number): Promise<RevocationEvent[]> {
    return (await this.#query(this.#sql.listRevocations, [afterId, now, limit])).rows.map(toRevocation);
  }

  // --- audit ---

  /**
   * Audit rows are batched like the SQLite store's group commit: while one multi-row INSERT is
   * in flight, new rows queue, and the next INSERT takes them all (up to AUDIT_BATCH_MAX). A
   * caller still resolves only once its row is committed, so nothing is acknowledged before it
   * is durable; under load one commit (one WAL flush) serves many refreshes instead of one each.
   */
  appendAudit(event: NewAuditEvent): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError('closed'));
    return new Promise<void>((resolve, reject) => {
      this.#auditQueue.push({ event, resolve, reject });
      if (!this.#auditFlushing) void this.#flushAudit();
    });
  }

  async #flushAudit(): Promise<void> {
    this.#auditFlushing = true;
    try {
      while (this.#auditQueue.length > 0) {
        const batch = this.#auditQueue.splice(0, AUDIT_BATCH_MAX);
        const values: unknown[] = [];
        const rows: string[] = [];
        for (const { event } of batch) {
          const b = values.length;
          rows.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}::jsonb)`);
          values.push(...auditValues(event));
        }
        try {
          await this.#query(`${this.#sql.insertAuditBatch}${rows.join(', ')}`, values);
          for (const item of batch) item.resolve();
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
      }
    } finally {
      this.#auditFlushing = false;
    }
  }

  async listAudit(filter: { userId?: string; sessionId?: string; limit: number }): Promise<AuditEvent[]> {
    const result =
      filter.userId !== undefined
        ? await this.#query(this.#sql.auditByUser, [filter.userId, filter.limit])
        : filter.sessionId !== undefined
          ? await this.#query(this.#sql.auditBySession, [filter.sessionId, filter.limit])
          : await this.#query(this.#sql.auditAll, [filter.limit]);
    return result.rows.map(toAudit);
  }

  // --- clients ---

  async createClient(client: ClientRecord): Promise<'created' | 'exists'> {
    const result = await this.#query(this.#sql.insertClient, [
      client.id,
      client.name,
      client.secretHash,
      client.createdAt,
      client.scopes,
    ]);
    return result.rowCount === 1 ? 'created' : 'exists';
  }

  async findClient(id: string): Promise<ClientRecord | undefined> {
    const row = (await this.#query(this.#sql.clientById, [id])).rows[0];
    return row === undefined ? undefined : toClient(row);
  }

  async listClients(): Promise<ClientRecord[]> {
    return (await this.#query(this.#sql.listClients)).rows.map(toClient);
  }

  async deleteClient(id: string): Promise<boolean> {
    return (await this.#query(this.#sql.deleteClient, [id])).rowCount === 1;
  }

  // --- housekeeping ---

  /** The same cutoffs as SQLite: ended sessions after a day, grace replays after an hour. */
  purgeExpired(now: number): Promise<number> {
    return this.#transaction(async (client) => {
      let n = 0;
      n += (await client.query(this.#sql.purgeSessions, [now - 86_400])).rowCount ?? 0;
      n += (await client.query(this.#sql.purgeGrace, [now - 3600])).rowCount ?? 0;
      n += (await client.query(this.#sql.purgeRevocations, [now])).rowCount ?? 0;
      return n;
    });
  }
}
