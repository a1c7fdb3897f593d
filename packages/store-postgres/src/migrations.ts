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
];
