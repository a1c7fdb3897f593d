/**
 * The refresh session cache (services/refresh-session-cache.ts): a token this process issued
 * refreshes with one store call, and the cache never decides anything the store must decide.
 * Two servers on one SQLite file stand in for two instances: each knows only its own tokens.
 */

import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { RefreshSessionCache } from '../src/services/refresh-session-cache.js';
import { expectError } from './support/expect-error.js';
import {
  claimsOf,
  cookieValue,
  type Harness,
  refreshWith,
  rowCounts,
  signUp,
  startHarness,
} from './support/harness.js';

const session = (id: string, absoluteExpiresAt = 2_000) => ({
  id,
  userId: `u-${id}`,
  clientId: 'web',
  scope: 'openid',
  authTime: 100,
  absoluteExpiresAt,
});

describe('RefreshSessionCache', () => {
  it('take returns what remember stored, once', () => {
    const cache = new RefreshSessionCache(10);
    cache.remember('h1', { ...session('s1'), extra: 'dropped' } as ReturnType<typeof session>, 1_000);
    expect(cache.take('h1', 500)).toEqual(session('s1'));
    expect(cache.take('h1', 500)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('an entry is dead from its expiry or the session ceiling, whichever is first', () => {
    const cache = new RefreshSessionCache(10);
    cache.remember('h1', session('s1'), 1_000);
    expect(cache.take('h1', 1_000)).toBeUndefined();
    cache.remember('h2', session('s2', 800), 1_000);
    expect(cache.take('h2', 800)).toBeUndefined();
    cache.remember('h3', session('s3', 800), 1_000);
    expect(cache.take('h3', 799)?.id).toBe('s3');
  });

  it('keeps at most max entries, dropping the oldest; 0 keeps none', () => {
    const cache = new RefreshSessionCache(2);
    cache.remember('h1', session('s1'), 1_000);
    cache.remember('h2', session('s2'), 1_000);
    cache.remember('h3', session('s3'), 1_000);
    expect(cache.size).toBe(2);
    expect(cache.take('h1', 0)).toBeUndefined();
    expect(cache.take('h3', 0)?.id).toBe('s3');
    const off = new RefreshSessionCache(0);
    off.remember('h1', session('s1'), 1_000);
    expect(off.size).toBe(0);
    expect(off.take('h1', 0)).toBeUndefined();
  });

  it('refuses a bad size', () => {
    for (const bad of [-1, 1.5, Number.NaN]) expect(() => new RefreshSessionCache(bad)).toThrow(TypeError);
  });

  it('refreshCacheEntries: default 50,000; 0 to 1,000,000 from config or TESSERA_REFRESH_CACHE_ENTRIES', () => {
    expect(resolveConfig({ environment: 'test' }, {}).config.refreshCacheEntries).toBe(50_000);
    expect(
      resolveConfig({ environment: 'test' }, { TESSERA_REFRESH_CACHE_ENTRIES: '0' }).config.refreshCacheEntries,
    ).toBe(0);
    for (const bad of [-1, 1_000_001, 2.5]) {
      expect(() => resolveConfig({ environment: 'test', refreshCacheEntries: bad }, {})).toThrow(
        /TESSERA_REFRESH_CACHE_ENTRIES/,
      );
    }
  });
});

describe('refresh with and without the cache', () => {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    for (const h of harnesses.splice(0).reverse()) await h.close();
  });

  /** Counts the store reads a refresh makes before its rotation call. */
  function countLookups(h: Harness): () => number {
    const find = h.store.findRefreshContext.bind(h.store);
    let n = 0;
    h.store.findRefreshContext = async (hash) => {
      n += 1;
      return find(hash);
    };
    return () => n;
  }

  it('a chain of refreshes on the issuing server reads the store only when the cache is off', async () => {
    for (const [entries, lookups] of [
      [50_000, 0],
      [0, 4],
    ] as const) {
      const h = await startHarness({ refreshCacheEntries: entries });
      harnesses.push(h);
      const count = countLookups(h);
      let token = (await signUp(h)).refreshToken;
      for (let i = 0; i < 4; i++) {
        const res = await refreshWith(h, token);
        expect(res.statusCode).toBe(200);
        token = cookieValue(String(res.headers['set-cookie']));
      }
      expect(count()).toBe(lookups);
    }
  });

  it('a token issued by another instance is read from the store, and rotates there as usual', async () => {
    const masterKey = randomBytes(32);
    const a = await startHarness({}, { masterKey });
    harnesses.push(a);
    const b = await startHarness({}, { masterKey, dir: a.dir });
    harnesses.push(b);
    const login = await signUp(a);
    const countB = countLookups(b);
    const res = await refreshWith(b, login.refreshToken);
    expect(res.statusCode).toBe(200);
    expect(countB()).toBe(1);
    expect(claimsOf(res.json().access_token).sid).toBe(claimsOf(login.accessToken).sid);
    // The old token, presented to A (which issued it) after B rotated it: a grace replay of
    // B's answer, decided by the store, not by A's cached entry.
    const replay = await refreshWith(a, login.refreshToken);
    expect(replay.statusCode).toBe(200);
    expect(replay.json().access_token).toBe(res.json().access_token);
  });

  it('a cached token of a session revoked since is refused and consumes nothing', async () => {
    const h = await startHarness();
    harnesses.push(h);
    const login = await signUp(h);
    await h.store.revokeSession(claimsOf(login.accessToken).sid, 'admin', h.clock());
    const before = rowCounts(h).refreshTokens;
    expectError(await refreshWith(h, login.refreshToken), 'ERR_REFRESH_REVOKED');
    expect(rowCounts(h).refreshTokens).toBe(before);
  });

  it('a cached token replayed after the grace window is a reuse: the family is revoked', async () => {
    const h = await startHarness();
    harnesses.push(h);
    const login = await signUp(h);
    const first = await refreshWith(h, login.refreshToken);
    expect(first.statusCode).toBe(200);
    h.clock.advance(60);
    expectError(await refreshWith(h, login.refreshToken), 'ERR_REFRESH_REUSED');
    const next = cookieValue(String(first.headers['set-cookie']));
    expectError(await refreshWith(h, next), 'ERR_REFRESH_REVOKED');
  });
});
