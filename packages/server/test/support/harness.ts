/** Test harness: a real server on a real SQLite file in a temp dir, a manual clock, cheap argon2. */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock } from '@tessera/core';
import { type AuthServer, type AuthServerConfigInput, createAuthServer } from '@tessera/server';
import { SqliteStore } from '@tessera/store-sqlite';

export interface Harness {
  readonly server: AuthServer;
  readonly store: SqliteStore;
  readonly clock: ReturnType<typeof createManualClock>;
  readonly dir: string;
  readonly dbPath: string;
  /** The server's own `inject`, without the CSRF header the harness adds (for CSRF tests). */
  readonly rawInject: AuthServer['app']['inject'];
  close(): Promise<void>;
}

export const START = 1_900_000_000;

export interface HarnessOptions {
  /** Reuse a directory (and its database file); it is then not removed on close. */
  readonly dir?: string;
  readonly masterKey?: Buffer;
  /** `TESSERA_*` environment for the server. Default none. */
  readonly env?: NodeJS.ProcessEnv;
  /** Receives the server's pino log lines. */
  readonly logStream?: { write(line: string): void };
}

export async function startHarness(config: AuthServerConfigInput = {}, options: HarnessOptions = {}): Promise<Harness> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tessera-server-'));
  const dbPath = join(dir, 'tessera.sqlite');
  const store = new SqliteStore({ path: dbPath });
  const clock = createManualClock(START);
  const server = await createAuthServer({
    durable: store,
    ephemeral: store,
    clock,
    env: options.env ?? {},
    masterKey: options.masterKey ?? randomBytes(32),
    keyTimer: false,
    ...(options.logStream === undefined ? {} : { logStream: options.logStream }),
    config: {
      environment: 'test',
      argon2: { memoryCostKiB: 8192, timeCost: 1, parallelism: 1 },
      masterKeyFile: join(dir, 'master.key'),
      databasePath: dbPath,
      // Suites that send hundreds of requests from one IP would trip the defaults; the defence
      // tests (defences-*.test.ts) turn them back on with explicit values.
      rateLimit: { enabled: false },
      lockout: { freeAttempts: 100, accountFreeAttempts: 10_000 },
      ...config,
    },
  });
  // The harness plays a legitimate first-party client, which (like @tessera/client) sends the
  // CSRF header on every request; CSRF tests use rawInject to leave it out.
  const app = server.app as unknown as { inject: (opts: unknown) => unknown };
  const rawInject = app.inject.bind(server.app) as AuthServer['app']['inject'];
  app.inject = (opts: unknown) => {
    if (opts === null || typeof opts !== 'object') return (rawInject as (o: unknown) => unknown)(opts);
    const o = opts as { headers?: Record<string, unknown> };
    const headers = { ...(o.headers ?? {}) };
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'x-tessera-csrf')) headers['x-tessera-csrf'] = '1';
    return (rawInject as (o: unknown) => unknown)({ ...o, headers });
  };
  return {
    server,
    store,
    clock,
    dir,
    dbPath,
    rawInject,
    async close() {
      await server.close();
      await store.close();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const PASSWORD = 'correct horse battery staple';

/** Registers and logs in; returns the access token and the raw refresh cookie value. */
export async function signUp(
  h: Harness,
  email = 'alice@example.com',
  password = PASSWORD,
): Promise<{ accessToken: string; refreshToken: string; setCookie: string }> {
  const reg = await h.server.app.inject({ method: 'POST', url: '/auth/register', payload: { email, password } });
  if (reg.statusCode !== 202) throw new Error(`register failed: ${reg.statusCode} ${reg.body}`);
  return logIn(h, email, password);
}

export async function logIn(
  h: Harness,
  email = 'alice@example.com',
  password = PASSWORD,
): Promise<{ accessToken: string; refreshToken: string; setCookie: string }> {
  const res = await h.server.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const setCookie = String(res.headers['set-cookie']);
  return { accessToken: res.json().access_token, refreshToken: cookieValue(setCookie), setCookie };
}

export function cookieValue(setCookie: string): string {
  const match = /__Secure-tessera_rt=([^;]*)/.exec(setCookie) ?? /tessera_rt=([^;]*)/.exec(setCookie);
  if (match === null) throw new Error(`no refresh cookie in ${setCookie}`);
  return decodeURIComponent(match[1] as string);
}

export function refreshWith(h: Harness, refreshToken: string, headers: Record<string, string> = {}) {
  return h.server.app.inject({
    method: 'POST',
    url: '/auth/refresh',
    headers: { cookie: `__Secure-tessera_rt=${refreshToken}`, ...headers },
  });
}

export function whoami(h: Harness, accessToken: string) {
  return h.server.app.inject({
    method: 'GET',
    url: '/auth/whoami',
    headers: { authorization: `Bearer ${accessToken}` },
  });
}

/** A bearer request to one of the server's own endpoints. */
export function withBearer(h: Harness, method: 'GET' | 'POST' | 'DELETE', url: string, accessToken: string) {
  return h.server.app.inject({ method, url, headers: { authorization: `Bearer ${accessToken}` } });
}

/** The session id (`sid`) and other claims of an access token, read without verification. */
export function claimsOf(accessToken: string): { sid: string; sub: string; jti: string; iat: number; exp: number } {
  return JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString('utf8'));
}

/** The Max-Age of a Set-Cookie header, in seconds. */
export function cookieMaxAge(setCookie: string): number {
  const match = /Max-Age=(\d+)/.exec(setCookie);
  if (match === null) throw new Error(`no Max-Age in ${setCookie}`);
  return Number(match[1]);
}

/** True when a Set-Cookie header deletes the refresh cookie. */
export function clearsRefreshCookie(setCookie: unknown): boolean {
  return /^__Secure-tessera_rt=; .*Expires=Thu, 01 Jan 1970/.test(String(setCookie));
}

/**
 * A fingerprint of every table a request could write: any insert, update or delete changes it.
 * Bad requests must leave it unchanged.
 */
export function dbFingerprint(h: Harness): string {
  // A refused request is supposed to leave an audit record of the refusal (csrf.rejected,
  // rate_limit.hit, login.failed) and nothing else: those rows are not counted as "written".
  const tables = [
    'users',
    'sessions',
    'refresh_tokens',
    'revocations',
    'jti_denylist',
    "audit_events WHERE type NOT IN ('csrf.rejected', 'rate_limit.hit', 'login.failed')",
    // Failure counters are how refused attempts are remembered (progressive delays).
    'failure_counters WHERE 0',
    'signing_keys',
  ];
  return JSON.stringify(tables.map((t) => h.store.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()));
}

/** Row counts of the tables that hold accounts and sessions. */
export function rowCounts(h: Harness): { users: number; sessions: number; refreshTokens: number } {
  const count = (table: string) => (h.store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { users: count('users'), sessions: count('sessions'), refreshTokens: count('refresh_tokens') };
}
