import type { TesseraKey } from '@tessera/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheControlMaxAge, createGuard, type Guard, type GuardOptions } from '../src/index.js';
import {
  AUDIENCE,
  ISSUER,
  type JwksServer,
  newKey,
  sign,
  signWithKid,
  sleep,
  startJwksServer,
} from './support/fixtures.js';

let k1: TesseraKey;
let server: JwksServer;
const guards: Guard[] = [];

function guardFor(extra: Partial<GuardOptions> = {}): Guard {
  const g = createGuard({ issuer: ISSUER, audience: AUDIENCE, jwksUri: server.url, ...extra } as GuardOptions);
  guards.push(g);
  return g;
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

beforeEach(async () => {
  k1 = await newKey('k1');
  server = await startJwksServer([k1]);
});

afterEach(async () => {
  for (const g of guards.splice(0)) g.close();
  await server.close();
});

describe('remote JWKS: fetch and cache', () => {
  it('fetches once on first use and then serves from the cached set', async () => {
    const g = guardFor();
    for (let i = 0; i < 5; i++)
      await expect(g.authenticate(bearer(sign(k1)))).resolves.toMatchObject({ sub: 'user-1' });
    expect(server.fetches).toBe(1);
    expect(g.stats.jwksFetches).toBe(1);
  });

  it('concurrent first requests share one fetch', async () => {
    server.mode = 'delay';
    const g = guardFor();
    const results = await Promise.all(Array.from({ length: 50 }, () => g.authenticate(bearer(sign(k1)))));
    expect(results).toHaveLength(50);
    expect(server.fetches).toBe(1);
  });

  it('parses Cache-Control max-age, no-store and no-cache', () => {
    expect(cacheControlMaxAge('public, max-age=120, must-revalidate')).toBe(120);
    expect(cacheControlMaxAge('MAX-AGE=7')).toBe(7);
    expect(cacheControlMaxAge('no-store')).toBe(0);
    expect(cacheControlMaxAge('public, no-cache')).toBe(0);
    expect(cacheControlMaxAge('public')).toBeUndefined();
    expect(cacheControlMaxAge(null)).toBeUndefined();
  });

  it('refreshes in the background before max-age runs out (bounded below by minCacheSec)', async () => {
    server.cacheControl = 'max-age=1';
    const g = guardFor({ remoteJwks: { minCacheSec: 1 } });
    await g.ready();
    expect(server.fetches).toBe(1);
    // A rotation on the server is picked up by the background refresh alone (no unknown-kid fetch).
    const k2 = await newKey('k2');
    server.keys = [k1, k2];
    await sleep(1300);
    expect(server.fetches).toBeGreaterThanOrEqual(2);
    await expect(g.authenticate(bearer(sign(k2)))).resolves.toMatchObject({ sub: 'user-1' });
    expect(g.stats.jwksUnknownKidRefetches).toBe(0);
  });

  it('clamps max-age to the bounds: a tiny max-age is raised to minCacheSec, a huge one lowered to maxCacheSec', async () => {
    server.cacheControl = 'max-age=0';
    const g = guardFor({ remoteJwks: { minCacheSec: 2 } });
    await g.ready();
    await sleep(1000);
    expect(server.fetches).toBe(1); // not refetched at once although max-age=0
    await sleep(1000);
    expect(server.fetches).toBe(2); // refreshed at 80% of 2 s
    server.cacheControl = 'max-age=999999';
    const h = guardFor({ remoteJwks: { minCacheSec: 1, maxCacheSec: 2 } });
    await h.ready();
    const before = server.fetches;
    await sleep(1800);
    expect(server.fetches).toBeGreaterThan(before);
  });
});

describe('remote JWKS: unknown kid', () => {
  it('200 concurrent requests with random kids cause at most one refetch (single flight + cooldown)', async () => {
    const g = guardFor();
    await g.ready();
    expect(server.fetches).toBe(1);
    server.mode = 'delay';
    const tokens = Array.from({ length: 200 }, (_, i) => signWithKid(k1, `random-${i}-${Math.random()}`));
    const results = await Promise.allSettled(tokens.map((t) => g.authenticate(bearer(t))));
    expect(
      results.every((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'ERR_KEY_NOT_FOUND'),
    ).toBe(true);
    expect(server.fetches).toBe(2);
    // And more random kids within the cooldown: no fetch at all.
    await Promise.allSettled(tokens.map((t) => g.authenticate(bearer(t))));
    expect(server.fetches).toBe(2);
    expect(g.stats.jwksUnknownKidRefetches).toBe(1);
  });

  it('a rotated-in key is found by the unknown-kid refetch, and after the cooldown for the next one', async () => {
    const g = guardFor({ remoteJwks: { cooldownSec: 1 } });
    await g.ready();
    const k2 = await newKey('k2');
    server.keys = [k1, k2];
    await expect(g.authenticate(bearer(sign(k2)))).resolves.toMatchObject({ sub: 'user-1' });
    expect(server.fetches).toBe(2);
    // A second rotation right away: the cooldown refuses to refetch...
    const k3 = await newKey('k3');
    server.keys = [k2, k3];
    await expect(g.authenticate(bearer(sign(k3)))).rejects.toMatchObject({ code: 'ERR_KEY_NOT_FOUND' });
    expect(server.fetches).toBe(2);
    // ...and once it has passed, the new key is picked up.
    await sleep(1100);
    await expect(g.authenticate(bearer(sign(k3)))).resolves.toMatchObject({ sub: 'user-1' });
    expect(server.fetches).toBe(3);
  });
});

describe('remote JWKS: failures', () => {
  it('keeps serving the last good set while the JWKS server is down', async () => {
    server.cacheControl = 'max-age=1';
    const warnings: string[] = [];
    const g = guardFor({
      remoteJwks: { minCacheSec: 1, cooldownSec: 1 },
      logger: { warn: (_d, m) => warnings.push(m) },
    });
    await g.ready();
    server.mode = 'down';
    await sleep(1200); // the background refresh fails
    const stranger = signWithKid(k1, 'nope');
    await expect(g.authenticate(bearer(stranger))).rejects.toMatchObject({ code: 'ERR_KEY_NOT_FOUND' });
    await expect(g.authenticate(bearer(sign(k1)))).resolves.toMatchObject({ sub: 'user-1' });
    expect(g.stats.jwksFetchFailures).toBeGreaterThanOrEqual(1);
    expect(warnings.some((m) => m.includes('serving the last good set'))).toBe(true);
    // The server coming back is picked up again.
    server.mode = 'ok';
    await sleep(1500);
    expect(g.stats.jwksFetches).toBeGreaterThan(g.stats.jwksFetchFailures);
  });

  it('no set yet and the server down: 503 ERR_SERVICE_UNAVAILABLE with Retry-After, retried with backoff', async () => {
    server.mode = 'down';
    const g = guardFor();
    const error = await g.authenticate(bearer(sign(k1))).catch((e: unknown) => e);
    const res = g.toResponse(error);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.code).toBe('ERR_SERVICE_UNAVAILABLE');
    // Within the backoff, requests fail fast without fetching.
    await Promise.allSettled(Array.from({ length: 20 }, () => g.authenticate(bearer(sign(k1)))));
    expect(server.fetches).toBe(1);
    await expect(g.ready()).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE' });
  });

  it('times out a JWKS server that never answers', async () => {
    server.mode = 'hang';
    const g = guardFor({ remoteJwks: { timeoutMs: 200 } });
    const started = Date.now();
    await expect(g.authenticate(bearer(sign(k1)))).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(g.stats.jwksFetchFailures).toBe(1);
  });

  it('refuses a response larger than maxBytes, counted while streaming (no content-length)', async () => {
    server.mode = 'huge';
    const warnings: object[] = [];
    const g = guardFor({ logger: { warn: (d) => warnings.push(d) } });
    await expect(g.authenticate(bearer(sign(k1)))).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE' });
    expect(JSON.stringify(warnings)).toContain('larger than 1048576 bytes');
    server.mode = 'ok';
    server.keys = [k1];
    const small = guardFor({ remoteJwks: { maxBytes: 1024 } });
    // A two-key JWKS exceeds 1 KiB? An RSA key does; use several EC keys.
    server.keys = await Promise.all(Array.from({ length: 8 }, (_, i) => newKey(`k${i}`)));
    await expect(small.ready()).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE' });
  });
});

describe('remote JWKS: discovery', () => {
  it('finds jwks_uri in the authorization server metadata', async () => {
    const issuer = server.origin;
    server.metadata = { issuer, jwks_uri: server.url };
    const g = createGuard({ issuer, audience: AUDIENCE, discovery: true });
    guards.push(g);
    await expect(g.authenticate(bearer(sign(k1, {}, { issuer })))).resolves.toMatchObject({ iss: issuer });
    expect(server.fetches).toBe(1);
  });

  it('refuses metadata naming another issuer (RFC 8414 3.3)', async () => {
    const issuer = server.origin;
    server.metadata = { issuer: 'https://evil.example', jwks_uri: server.url };
    const g = createGuard({ issuer, audience: AUDIENCE, discovery: true });
    guards.push(g);
    await expect(g.ready()).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE' });
    expect(server.fetches).toBe(0);
  });
});
