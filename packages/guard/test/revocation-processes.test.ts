/**
 * Real processes: the auth server and two guard APIs (each a tiny HTTP server using the
 * revocation feed) as child processes, from the BUILT packages (`npm run build`; CI builds
 * before testing). Measures the time from a revoke call until both APIs reject the token, then
 * kills the auth server with SIGKILL, revokes sessions while it is down (another process on the
 * same database, as the CLI would), restarts it on the same port and database, and checks both
 * guards caught up with every event.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RevocationService } from '@tessera/server';
import { SqliteStore } from '@tessera/store-sqlite';
import { afterAll, describe, expect, it } from 'vitest';

const packages = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const REQUIRED = [
  'server/dist/index.js',
  'server/dist/routes/revocations.js',
  'store-sqlite/dist/index.js',
  'guard/dist/revocation-feed.js',
];
const missing = REQUIRED.filter((p) => !existsSync(join(packages, p)));
if (missing.length > 0) {
  console.warn(
    `\n*** revocation-processes.test.ts SKIPPED: the built packages are missing (${missing.join(', ')}). ` +
      'Run `npm run build` first (CI does). ***\n',
  );
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** Spawns a fixture and resolves with the JSON line it prints when ready. */
async function spawnFixture<T>(script: string, args: string[]): Promise<{ child: ChildProcess; info: T }> {
  const child = spawn(process.execPath, [join(fixtures, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const info = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${stderr}`)), 8000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as T);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${stderr}`)));
  });
  return { child, info };
}

const PASSWORD = 'correct horse battery staple';
const CSRF = { 'x-tessera-csrf': '1', 'content-type': 'application/json' };

async function login(auth: string, email: string): Promise<string> {
  const res = await fetch(`${auth}/auth/login`, {
    method: 'POST',
    headers: CSRF,
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

function sidOf(accessToken: string): string {
  return JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString('utf8')).sid;
}

async function check(api: string, accessToken: string): Promise<number> {
  const res = await fetch(`${api}/check`, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.arrayBuffer();
  return res.status;
}

async function untilRejected(apis: string[], tokens: string[], timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const statuses = await Promise.all(apis.flatMap((api) => tokens.map((t) => check(api, t))));
    if (statuses.every((s) => s === 401)) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`not rejected in time: ${statuses.join(',')}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe.skipIf(missing.length > 0)('revocation feed across real processes', () => {
  it('two guard APIs reject a revoked token quickly, and catch up after the auth server is killed and restarted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-guard-procs-'));
    try {
      const masterKey = randomBytes(32).toString('hex');
      let auth = await spawnFixture<{ url: string; client: { id: string; secret: string } }>('auth-server.mjs', [
        dir,
        '0',
        masterKey,
        '--add-client',
      ]);
      const authUrl = auth.info.url;
      const port = new URL(authUrl).port;
      const { id, secret } = auth.info.client;

      const register = await fetch(`${authUrl}/auth/register`, {
        method: 'POST',
        headers: CSRF,
        body: JSON.stringify({ email: 'alice@example.com', password: PASSWORD }),
      });
      expect(register.status).toBe(202);
      const admin = await login(authUrl, 'alice@example.com');

      const guards = await Promise.all([
        spawnFixture<{ url: string }>('guard-api.mjs', [authUrl, id, secret]),
        spawnFixture<{ url: string }>('guard-api.mjs', [authUrl, id, secret]),
      ]);
      const apis = guards.map((g) => g.info.url);

      // Propagation: DELETE a session → both APIs answer 401 for its token.
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const victim = await login(authUrl, 'alice@example.com');
        expect(await Promise.all(apis.map((api) => check(api, victim)))).toEqual([200, 200]);
        const t0 = performance.now();
        const res = await fetch(`${authUrl}/auth/sessions/${sidOf(victim)}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${admin}` },
        });
        expect(res.status).toBe(204);
        await untilRejected(apis, [victim], 2000);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      console.log(
        `revocation feed (processes): DELETE session → both APIs reject: p50 ${times[2]?.toFixed(1)} ms, max ${times[4]?.toFixed(1)} ms`,
      );
      expect(times[4]).toBeLessThan(1000);

      // kill -9 the auth server; revoke while it is down; restart it on the same port and file.
      const pending = [];
      for (let i = 0; i < 6; i++) pending.push(await login(authUrl, 'alice@example.com'));
      auth.child.kill('SIGKILL');
      await new Promise((r) => auth.child.once('exit', r));
      const offline = new SqliteStore({ path: join(dir, 'tessera.sqlite') });
      const revocation = new RevocationService(offline, offline, 630);
      const now = Math.floor(Date.now() / 1000);
      for (const t of pending) expect(await revocation.revokeSession(sidOf(t), 'admin', now)).toBe(true);
      await offline.close();
      expect(await Promise.all(apis.map((api) => check(api, pending[0] as string)))).toEqual([200, 200]);

      const t0 = performance.now();
      auth = await spawnFixture('auth-server.mjs', [dir, port, masterKey]);
      const caughtUp = await untilRejected(apis, pending, 5000);
      console.log(
        `revocation feed (processes): after kill -9 and restart, both APIs caught up with ${pending.length} events ${(performance.now() - t0).toFixed(0)} ms after the restart began (${caughtUp.toFixed(0)} ms after it listened)`,
      );
      // Live again on the restarted server.
      const last = await login(authUrl, 'alice@example.com');
      await fetch(`${authUrl}/auth/sessions/${sidOf(last)}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${admin}` },
      });
      await untilRejected(apis, [last], 2000);
      const stats = await Promise.all(apis.map(async (api) => (await fetch(`${api}/stats`)).json()));
      for (const s of stats as { stalenessSec: number }[]) expect(s.stalenessSec).toBeLessThan(1.5);
    } finally {
      for (const child of children) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
