/**
 * The examples (examples/{fastify,express,hono}-api/server.mjs) as child processes against a real
 * in-process auth server: open route, RFC 6750 challenge, verified claims, insufficient scope,
 * and (with a `revocations` client) a logout seen through the pushed revocation feed. The
 * examples import the BUILT guard (`@tessera/guard` resolves to packages/guard/dist), so this
 * test is skipped, loudly, without `npm run build` (CI builds before testing).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AdminService } from '@tessera/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, signUp, startHarness } from '../../server/test/support/harness.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const built = existsSync(join(root, 'packages/guard/dist/index.js'));
if (!built) {
  console.warn(
    '\n*** examples.test.ts SKIPPED: packages/guard/dist/index.js is missing (the examples import the built ' +
      'guard). Run `npm run build` first (CI does). ***\n',
  );
}

const EXAMPLES = ['fastify-api', 'express-api', 'hono-api'] as const;
const ISSUER = 'http://localhost:8080';

const children = new Set<ChildProcess>();
let h: Harness;
let base: string;
let client: { id: string; secret: string };

/** Starts an example on a free port; resolves with its URL once it prints that it listens. */
async function startExample(name: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(root, 'examples', name, 'server.mjs')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 8000);
    lines.on('line', (line) => {
      output += `${line}\n`;
      const match = / listening on (http:\/\/\S+)/.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${output}`));
    });
  });
  return { url, child };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  if (!built) return;
  h = await startHarness({ port: 0, revocationHeartbeatSec: 1 });
  // The harness clock starts in 2030; the examples run on the system clock.
  h.clock.set(Math.floor(Date.now() / 1000));
  base = (await h.server.listen()).replace('[::1]', '127.0.0.1');
  const added = await new AdminService(h.server.context).addClient('examples', { scopes: 'revocations' });
  if (added.status !== 'created') throw new Error('could not add the revocations client');
  client = { id: added.created.client.id, secret: added.created.secret };
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await h?.close();
});

async function get(url: string, token?: string): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

describe.skipIf(!built)('examples against a real auth server', () => {
  for (const name of EXAMPLES) {
    it(`${name}: /public, /me and /orders`, async () => {
      const { url, child } = await startExample(name, {
        TESSERA_ISSUER: ISSUER,
        TESSERA_AUDIENCE: 'tessera-api',
        TESSERA_JWKS_URI: `${base}/.well-known/jwks.json`,
      });
      try {
        const open = await get(`${url}/public`);
        expect(open.status).toBe(200);
        expect(open.body).toMatchObject({ revocationFeed: null });

        const anonymous = await get(`${url}/me`);
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
        expect(anonymous.body).toMatchObject({ code: 'ERR_UNAUTHENTICATED' });

        const { accessToken } = await signUp(h, `${name}@example.com`);
        const me = await get(`${url}/me`, accessToken);
        expect(me.status).toBe(200);
        expect(me.body).toMatchObject({ iss: ISSUER, aud: 'tessera-api', scope: 'openid profile' });
        expect(typeof (me.body as { sub: unknown }).sub).toBe('string');

        const orders = await get(`${url}/orders`, accessToken);
        expect(orders.status).toBe(403);
        expect(orders.body).toMatchObject({ error: 'insufficient_scope', code: 'ERR_INSUFFICIENT_SCOPE' });
        expect(orders.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
        expect(orders.headers.get('www-authenticate')).toContain('scope="orders:read"');

        const garbage = await get(`${url}/me`, 'not-a-jwt');
        expect(garbage.status).toBe(400);
      } finally {
        await stop(child);
      }
    });
  }

  for (const name of EXAMPLES) {
    it(`${name} with TESSERA_CLIENT_ID/SECRET: a logout on the auth server makes /me answer 401 at once`, async () => {
      const { url, child } = await startExample(name, {
        TESSERA_ISSUER: ISSUER,
        TESSERA_AUTH_URL: base,
        TESSERA_CLIENT_ID: client.id,
        TESSERA_CLIENT_SECRET: client.secret,
      });
      try {
        const { accessToken } = await signUp(h, `revoked-${name}@example.com`);
        // Fail-closed: 503 until the first snapshot is loaded, then 200.
        const deadline = Date.now() + 5000;
        let me = await get(`${url}/me`, accessToken);
        while (me.status === 503 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
          me = await get(`${url}/me`, accessToken);
        }
        expect(me.status).toBe(200);
        expect((await get(`${url}/public`)).body).toMatchObject({
          revocationFeed: { stalenessSec: expect.any(Number) },
        });

        const logout = await fetch(`${base}/auth/logout`, {
          method: 'POST',
          headers: { authorization: `Bearer ${accessToken}`, 'x-tessera-csrf': '1' },
        });
        expect(logout.status).toBe(204);
        let after = await get(`${url}/me`, accessToken);
        while (after.status === 200 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
          after = await get(`${url}/me`, accessToken);
        }
        expect(after.status).toBe(401);
        expect(after.body).toMatchObject({ error: 'invalid_token', code: 'ERR_TOKEN_REVOKED' });
      } finally {
        await stop(child);
      }
    });
  }

  it('refuses half a client configuration', async () => {
    await expect(startExample('fastify-api', { TESSERA_CLIENT_ID: 'only-the-id' })).rejects.toThrow(
      /set both TESSERA_CLIENT_ID and TESSERA_CLIENT_SECRET/,
    );
  });
});
