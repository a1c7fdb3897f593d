/**
 * Security review of the demo server (startDemo): what it serves, with which headers, and the
 * demo API's guard. `it.fails(...)` = a reproduced defect (flip to `it(...)` once fixed).
 * Plain `it(...)` = checked and found sound.
 */

import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemo } from '../../server/start-demo.js';
import { PAGE_CSP } from '../../server/static-pages.js';

const PASSWORD = 'correct horse battery staple 42';
const SECRET_MARKER = 'do-not-serve-this-4b1d';
let dir: string;
let demo: DemoServer;

function writeDist(root: string): string {
  const dist = join(root, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>demo</title>');
  writeFileSync(join(dist, 'decoder.html'), '<!doctype html><title>decoder</title>');
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1);');
  // Next to dist: must never be reachable.
  writeFileSync(join(root, 'outside.txt'), SECRET_MARKER);
  return dist;
}

/** A raw request, so the path reaches the server exactly as written (fetch would normalise `..`). */
function rawGet(
  base: string,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-demo-review-'));
  demo = await startDemo({
    port: 0,
    databasePath: join(dir, 'db', 'tessera.sqlite'),
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

describe('static files', () => {
  it('serves nothing outside the built files (path traversal in its spellings)', async () => {
    const attempts = [
      '/../outside.txt',
      '/assets/../../outside.txt',
      '/%2e%2e/outside.txt',
      '/assets/%2e%2e/%2e%2e/outside.txt',
      '/..%2foutside.txt',
      '/assets/..%2f..%2foutside.txt',
      '/assets/..%5c..%5coutside.txt',
      '/assets/%252e%252e/outside.txt',
      '//outside.txt',
      '/assets//../../outside.txt',
      '/db/master.key',
      '/db/tessera.sqlite',
      '/assets/',
      '/assets',
    ];
    for (const path of attempts) {
      const res = await rawGet(demo.url, path);
      expect(res.body, path).not.toContain(SECRET_MARKER);
      expect(res.status, path).not.toBe(200);
      // No stack trace or file system path in any error body.
      expect(res.body, path).not.toMatch(/\n\s+at |\/tmp\/|node_modules/);
    }
  });

  it('gives every page and asset the page CSP and the security headers; unknown assets a JSON 404', async () => {
    for (const path of ['/', '/index.html', '/decoder', '/decoder.html', '/favicon.svg', '/assets/index-abc123.js']) {
      const res = await fetch(`${demo.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy'), path).toBe(PAGE_CSP);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('cache-control'), path).toBe(
        path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    }
    const missing = await fetch(`${demo.url}/assets/missing-000.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/json');
    expect(missing.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    // No open redirect from the static layer.
    const slashy = await fetch(`${demo.url}//evil.example/`, { redirect: 'manual' });
    expect(slashy.headers.get('location')).toBeNull();
  });
});

describe('the demo API', () => {
  it('answers an unknown /api path with a JSON 404 and Cache-Control: no-store (documented: every /api response is no-store)', async () => {
    for (const [method, path] of [
      ['GET', '/api/nope'],
      ['POST', '/api/hello'],
    ] as const) {
      const res = await fetch(`${demo.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('cache-control'), `${method} ${path}`).toBe('no-store');
      expect(((await res.json()) as { code?: unknown }).code, `${method} ${path}`).toBe('ERR_NOT_FOUND');
    }
    // Outside /api the auth server's own 404 is unchanged.
    expect((await fetch(`${demo.url}/nope`)).status).toBe(404);
  });

  it('pins issuer, audience and algorithm: unsigned, HMAC-with-the-public-key and foreign tokens are refused', async () => {
    const headers = { origin: demo.url, 'content-type': 'application/json', 'x-tessera-csrf': '1' };
    const body = JSON.stringify({ email: 'review@example.com', password: PASSWORD });
    await fetch(`${demo.url}/auth/register`, { method: 'POST', headers, body });
    const login = await fetch(`${demo.url}/auth/login`, { method: 'POST', headers, body });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const [h, p] = token.split('.') as [string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const jwks = await (await fetch(`${demo.url}/.well-known/jwks.json`)).text();
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const hmac = (input: string, secret: string) => createHmac('sha256', secret).update(input).digest('base64url');
    const hsInput = `${enc({ ...header, alg: 'HS256' })}.${p}`;
    const forged = [
      `${enc({ ...header, alg: 'none' })}.${p}.`,
      `${enc({ ...header, alg: 'none' })}.${enc({ ...claims, sub: 'admin' })}.`,
      `${hsInput}.${hmac(hsInput, jwks)}`,
      `${h}.${enc({ ...claims, aud: 'someone-else' })}.${token.split('.')[2]}`,
      `${h}.${enc({ ...claims, iss: 'http://evil.example' })}.${token.split('.')[2]}`,
      `${token}x`,
    ];
    expect((await fetch(`${demo.url}/api/hello`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    for (const candidate of forged) {
      const res = await fetch(`${demo.url}/api/hello`, { headers: { authorization: `Bearer ${candidate}` } });
      // 401 invalid_token, or 400 invalid_request for a malformed one (an empty signature): never 200.
      expect([400, 401], candidate.slice(0, 40)).toContain(res.status);
      const text = await res.text();
      expect(text).not.toContain(candidate);
      expect(text).not.toMatch(/\n\s+at /);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('never serves the revocation client secret or internal state on the public status route', async () => {
    const res = await fetch(`${demo.url}/api/status`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['revocation_feed', 'served_at']);
    expect(Object.keys(body.revocation_feed as object).sort()).toEqual(['last_event_id', 'staleness_sec']);
    expect(JSON.stringify(body)).not.toMatch(/secret|tessera-demo-api/i);
  });
});
