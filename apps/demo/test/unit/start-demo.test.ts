/**
 * startDemo over real sockets: one origin for pages, auth server and the guarded demo API; the
 * pages' own CSP and caching; the API's scope check; a logout visible at the API at once
 * (pushed revocation). Runs on a stand-in `dist` so it does not need the Vite build.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemo } from '../../server/start-demo.js';
import { PAGE_CSP } from '../../server/static-pages.js';

const PASSWORD = 'correct horse battery staple 42';
let dir: string;
let demo: DemoServer;

function writeDist(root: string): string {
  const dist = join(root, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>demo</title>');
  writeFileSync(join(dist, 'decoder.html'), '<!doctype html><title>decoder</title>');
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1);');
  return dist;
}

async function signIn(email: string): Promise<{ token: string; cookie: string }> {
  const headers = { origin: demo.url, 'content-type': 'application/json', 'x-tessera-csrf': '1' };
  const body = JSON.stringify({ email, password: PASSWORD });
  expect((await fetch(`${demo.url}/auth/register`, { method: 'POST', headers, body })).status).toBe(202);
  const login = await fetch(`${demo.url}/auth/login`, { method: 'POST', headers, body });
  expect(login.status).toBe(200);
  const { access_token: token } = (await login.json()) as { access_token: string };
  return { token, cookie: String(login.headers.get('set-cookie')).split(';')[0] as string };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-demo-test-'));
  demo = await startDemo({
    port: 0,
    databasePath: join(dir, 'tessera.sqlite'),
    distDir: writeDist(dir),
    env: {},
    logLevel: 'silent',
    config: { argon2: { memoryCostKiB: 8192, timeCost: 1 }, rateLimit: { enabled: false } },
  });
});

afterAll(async () => {
  await demo?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('startDemo', () => {
  it('answers on http://localhost:<port>, which is also the issuer', async () => {
    expect(demo.url).toMatch(/^http:\/\/localhost:\d+$/);
    const metadata = await fetch(`${demo.url}/.well-known/oauth-authorization-server`);
    expect(metadata.status).toBe(200);
    expect(((await metadata.json()) as { issuer: string }).issuer).toBe(demo.url);
  });

  it('serves the pages with their own strict CSP, revalidated; hashed assets cached for a year', async () => {
    for (const path of ['/', '/decoder', '/decoder.html']) {
      const page = await fetch(`${demo.url}${path}`);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('content-security-policy')).toBe(PAGE_CSP);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
    }
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).not.toContain('unsafe-inline');
    const asset = await fetch(`${demo.url}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it("keeps the auth server's JSON 404 and its default-src 'none' CSP elsewhere", async () => {
    const missing = await fetch(`${demo.url}/nope.html`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('ERR_NOT_FOUND');
    const jwks = await fetch(`${demo.url}/.well-known/jwks.json`);
    expect(jwks.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
  });

  it('guards /api: 401 without a token, 200 with one, 403 without the reports scope', async () => {
    const anonymous = await fetch(`${demo.url}/api/hello`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect(anonymous.headers.get('cache-control')).toBe('no-store');

    const { token } = await signIn('hello@example.com');
    const hello = await fetch(`${demo.url}/api/hello`, { headers: { authorization: `Bearer ${token}` } });
    expect(hello.status).toBe(200);
    const body = (await hello.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['exp', 'message', 'scope', 'served_at', 'sub']);
    expect(body.scope).toBe('openid profile');

    const reports = await fetch(`${demo.url}/api/reports`, { headers: { authorization: `Bearer ${token}` } });
    expect(reports.status).toBe(403);
    expect(reports.headers.get('www-authenticate')).toContain('insufficient_scope');

    const status = (await (await fetch(`${demo.url}/api/status`)).json()) as {
      revocation_feed: { staleness_sec: number | null } | null;
    };
    expect(status.revocation_feed?.staleness_sec).not.toBeNull();
  });

  it('rejects the access token at the API right after its session logs out (pushed revocation)', async () => {
    const { token, cookie } = await signIn('logout@example.com');
    const auth = { authorization: `Bearer ${token}` };
    expect((await fetch(`${demo.url}/api/hello`, { headers: auth })).status).toBe(200);
    const logout = await fetch(`${demo.url}/auth/logout`, {
      method: 'POST',
      headers: { origin: demo.url, 'x-tessera-csrf': '1', cookie },
    });
    expect(logout.status).toBe(204);
    const deadline = Date.now() + 3_000;
    let answer: Response;
    for (;;) {
      answer = await fetch(`${demo.url}/api/hello`, { headers: auth });
      if (answer.status !== 200 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { code: string }).code).toBe('ERR_TOKEN_REVOKED');
  });

  it('refuses to start without a built app', async () => {
    await expect(
      startDemo({
        port: 0,
        databasePath: join(dir, 'other.sqlite'),
        distDir: join(dir, 'missing'),
        logLevel: 'silent',
      }),
    ).rejects.toThrow(/npm run build/);
  });
});
