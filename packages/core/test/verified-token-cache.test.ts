import { generateKey, type JwtHeader, type TesseraKey, VerifiedTokenCache } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  expectAuthError,
  expectAuthErrorAsync,
  expectTypeError,
  forge,
  NOW,
  splitSegments,
  validClaims,
  verifierFor,
} from './support/helpers.js';

let key: TesseraKey;
let otherKey: TesseraKey;

beforeAll(async () => {
  [key, otherKey] = await Promise.all([
    generateKey('ES256', { kid: 'cache-es' }),
    generateKey('ES256', { kid: 'cache-es' }),
  ]);
});

/** A resolver that counts calls; the key it answers with can be swapped (e.g. to simulate removal). */
function counting(initial: TesseraKey | undefined = key) {
  const state: { calls: number; current: TesseraKey | undefined; resolve: (h: JwtHeader) => TesseraKey | undefined } = {
    calls: 0,
    current: initial,
    resolve: (_header: JwtHeader): TesseraKey | undefined => {
      state.calls++;
      return state.current;
    },
  };
  return state;
}

function tokenWith(overrides: Record<string, unknown>): string {
  return forge(key, { payload: validClaims(overrides) });
}

describe('cache hits', () => {
  it('a second verify of the same token is a cache hit that does not resolve a key or run crypto', () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: true });
    const token = tokenWith({});
    const first = verifier.verify(token);
    expect(resolver.calls).toBe(1);
    const second = verifier.verify(token);
    expect(resolver.calls).toBe(1);
    expect(second).toBe(first);
    expect(verifier.cache?.stats).toMatchObject({ hits: 1, size: 1 });
  });

  it('a cache hit is proven to skip crypto: it succeeds even after the key is withdrawn', () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: true });
    const token = tokenWith({});
    verifier.verify(token);
    resolver.current = undefined;
    expect(verifier.verify(token).sub).toBe('user-1');
    expect(resolver.calls).toBe(1);
  });

  it('verifyAsync is served from the cache filled by verify', async () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: true });
    const token = tokenWith({});
    verifier.verify(token);
    await expect(verifier.verifyAsync(token)).resolves.toMatchObject({ sub: 'user-1' });
    expect(resolver.calls).toBe(1);
  });

  it('cached claims are frozen', () => {
    const verifier = verifierFor(key, { cache: true });
    const token = tokenWith({});
    verifier.verify(token);
    expect(Object.isFrozen(verifier.verify(token))).toBe(true);
  });

  it('without a cache every verify resolves the key again', () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve);
    const token = tokenWith({});
    verifier.verify(token);
    verifier.verify(token);
    expect(resolver.calls).toBe(2);
    expect(verifier.cache).toBeUndefined();
  });
});

describe('cache expiry on the frozen clock', () => {
  it('an entry is served until exp and dropped at exp, so verification runs again', () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: true });
    const token = tokenWith({ exp: NOW + 100 });
    verifier.verify(token);
    verifier.clock.set(NOW + 99);
    verifier.verify(token);
    expect(resolver.calls).toBe(1);
    verifier.clock.set(NOW + 100);
    // Still inside the 30 s tolerance, so it verifies, but through crypto.
    expect(verifier.verify(token).sub).toBe('user-1');
    expect(resolver.calls).toBe(2);
  });

  it('with tolerance 0 a cached token is rejected with ERR_TOKEN_EXPIRED at exp', () => {
    const verifier = verifierFor(key, { cache: true, clockToleranceSec: 0 });
    const token = tokenWith({ exp: NOW + 100 });
    verifier.verify(token);
    verifier.clock.set(NOW + 100);
    expectAuthError(() => verifier.verify(token), 'ERR_TOKEN_EXPIRED');
  });

  it('a token verified inside the tolerance after exp is not cached', () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: true });
    const token = tokenWith({ exp: NOW - 10 });
    verifier.verify(token);
    verifier.verify(token);
    expect(resolver.calls).toBe(2);
    expect(verifier.cache?.size).toBe(0);
  });

  it('an entry is dropped after maxAgeSec even though the token lives longer', () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: { maxAgeSec: 60 } });
    const token = tokenWith({ exp: NOW + 600 });
    verifier.verify(token);
    verifier.clock.set(NOW + 59);
    verifier.verify(token);
    expect(resolver.calls).toBe(1);
    verifier.clock.set(NOW + 60);
    verifier.verify(token);
    expect(resolver.calls).toBe(2);
    verifier.clock.set(NOW + 61);
    verifier.verify(token);
    expect(resolver.calls).toBe(2);
  });

  it('a cached token is rejected with ERR_TOKEN_TOO_OLD once maxTokenAgeSec has passed, as without a cache', () => {
    const token = tokenWith({ iat: NOW });
    const uncached = verifierFor(key, { maxTokenAgeSec: 60 });
    const cached = verifierFor(key, { maxTokenAgeSec: 60, cache: true });
    expect(cached.verify(token).sub).toBe('user-1');
    uncached.clock.set(NOW + 100);
    cached.clock.set(NOW + 100);
    expectAuthError(() => uncached.verify(token), 'ERR_TOKEN_TOO_OLD');
    expectAuthError(() => cached.verify(token), 'ERR_TOKEN_TOO_OLD');
  });
});

describe('LRU eviction', () => {
  it('at maxEntries the least recently used entry is evicted and a recently read one survives', () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: { maxEntries: 2 } });
    const [t1, t2, t3] = ['a', 'b', 'c'].map((jti) => tokenWith({ jti: `jti-${jti}-0123456789` })) as [
      string,
      string,
      string,
    ];
    verifier.verify(t1);
    verifier.verify(t2);
    verifier.verify(t1); // t1 is now the most recently used
    expect(resolver.calls).toBe(2);
    verifier.verify(t3); // evicts t2
    expect(resolver.calls).toBe(3);
    expect(verifier.cache?.size).toBe(2);
    verifier.verify(t1);
    expect(resolver.calls).toBe(3);
    verifier.verify(t2);
    expect(resolver.calls).toBe(4);
  });

  it('a cache of one entry keeps only the latest token', () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: { maxEntries: 1 } });
    const a = tokenWith({ jti: 'jti-a-0123456789' });
    const b = tokenWith({ jti: 'jti-b-0123456789' });
    verifier.verify(a);
    verifier.verify(b);
    verifier.verify(b);
    expect(resolver.calls).toBe(2);
    verifier.verify(a);
    expect(resolver.calls).toBe(3);
    expect(verifier.cache?.size).toBe(1);
  });
});

describe('revocation by eviction', () => {
  function setup() {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: true });
    const tokens = {
      a: tokenWith({ jti: 'jti-a-0123456789', sid: 's1', sub: 'u1' }),
      b: tokenWith({ jti: 'jti-b-0123456789', sid: 's1', sub: 'u2' }),
      c: tokenWith({ jti: 'jti-c-0123456789', sid: 's2', sub: 'u1' }),
      d: tokenWith({ jti: 'jti-d-0123456789', sid: 's3', sub: 'u3' }),
    };
    for (const token of Object.values(tokens)) verifier.verify(token);
    expect(resolver.calls).toBe(4);
    const cache = verifier.cache;
    if (cache === undefined) throw new Error('no cache');
    /** Verifies every token and returns which ones needed crypto again. */
    const recomputed = () => {
      const before = resolver.calls;
      const which: string[] = [];
      for (const [name, token] of Object.entries(tokens)) {
        const n = resolver.calls;
        verifier.verify(token);
        if (resolver.calls > n) which.push(name);
      }
      expect(resolver.calls - before).toBe(which.length);
      return which;
    };
    return { cache, recomputed, resolver, verifier, tokens };
  }

  it('evict({jti}) removes exactly the token with that jti and the next verify re-runs crypto', () => {
    const { cache, recomputed } = setup();
    expect(cache.evict({ jti: 'jti-a-0123456789' })).toBe(1);
    expect(recomputed()).toEqual(['a']);
  });

  it('evict({sid}) removes exactly the tokens of that session', () => {
    const { cache, recomputed } = setup();
    expect(cache.evict({ sid: 's1' })).toBe(2);
    expect(recomputed()).toEqual(['a', 'b']);
  });

  it('evict({sub}) removes exactly the tokens of that subject', () => {
    const { cache, recomputed } = setup();
    expect(cache.evict({ sub: 'u1' })).toBe(2);
    expect(recomputed()).toEqual(['a', 'c']);
  });

  it('evict with several selectors removes the union once each', () => {
    const { cache, recomputed } = setup();
    expect(cache.evict({ jti: 'jti-a-0123456789', sid: 's1', sub: 'u3' })).toBe(3);
    expect(recomputed()).toEqual(['a', 'b', 'd']);
  });

  it('evict of an unknown value removes nothing', () => {
    const { cache, recomputed } = setup();
    expect(cache.evict({ jti: 'nope', sid: 'nope', sub: 'nope' })).toBe(0);
    expect(cache.evict({})).toBe(0);
    expect(recomputed()).toEqual([]);
  });

  it('an evicted token whose key was withdrawn is rejected with ERR_KEY_NOT_FOUND instead of being served', () => {
    const { cache, resolver, verifier, tokens } = setup();
    resolver.current = undefined;
    expect(verifier.verify(tokens.a).sub).toBe('u1');
    cache.evict({ sub: 'u1' });
    expectAuthError(() => verifier.verify(tokens.a), 'ERR_KEY_NOT_FOUND');
    expect(verifier.verify(tokens.b).sub).toBe('u2');
  });

  it('clear() empties the cache', () => {
    const { cache, recomputed } = setup();
    cache.clear();
    expect(cache.size).toBe(0);
    expect(recomputed()).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('cache isolation and failures', () => {
  it('a token cached by verifier A is rejected by verifier B of another audience (ERR_CLAIM_INVALID, claim aud)', () => {
    const a = verifierFor(key, { cache: true });
    const b = verifierFor(key, { cache: true, audience: 'api://other' });
    const token = tokenWith({});
    a.verify(token);
    a.verify(token);
    expect(a.cache).not.toBe(b.cache);
    expectAuthError(() => b.verify(token), 'ERR_CLAIM_INVALID', 'aud');
    expect(b.cache?.size).toBe(0);
  });

  it('a token cached by verifier A is rejected by verifier B with another key of the same kid (ERR_SIGNATURE_INVALID)', async () => {
    const a = verifierFor(key, { cache: true });
    const b = verifierFor(otherKey, { cache: true });
    const token = tokenWith({});
    a.verify(token);
    expectAuthError(() => b.verify(token), 'ERR_SIGNATURE_INVALID');
    await expectAuthErrorAsync(() => b.verifyAsync(token), 'ERR_SIGNATURE_INVALID');
  });

  it('cache options build a new cache per verifier', () => {
    const options = { maxEntries: 10 };
    expect(verifierFor(key, { cache: options }).cache).not.toBe(verifierFor(key, { cache: options }).cache);
  });

  it('a token with a bad signature is never cached: every attempt re-runs verification', () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: true });
    const [h, p, s] = splitSegments(tokenWith({}));
    const bad = `${h}.${p}.${s.slice(0, -2)}AA`;
    expectAuthError(() => verifier.verify(bad), 'ERR_SIGNATURE_INVALID');
    expectAuthError(() => verifier.verify(bad), 'ERR_SIGNATURE_INVALID');
    expect(resolver.calls).toBe(2);
    expect(verifier.cache?.size).toBe(0);
  });

  it('a correctly signed token that fails a claim check is never cached', () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: true });
    const token = tokenWith({ iss: 'https://evil.example' });
    expectAuthError(() => verifier.verify(token), 'ERR_CLAIM_INVALID', 'iss');
    expectAuthError(() => verifier.verify(token), 'ERR_CLAIM_INVALID', 'iss');
    expect(resolver.calls).toBe(2);
    expect(verifier.cache?.size).toBe(0);
  });

  it('a not-yet-valid token is not cached as a failure and verifies once its nbf is reached', () => {
    const verifier = verifierFor(key, { cache: true, clockToleranceSec: 0 });
    const token = tokenWith({ nbf: NOW + 10 });
    expectAuthError(() => verifier.verify(token), 'ERR_TOKEN_NOT_YET_VALID');
    verifier.clock.set(NOW + 10);
    expect(verifier.verify(token).nbf).toBe(NOW + 10);
  });

  it('a failed verifyAsync is never cached', async () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: true });
    const token = tokenWith({ aud: 'api://other' });
    await expectAuthErrorAsync(() => verifier.verifyAsync(token), 'ERR_CLAIM_INVALID', 'aud');
    await expectAuthErrorAsync(() => verifier.verifyAsync(token), 'ERR_CLAIM_INVALID', 'aud');
    expect(resolver.calls).toBe(2);
    expect(verifier.cache?.size).toBe(0);
  });
});

describe('VerifiedTokenCache directly', () => {
  it('an entry whose exp is not after now is not stored', () => {
    const cache = new VerifiedTokenCache();
    cache.set('t', { exp: NOW }, NOW);
    expect(cache.size).toBe(0);
    expect(cache.get('t', NOW)).toBeUndefined();
  });

  it('set on an existing token replaces the entry and its indexes', () => {
    const cache = new VerifiedTokenCache();
    cache.set('t', { exp: NOW + 100, sub: 'old' }, NOW);
    cache.set('t', { exp: NOW + 100, sub: 'new' }, NOW);
    expect(cache.size).toBe(1);
    expect(cache.evict({ sub: 'old' })).toBe(0);
    expect(cache.evict({ sub: 'new' })).toBe(1);
  });

  it('invalid cache options throw a TypeError naming the field', () => {
    expectTypeError(() => new VerifiedTokenCache({ maxEntries: 0 }), 'maxEntries');
    expectTypeError(() => new VerifiedTokenCache({ maxEntries: 1.5 }), 'maxEntries');
    expectTypeError(() => new VerifiedTokenCache({ maxAgeSec: 0 }), 'maxAgeSec');
  });

  it('stats count hits and misses', () => {
    const cache = new VerifiedTokenCache();
    cache.get('missing', NOW);
    cache.set('t', { exp: NOW + 100 }, NOW);
    cache.get('t', NOW);
    expect(cache.stats).toEqual({ hits: 1, misses: 1, size: 1 });
  });
});

describe('the signature-segment key is a locator, never trusted', () => {
  it('a forged token carrying a cached token signature is a miss and fails verification, and the cached token stays a hit', () => {
    const resolver = counting();
    const verifier = verifierFor(resolver.resolve, { cache: true });
    const token = tokenWith({ sub: 'alice' });
    verifier.verify(token);
    const [h, , s] = splitSegments(token);
    const otherPayload = splitSegments(tokenWith({ sub: 'admin' }))[1];
    const forged = `${h}.${otherPayload}.${s}`;
    expectAuthError(() => verifier.verify(forged), 'ERR_SIGNATURE_INVALID');
    expect(resolver.calls).toBe(2);
    expect(verifier.verify(token).sub).toBe('alice');
    expect(resolver.calls).toBe(2);
  });

  it('a lookup with a prefix, suffix or different casing of a cached token is a miss', () => {
    const cache = new VerifiedTokenCache();
    const token = tokenWith({});
    cache.set(token, { exp: NOW + 60 }, NOW);
    expect(cache.get(token, NOW)).toEqual({ exp: NOW + 60 });
    const [, , s] = splitSegments(token);
    expect(cache.get(`x${token}`, NOW)).toBeUndefined();
    expect(cache.get(`.${s}`, NOW)).toBeUndefined();
    expect(cache.get(s, NOW)).toBeUndefined();
    expect(cache.get(token.toUpperCase(), NOW)).toBeUndefined();
    expect(cache.stats).toEqual({ hits: 1, misses: 4, size: 1 });
  });

  it('two distinct strings with one signature segment displace each other instead of aliasing', () => {
    const cache = new VerifiedTokenCache();
    cache.set('a.b.sig', { exp: NOW + 60, sub: 'a' }, NOW);
    cache.set('c.d.sig', { exp: NOW + 60, sub: 'c' }, NOW);
    expect(cache.size).toBe(1);
    expect(cache.get('a.b.sig', NOW)).toBeUndefined();
    expect(cache.get('c.d.sig', NOW)).toEqual({ exp: NOW + 60, sub: 'c' });
    expect(cache.evict({ sub: 'a' })).toBe(0);
    expect(cache.evict({ sub: 'c' })).toBe(1);
    expect(cache.size).toBe(0);
  });
});
