/**
 * The CSRF matrix: a cross-site request to a cookie-reading endpoint is refused by each layer on
 * its own, and a legitimate same-origin fetch passes. CORS answers only allowed origins.
 */

import { findCsrfViolation } from '@tessera/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, logIn, signUp, startHarness } from './support/harness.js';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example';
const SELF = 'http://localhost:8080';

/** What a real same-origin fetch from the SDK sends. */
const legit = { origin: SELF, 'sec-fetch-site': 'same-origin', 'x-tessera-csrf': '1' };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ allowedOrigins: [APP] });
  await signUp(h);
});
afterAll(async () => {
  await h.close();
});

async function attempt(url: '/auth/refresh' | '/auth/logout', headers: Record<string, string>, payload?: string) {
  const { refreshToken } = await logIn(h);
  const res = await h.rawInject({
    method: 'POST',
    url,
    headers: { cookie: `__Secure-tessera_rt=${refreshToken}`, ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
  return { res, refreshToken };
}

/** Each row removes one defence from an otherwise cross-site request; the others must still refuse it. */
const CROSS_SITE: [string, Record<string, string>, string | undefined][] = [
  [
    'a cross-site form post (no custom header, form body)',
    { origin: EVIL, 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
    'a=1',
  ],
  [
    'the custom header forged, but Sec-Fetch-Site: cross-site and a foreign Origin',
    { origin: EVIL, 'sec-fetch-site': 'cross-site', 'x-tessera-csrf': '1' },
    undefined,
  ],
  [
    'the custom header forged and no Fetch Metadata (old browser), foreign Origin',
    { origin: EVIL, 'x-tessera-csrf': '1' },
    undefined,
  ],
  [
    'the custom header forged and no Origin, Sec-Fetch-Site: cross-site',
    { 'sec-fetch-site': 'cross-site', 'x-tessera-csrf': '1' },
    undefined,
  ],
  ['Origin "null" (sandboxed iframe) with the custom header', { origin: 'null', 'x-tessera-csrf': '1' }, undefined],
  ['everything right but no custom header', { origin: SELF, 'sec-fetch-site': 'same-origin' }, undefined],
  ['the custom header with a wrong value', { ...legit, 'x-tessera-csrf': 'yes' }, undefined],
  ['everything right but a text/plain body', { ...legit, 'content-type': 'text/plain' }, 'hi'],
  ['everything right but a multipart body', { ...legit, 'content-type': 'multipart/form-data; boundary=x' }, '--x--'],
];

for (const url of ['/auth/refresh', '/auth/logout'] as const) {
  describe(`CSRF on ${url}`, () => {
    it.each(CROSS_SITE)('%s: 403 ERR_CSRF, audited, and the session is untouched', async (_name, headers, payload) => {
      const before = (await h.store.listAudit({ limit: 1000 })).filter((e) => e.type === 'csrf.rejected').length;
      const { res, refreshToken } = await attempt(url, headers, payload);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error: 'access_denied', code: 'ERR_CSRF' });
      expect(res.headers['set-cookie']).toBeUndefined();
      const after = (await h.store.listAudit({ limit: 1000 })).filter((e) => e.type === 'csrf.rejected').length;
      expect(after).toBe(before + 1);
      // The refresh token still works: the refused request did nothing.
      const ok = await h.rawInject({
        method: 'POST',
        url: '/auth/refresh',
        headers: { ...legit, cookie: `__Secure-tessera_rt=${refreshToken}` },
      });
      expect(ok.statusCode).toBe(200);
    });

    it('a legitimate same-origin fetch passes', async () => {
      const { res } = await attempt(url, legit);
      expect([200, 204]).toContain(res.statusCode);
    });

    it('a configured cross-site SPA origin passes despite Sec-Fetch-Site: cross-site', async () => {
      const { res } = await attempt(url, { origin: APP, 'sec-fetch-site': 'cross-site', 'x-tessera-csrf': '1' });
      expect([200, 204]).toContain(res.statusCode);
    });

    it('a non-browser client with the custom header and no Origin or Fetch Metadata passes', async () => {
      const { res } = await attempt(url, { 'x-tessera-csrf': '1' });
      expect([200, 204]).toContain(res.statusCode);
    });
  });
}

describe('login and register refuse cross-site browsers', () => {
  it.each([
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['a foreign Origin', { origin: EVIL }],
  ])('%s: 403 ERR_CSRF on login (login CSRF) and register', async (_name, headers) => {
    for (const url of ['/auth/login', '/auth/register']) {
      const res = await h.rawInject({
        method: 'POST',
        url,
        headers,
        payload: { email: 'alice@example.com', password: 'correct horse battery staple' },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('ERR_CSRF');
    }
  });

  it('a same-origin login passes without the custom header', async () => {
    const res = await h.rawInject({
      method: 'POST',
      url: '/auth/login',
      headers: { origin: SELF, 'sec-fetch-site': 'same-origin' },
      payload: { email: 'alice@example.com', password: 'correct horse battery staple' },
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('findCsrfViolation names the layer that fires', () => {
  const allowed = new Set([SELF, APP]);
  it.each([
    [{ 'content-type': 'application/x-www-form-urlencoded', 'x-tessera-csrf': '1' }, 'content_type'],
    [{}, 'custom_header'],
    [{ 'x-tessera-csrf': '1', 'sec-fetch-site': 'cross-site' }, 'fetch_metadata'],
    [{ 'x-tessera-csrf': '1', origin: EVIL }, 'origin'],
    [{ 'x-tessera-csrf': '1', origin: APP, 'sec-fetch-site': 'cross-site' }, undefined],
    [{ 'x-tessera-csrf': '1', origin: SELF, 'sec-fetch-site': 'same-origin' }, undefined],
  ] as [Record<string, string>, string | undefined][])('%j → %s', (headers, layer) => {
    expect(findCsrfViolation(headers, allowed, 'x-tessera-csrf')).toBe(layer);
  });
});

describe('CORS', () => {
  it('an allowed origin gets its origin echoed with credentials, never *', async () => {
    const res = await h.server.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: APP } });
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(String(res.headers.vary)).toContain('Origin');
  });

  it('a foreign origin gets no CORS headers at all', async () => {
    const res = await h.server.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: EVIL } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('a preflight from an allowed origin is answered with the allowed methods and headers', async () => {
    const res = await h.server.app.inject({
      method: 'OPTIONS',
      url: '/auth/refresh',
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-tessera-csrf',
      },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-methods']).toBe('GET, POST, DELETE');
    expect(String(res.headers['access-control-allow-headers'])).toContain('x-tessera-csrf');
    expect(res.headers['access-control-max-age']).toBe('600');
  });

  it.each([
    ['a foreign origin', { origin: EVIL, 'access-control-request-method': 'POST' }],
    ['a method outside the list', { origin: APP, 'access-control-request-method': 'PUT' }],
    [
      'a header outside the list',
      { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-evil' },
    ],
  ])('a preflight with %s is refused with 403 ERR_CSRF', async (_name, headers) => {
    const res = await h.server.app.inject({ method: 'OPTIONS', url: '/auth/refresh', headers });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('ERR_CSRF');
  });

  it('"*" and non-origins are refused as allowedOrigins at start', async () => {
    const { resolveConfig } = await import('@tessera/server');
    for (const bad of ['*', 'https://app.example.com/', 'app.example.com', 'https://*.example.com']) {
      expect(() => resolveConfig({ allowedOrigins: [bad] }, {})).toThrow(/allowedOrigins/);
    }
  });
});

describe('security headers', () => {
  it('every response carries nosniff, no-referrer, a deny-all CSP and no framing; token responses are no-store', async () => {
    for (const url of ['/.well-known/jwks.json', '/auth/whoami', '/nope']) {
      const res = await h.server.app.inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    const login = await h.server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'alice@example.com', password: 'correct horse battery staple' },
    });
    expect(login.headers['cache-control']).toBe('no-store');
    expect(login.headers.pragma).toBe('no-cache');
  });
});
