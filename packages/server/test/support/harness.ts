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
  close(): Promise<void>;
}

export const START = 1_900_000_000;

export async function startHarness(
  config: AuthServerConfigInput = {},
  options: { dir?: string; masterKey?: Buffer } = {},
): Promise<Harness> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tessera-server-'));
  const dbPath = join(dir, 'tessera.sqlite');
  const store = new SqliteStore({ path: dbPath });
  const clock = createManualClock(START);
  const server = await createAuthServer({
    durable: store,
    ephemeral: store,
    clock,
    env: {},
    masterKey: options.masterKey ?? randomBytes(32),
    keyTimer: false,
    config: {
      environment: 'test',
      argon2: { memoryCostKiB: 8192, timeCost: 1, parallelism: 1 },
      masterKeyFile: join(dir, 'master.key'),
      databasePath: dbPath,
      ...config,
    },
  });
  return {
    server,
    store,
    clock,
    dir,
    dbPath,
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
