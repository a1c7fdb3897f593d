/**
 * Versioned PostgreSQL schema migrations. Each is a function of the quoted schema name, so
 * every object is schema-qualified and nothing depends on the connection's `search_path`.
 * They are applied in order, all pending ones in one transaction under an advisory lock (see
 * `migrateSchema`), and recorded in `<schema>.schema_migrations`. Append new versions; never
 * edit an applied one.
 *
 * Times are whole seconds since the epoch (BIGINT). Identifiers and hashes use the "C"
 * collation, so ordering and equality are bytewise, exactly as in SQLite.
 */

export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  /** The SQL for the given quoted schema identifier. */
  readonly sql: (schema: string) => string;
}

export const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: (s) => `
CREATE TABLE ${s}.users (
  id TEXT COLLATE "C" PRIMARY KEY,
  email TEXT COLLATE "C" NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  tokens_valid_after BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE ${s}.sessions (
  id TEXT COLLATE "C" PRIMARY KEY,
  user_id TEXT COLLATE "C" NOT NULL REFERENCES ${s}.users(id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  auth_time BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  idle_expires_at BIGINT NOT NULL,
  absolute_expires_at BIGINT NOT NULL,
  revoked_at BIGINT,
  revoked_reason TEXT,
  user_agent TEXT,
  ip TEXT
);
CREATE INDEX sessions_by_user ON ${s}.sessions(user_id);

CREATE TABLE ${s}.refresh_tokens (
  hash TEXT COLLATE "C" PRIMARY KEY,
  session_id TEXT COLLATE "C" NOT NULL REFERENCES ${s}.sessions(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  rotated_at BIGINT,
  replaced_by TEXT COLLATE "C",
  grace_response TEXT,
  used_ip TEXT,
  used_user_agent TEXT
);
CREATE INDEX refresh_tokens_by_session ON ${s}.refresh_tokens(session_id);
CREATE INDEX refresh_tokens_graced ON ${s}.refresh_tokens(rotated_at) WHERE grace_response IS NOT NULL;

CREATE TABLE ${s}.signing_keys (
  kid TEXT COLLATE "C" PRIMARY KEY,
  alg TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('next', 'current', 'retiring', 'retired')),
  private_jwk_encrypted TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  activated_at BIGINT,
  retired_at BIGINT,
  expires_at BIGINT
);

-- Revocation ids come from this one-row counter, not a sequence: the UPDATE's row lock is held
-- until commit, so ids are handed out in commit order and a reader paging by id never skips
-- an event that commits late (a sequence value is taken before commit and can).
CREATE TABLE ${s}.revocation_counter (
  singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
  last_id BIGINT NOT NULL
);
INSERT INTO ${s}.revocation_counter (singleton, last_id) VALUES (TRUE, 0);

CREATE TABLE ${s}.revocations (
  id BIGINT PRIMARY KEY,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX revocations_by_expiry ON ${s}.revocations(expires_at);

CREATE TABLE ${s}.audit_events (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  type TEXT NOT NULL,
  user_id TEXT COLLATE "C",
  session_id TEXT COLLATE "C",
  ip TEXT,
  user_agent TEXT,
  data JSONB NOT NULL
);
CREATE INDEX audit_by_user ON ${s}.audit_events(user_id, id);
CREATE INDEX audit_by_session ON ${s}.audit_events(session_id, id);

CREATE TABLE ${s}.clients (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  scopes TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'rotate_refresh_token function',
    // One round trip and no explicit transaction per rotation. The decision is the one
    // PostgresStore made in its own transaction before, statement for statement; in a VOLATILE
    // function under READ COMMITTED each statement takes a fresh snapshot, so the token read
    // after the family lock sees every rotation committed before the lock was granted.
    sql: (s) => `
CREATE FUNCTION ${s}.rotate_refresh_token(
  p_hash TEXT, p_now BIGINT, p_next_hash TEXT, p_grace_response TEXT, p_ip TEXT, p_user_agent TEXT,
  p_next_expires_at BIGINT, p_idle_sec BIGINT, p_grace_sec BIGINT,
  OUT o_outcome TEXT, OUT o_session JSON, OUT o_rotated_at BIGINT, OUT o_grace_response TEXT,
  OUT o_used_ip TEXT, OUT o_used_user_agent TEXT, OUT o_revoked_now BOOLEAN, OUT o_idle_expires_at BIGINT)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_sid TEXT;
  v_revoked BIGINT;
  v_abs BIGINT;
  v_idle BIGINT;
  v_expires BIGINT;
BEGIN
  o_revoked_now := FALSE;
  -- Grace without the lock: a token already rotated, within the window, of a live session is
  -- answered from one snapshot with the stored response, exactly what the locked path below
  -- would answer from the same state. Rotation is final, so only a revocation can commit
  -- concurrently, and the replay is then ordered before it (as under SQLite's write lock).
  IF p_grace_sec > 0 THEN
    SELECT to_json(s), t.rotated_at, t.grace_response, s.revoked_at, s.absolute_expires_at, s.idle_expires_at
      INTO o_session, o_rotated_at, o_grace_response, v_revoked, v_abs, v_idle
      FROM ${s}.refresh_tokens t JOIN ${s}.sessions s ON s.id = t.session_id WHERE t.hash = p_hash;
    IF FOUND AND o_rotated_at IS NOT NULL AND o_grace_response IS NOT NULL AND v_revoked IS NULL
        AND p_now < v_abs AND p_now < v_idle AND p_now - o_rotated_at <= p_grace_sec THEN
      o_outcome := 'grace';
      RETURN;
    END IF;
    o_rotated_at := NULL;
    o_grace_response := NULL;
  END IF;
  -- The family lock: session_id never changes, so the subquery's snapshot cannot be stale.
  SELECT to_json(s), s.id, s.revoked_at, s.absolute_expires_at, s.idle_expires_at
    INTO o_session, v_sid, v_revoked, v_abs, v_idle
    FROM ${s}.sessions s WHERE s.id = (SELECT session_id FROM ${s}.refresh_tokens WHERE hash = p_hash) FOR UPDATE;
  IF NOT FOUND THEN
    o_outcome := 'unknown';
    o_session := NULL;
    RETURN;
  END IF;
  SELECT t.expires_at, t.rotated_at, t.grace_response, t.used_ip, t.used_user_agent
    INTO v_expires, o_rotated_at, o_grace_response, o_used_ip, o_used_user_agent
    FROM ${s}.refresh_tokens t WHERE t.hash = p_hash;
  IF NOT FOUND THEN
    o_outcome := 'unknown';
    o_session := NULL;
    RETURN;
  END IF;
  IF v_revoked IS NOT NULL THEN
    o_outcome := 'revoked';
  ELSIF p_now >= v_abs OR p_now >= v_idle THEN
    o_outcome := 'expired';
  -- A rotated token is checked for reuse before its own expiry (see PostgresStore).
  ELSIF o_rotated_at IS NULL AND p_now >= v_expires THEN
    o_outcome := 'expired';
  ELSIF o_rotated_at IS NOT NULL THEN
    IF p_grace_sec > 0 AND p_now - o_rotated_at <= p_grace_sec AND o_grace_response IS NOT NULL THEN
      o_outcome := 'grace';
    ELSE
      UPDATE ${s}.sessions SET revoked_at = p_now, revoked_reason = 'refresh_reuse'
        WHERE id = v_sid AND revoked_at IS NULL;
      o_revoked_now := FOUND;
      o_outcome := 'reused';
    END IF;
  ELSE
    o_idle_expires_at := LEAST(p_now + p_idle_sec, v_abs);
    UPDATE ${s}.refresh_tokens SET rotated_at = p_now, replaced_by = p_next_hash, grace_response = p_grace_response,
        used_ip = p_ip, used_user_agent = p_user_agent
      WHERE hash = p_hash AND rotated_at IS NULL;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'rotation compare-and-set lost while holding the family lock';
    END IF;
    INSERT INTO ${s}.refresh_tokens (hash, session_id, created_at, expires_at)
      VALUES (p_next_hash, v_sid, p_now, LEAST(p_next_expires_at, v_abs));
    UPDATE ${s}.sessions SET last_used_at = p_now, idle_expires_at = o_idle_expires_at WHERE id = v_sid;
    o_outcome := 'rotated';
  END IF;
  -- Only the grace and reuse outcomes carry the token's use; the others clear it.
  IF o_outcome NOT IN ('grace', 'reused') THEN
    o_rotated_at := NULL;
    o_grace_response := NULL;
    o_used_ip := NULL;
    o_used_user_agent := NULL;
  END IF;
END
$fn$;
`,
  },
  {
    version: 3,
    name: 'rotate_refresh_token_v3 function',
    // Migration 2's decision plus three things, so a refresh needs one round trip when the
    // server already knows the token's session (it issued the token): the owner's status is
    // checked under the family lock (a disabled or missing owner answers 'revoked' and consumes
    // nothing; the server used to read it in a separate statement first), the rotation's audit
    // row is inserted in the same statement (so in the same commit), and the lock-free grace
    // pre-read is skipped when the caller has just seen the token unrotated. The version-2
    // function stays, so instances of the previous release keep working during a rolling
    // upgrade.
    sql: (s) => `
CREATE FUNCTION ${s}.rotate_refresh_token_v3(
  p_hash TEXT, p_now BIGINT, p_next_hash TEXT, p_grace_response TEXT, p_ip TEXT, p_user_agent TEXT,
  p_next_expires_at BIGINT, p_idle_sec BIGINT, p_grace_sec BIGINT, p_seen_unrotated BOOLEAN,
  p_audit_at BIGINT, p_audit_type TEXT, p_audit_user_id TEXT, p_audit_session_id TEXT, p_audit_ip TEXT,
  p_audit_user_agent TEXT, p_audit_data JSONB,
  OUT o_outcome TEXT, OUT o_session JSON, OUT o_rotated_at BIGINT, OUT o_grace_response TEXT,
  OUT o_used_ip TEXT, OUT o_used_user_agent TEXT, OUT o_revoked_now BOOLEAN, OUT o_idle_expires_at BIGINT)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_sid TEXT;
  v_revoked BIGINT;
  v_abs BIGINT;
  v_idle BIGINT;
  v_expires BIGINT;
  v_user_status TEXT;
BEGIN
  o_revoked_now := FALSE;
  -- Grace without the lock: a token already rotated, within the window, of a live session is
  -- answered from one snapshot with the stored response, exactly what the locked path below
  -- would answer from the same state. Rotation is final, so only a revocation can commit
  -- concurrently, and the replay is then ordered before it (as under SQLite's write lock).
  -- Skipped when the caller just read the token unrotated: the pre-read would almost surely
  -- miss, and the locked path below decides the same way whatever happened since.
  IF p_grace_sec > 0 AND NOT p_seen_unrotated THEN
    SELECT to_json(s), t.rotated_at, t.grace_response, s.revoked_at, s.absolute_expires_at, s.idle_expires_at, u.status
      INTO o_session, o_rotated_at, o_grace_response, v_revoked, v_abs, v_idle, v_user_status
      FROM ${s}.refresh_tokens t JOIN ${s}.sessions s ON s.id = t.session_id LEFT JOIN ${s}.users u ON u.id = s.user_id
      WHERE t.hash = p_hash;
    IF FOUND AND o_rotated_at IS NOT NULL AND o_grace_response IS NOT NULL AND v_revoked IS NULL
        AND v_user_status = 'active' AND p_now < v_abs AND p_now < v_idle AND p_now - o_rotated_at <= p_grace_sec THEN
      o_outcome := 'grace';
      RETURN;
    END IF;
    o_rotated_at := NULL;
    o_grace_response := NULL;
  END IF;
  -- The family lock: session_id never changes, so the subquery's snapshot cannot be stale.
  SELECT to_json(s), s.id, s.revoked_at, s.absolute_expires_at, s.idle_expires_at, u.status
    INTO o_session, v_sid, v_revoked, v_abs, v_idle, v_user_status
    FROM ${s}.sessions s LEFT JOIN ${s}.users u ON u.id = s.user_id
    WHERE s.id = (SELECT session_id FROM ${s}.refresh_tokens WHERE hash = p_hash) FOR UPDATE OF s;
  IF NOT FOUND THEN
    o_outcome := 'unknown';
    o_session := NULL;
    RETURN;
  END IF;
  SELECT t.expires_at, t.rotated_at, t.grace_response, t.used_ip, t.used_user_agent
    INTO v_expires, o_rotated_at, o_grace_response, o_used_ip, o_used_user_agent
    FROM ${s}.refresh_tokens t WHERE t.hash = p_hash;
  IF NOT FOUND THEN
    o_outcome := 'unknown';
    o_session := NULL;
    RETURN;
  END IF;
  -- A disabled (or deleted) owner gets nothing, whatever the token's state (checked first, as
  -- the server did before it called the version-2 function).
  IF v_revoked IS NOT NULL OR v_user_status IS DISTINCT FROM 'active' THEN
    o_outcome := 'revoked';
  ELSIF p_now >= v_abs OR p_now >= v_idle THEN
    o_outcome := 'expired';
  -- A rotated token is checked for reuse before its own expiry (see PostgresStore).
  ELSIF o_rotated_at IS NULL AND p_now >= v_expires THEN
    o_outcome := 'expired';
  ELSIF o_rotated_at IS NOT NULL THEN
    IF p_grace_sec > 0 AND p_now - o_rotated_at <= p_grace_sec AND o_grace_response IS NOT NULL THEN
      o_outcome := 'grace';
    ELSE
      UPDATE ${s}.sessions SET revoked_at = p_now, revoked_reason = 'refresh_reuse'
        WHERE id = v_sid AND revoked_at IS NULL;
      o_revoked_now := FOUND;
      o_outcome := 'reused';
    END IF;
  ELSE
    o_idle_expires_at := LEAST(p_now + p_idle_sec, v_abs);
    UPDATE ${s}.refresh_tokens SET rotated_at = p_now, replaced_by = p_next_hash, grace_response = p_grace_response,
        used_ip = p_ip, used_user_agent = p_user_agent
      WHERE hash = p_hash AND rotated_at IS NULL;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'rotation compare-and-set lost while holding the family lock';
    END IF;
    INSERT INTO ${s}.refresh_tokens (hash, session_id, created_at, expires_at)
      VALUES (p_next_hash, v_sid, p_now, LEAST(p_next_expires_at, v_abs));
    UPDATE ${s}.sessions SET last_used_at = p_now, idle_expires_at = o_idle_expires_at WHERE id = v_sid;
    -- The rotation's audit row commits with it, or not at all.
    IF p_audit_type IS NOT NULL THEN
      INSERT INTO ${s}.audit_events (at, type, user_id, session_id, ip, user_agent, data)
        VALUES (p_audit_at, p_audit_type, p_audit_user_id, p_audit_session_id, p_audit_ip, p_audit_user_agent, p_audit_data);
    END IF;
    o_outcome := 'rotated';
  END IF;
  -- Only the grace and reuse outcomes carry the token's use; the others clear it.
  IF o_outcome NOT IN ('grace', 'reused') THEN
    o_rotated_at := NULL;
    o_grace_response := NULL;
    o_used_ip := NULL;
    o_used_user_agent := NULL;
  END IF;
END
$fn$;
`,
  },
];
