import type { TesseraKey } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type GuardOptions } from '../src/index.js';
import { AUDIENCE, FakeRevocationSource, ISSUER, newKey, sign } from './support/fixtures.js';

let key: TesseraKey;
beforeAll(async () => {
  key = await newKey('k1');
});

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

function setup(revocation: Partial<NonNullable<GuardOptions['revocation']>> = {}, extra: Partial<GuardOptions> = {}) {
  const source = new FakeRevocationSource();
  const warnings: { details: object; message: string }[] = [];
  const guard = createGuard({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: key,
    revocation: { source, ...revocation },
    logger: { warn: (details, message) => warnings.push({ details, message }) },
    ...extra,
  });
  return { source, guard, warnings };
}

describe('revocation: cache and eviction', () => {
  it('a cache hit is synchronous and skips verification; the revocation source is asked every time', async () => {
    const { source, guard } = setup();
    const token = sign(key);
    await guard.authenticate(bearer(token));
    const hit = guard.check(bearer(token));
    expect(hit).not.toBeInstanceOf(Promise);
    expect(guard.stats.cacheHits).toBe(1);
    expect(source.checks).toBe(2);
  });

  it('a revoked token is rejected even when it is cached', async () => {
    const { source, guard } = setup();
    const token = sign(key, { jti: undefined });
    const claims = await guard.authenticate(bearer(token));
    expect(guard.cache?.size).toBe(1);
    // Revoked without an event reaching the cache (e.g. learnt from a snapshot).
    source.revoked.jti.add(claims.jti);
    expect(() => guard.check(bearer(token))).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_REVOKED' }));
    const res = guard.toResponse(await guard.authenticate(bearer(token)).catch((e: unknown) => e));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="tessera", error="invalid_token", error_description="The token has been revoked"',
    );
    expect(guard.stats.revokedRejected).toBe(2);
  });

  it('evicts by jti, sid, sub (userId@cutoff) and user_disabled events; kid events clear the cache', async () => {
    const { source, guard } = setup();
    const a = sign(key, { sub: 'alice', sid: 's-a' });
    const b = sign(key, { sub: 'bob', sid: 's-b' });
    const c = sign(key, { sub: 'carol', sid: 's-c' });
    const d = sign(key, { sub: 'dave', sid: 's-d' });
    const claimsA = await guard.authenticate(bearer(a));
    for (const t of [b, c, d]) await guard.authenticate(bearer(t));
    expect(guard.cache?.size).toBe(4);
    source.notifyOnly('jti', claimsA.jti);
    expect(guard.cache?.size).toBe(3);
    source.notifyOnly('sid', 's-b');
    expect(guard.cache?.size).toBe(2);
    source.notifyOnly('sub', `carol@${Math.floor(Date.now() / 1000) + 10}`);
    expect(guard.cache?.size).toBe(1);
    source.notifyOnly('user_disabled', 'dave');
    expect(guard.cache?.size).toBe(0);
    await guard.authenticate(bearer(a));
    source.notifyOnly('kid', 'k1');
    expect(guard.cache?.size).toBe(0);
    expect(guard.stats.evictions).toBe(5);
  });

  it('an evicted and revoked token is re-verified and rejected', async () => {
    const { source, guard } = setup();
    const token = sign(key, { sid: 'dead-session' });
    await guard.authenticate(bearer(token));
    source.emit('sid', 'dead-session');
    expect(guard.cache?.size).toBe(0);
    await expect(guard.authenticate(bearer(token))).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' });
    // The revocation check also receives the header kid.
    source.emit('kid', 'k1');
    await expect(guard.authenticate(bearer(sign(key, { sid: 'other' })))).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
  });

  it('close() unsubscribes from the source', () => {
    const { source, guard } = setup();
    expect(source.listeners.size).toBe(1);
    guard.close();
    expect(source.listeners.size).toBe(0);
  });
});

describe('revocation: staleness', () => {
  it('fail-closed (default): stale data → 503 ERR_REVOCATION_STALE with Retry-After, cache hit or not', async () => {
    const { source, guard } = setup();
    const token = sign(key);
    await guard.authenticate(bearer(token));
    source.staleness = 31;
    const error = await guard.authenticate(bearer(token)).catch((e: unknown) => e);
    expect(guard.toResponse(error)).toEqual({
      status: 503,
      headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '5' },
      body: {
        error: 'temporarily_unavailable',
        error_description: 'Revocation status is not current; the request is refused until it is',
        code: 'ERR_REVOCATION_STALE',
      },
    });
    await expect(guard.authenticate(bearer(sign(key)))).rejects.toMatchObject({ code: 'ERR_REVOCATION_STALE' });
    expect(guard.stats.staleRejected).toBe(2);
    source.staleness = 30;
    await expect(guard.authenticate(bearer(token))).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('before the first contact (staleness Infinity) fail-closed refuses', async () => {
    const { source, guard } = setup();
    source.staleness = Number.POSITIVE_INFINITY;
    await expect(guard.authenticate(bearer(sign(key)))).rejects.toMatchObject({ code: 'ERR_REVOCATION_STALE' });
  });

  it('fail-open: accepts, warns through the logger (throttled) and counts', async () => {
    const { source, guard, warnings } = setup({ onStale: 'fail-open', maxStalenessSec: 10 });
    source.staleness = 11;
    const token = sign(key);
    for (let i = 0; i < 3; i++)
      await expect(guard.authenticate(bearer(token))).resolves.toMatchObject({ sub: 'user-1' });
    expect(guard.stats.staleAccepted).toBe(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('fail-open');
    expect(warnings[0]?.details).toMatchObject({ stalenessSec: 11, maxStalenessSec: 10 });
    // Still no revoked token gets through.
    source.revoked.sid.add('sess-1');
    await expect(guard.authenticate(bearer(token))).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' });
  });

  it('per-call overrides of onStale and maxStalenessSec', async () => {
    const { source, guard } = setup();
    source.staleness = 60;
    const token = sign(key);
    await expect(guard.authenticate(bearer(token), { onStale: 'fail-open' })).resolves.toMatchObject({ sub: 'user-1' });
    await expect(guard.authenticate(bearer(token), { maxStalenessSec: 120 })).resolves.toMatchObject({ sub: 'user-1' });
    await expect(guard.authenticate(bearer(token))).rejects.toMatchObject({ code: 'ERR_REVOCATION_STALE' });
    const strict = setup({ onStale: 'fail-open' });
    strict.source.staleness = 60;
    await expect(strict.guard.authenticate(bearer(token), { onStale: 'fail-closed' })).rejects.toMatchObject({
      code: 'ERR_REVOCATION_STALE',
    });
  });

  it('a revoked token is refused even without a cache', async () => {
    const { source, guard } = setup({}, { cache: false });
    const token = sign(key, { sub: 'eve' });
    await guard.authenticate(bearer(token));
    source.emit('sub', `eve@${Math.floor(Date.now() / 1000) + 5}`);
    await expect(guard.authenticate(bearer(token))).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' });
    expect(guard.cache).toBeUndefined();
  });
});
