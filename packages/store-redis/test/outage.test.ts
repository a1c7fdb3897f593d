/**
 * Redis away and back: a store pointed at a closed port fails every call fast with the typed
 * 503 error (never a hang, never a silent "not denied"); a private redis-server killed with
 * SIGKILL and restarted on the same port proves the store, its subscription and the revocation
 * source all recover by themselves, and that the auth server answers 503 meanwhile. The shared
 * Redis is never touched here.
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError } from '@tessera/core';
import { createAuthServer } from '@tessera/server';
import type { RevocationEvent } from '@tessera/server/contracts';
import { SqliteStore } from '@tessera/store-sqlite';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisRevocationSource, RedisStore, RedisUnavailableError } from '../src/index.js';
import { TAKE_TOKEN } from '../src/scripts.js';
import { freePort, hasRedisServer, PrivateRedis } from './support/redis.js';

const nowSec = () => Math.floor(Date.now() / 1000);
const event = (id: number): RevocationEvent => ({
  id,
  kind: 'sid',
  value: `s-${id}`,
  at: nowSec(),
  expiresAt: nowSec() + 3600,
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Expects `promise` to reject with ERR_SERVICE_UNAVAILABLE within `withinMs`. */
async function expectUnavailable(promise: Promise<unknown>, withinMs = 1500): Promise<void> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  const elapsed = performance.now() - started;
  expect(error).toBeInstanceOf(AuthError);
  expect(error).toBeInstanceOf(RedisUnavailableError);
  expect((error as AuthError).code).toBe('ERR_SERVICE_UNAVAILABLE');
  expect((error as AuthError).status).toBe(503);
  expect(elapsed).toBeLessThan(withinMs);
}

describe('a store whose Redis is unreachable', () => {
  async function deadStore(options: Partial<ConstructorParameters<typeof RedisStore>[0]> = {}) {
    const store = new RedisStore({
      url: `redis://127.0.0.1:${await freePort()}`,
      keyPrefix: 'tessera-test:dead:',
      ...options,
    });
    cleanups.push(() => store.close());
    return store;
  }

  it('fails every call fast with ERR_SERVICE_UNAVAILABLE, the first and the later ones', async () => {
    const store = await deadStore();
    await expectUnavailable(store.ping());
    await expectUnavailable(store.isJtiDenied('jti-a', nowSec()));
    await expectUnavailable(store.denyJti('jti-a', nowSec() + 60));
    await expectUnavailable(store.takeToken('rl:login_ip:192.0.2.1', 5, 1, nowSec()));
    await expectUnavailable(store.recordFailure('k', nowSec(), 60));
    await expectUnavailable(store.getFailures('k', nowSec(), 60));
    await expectUnavailable(store.clearFailures('k'));
    await expectUnavailable(store.publish(event(1)));
  });

  it('a burst of 100 denylist checks all fail, none answers "not denied"', async () => {
    const store = await deadStore();
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => store.isJtiDenied(`jti-${i}`, nowSec())),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
  });

  it("rate limits fail closed by default and open only where rateLimitWhenUnavailable says 'open'", async () => {
    const closed = await deadStore();
    await expectUnavailable(closed.takeToken('rl:refresh_ip:192.0.2.1', 5, 1, nowSec()));
    const open = await deadStore({ rateLimitWhenUnavailable: 'open' });
    expect(await open.takeToken('rl:login_ip:192.0.2.1', 5, 1, nowSec())).toEqual({ allowed: true, retryAfterSec: 0 });
    const perKey = await deadStore({
      rateLimitWhenUnavailable: (key) => (key.startsWith('rl:refresh_ip:') ? 'open' : 'closed'),
    });
    expect((await perKey.takeToken('rl:refresh_ip:192.0.2.1', 5, 1, nowSec())).allowed).toBe(true);
    await expectUnavailable(perKey.takeToken('rl:login_ip:192.0.2.1', 5, 1, nowSec()));
    // Fail-open is about availability only: the other operations still fail.
    await expectUnavailable(open.isJtiDenied('jti-a', nowSec()));
  });

  it('subscribe does not throw and close resolves', async () => {
    const store = await deadStore();
    const unsubscribe = store.subscribe(() => {});
    unsubscribe();
    await expect(store.close()).resolves.toBeUndefined();
    await expectUnavailable(store.ping());
  });

  it('a revocation source that never reached Redis is infinitely stale and not ready', async () => {
    const source = createRedisRevocationSource({ url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: 'x:' });
    cleanups.push(() => source.close());
    let ready = false;
    source.ready.then(
      () => {
        ready = true;
      },
      () => {},
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ready).toBe(false);
    expect(source.stalenessSec()).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('options are validated at construction', () => {
  it.each([
    [{}, /url or redis is required/],
    [{ url: 'http://127.0.0.1:6379' }, /url must be a redis/],
    [{ url: 'redis://127.0.0.1:6379', keyPrefix: 'a*' }, /keyPrefix/],
    [{ url: 'redis://127.0.0.1:6379', keyPrefix: '' }, /keyPrefix/],
    [{ url: 'redis://127.0.0.1:6379', redis: { keyPrefix: 'x:' } }, /redis.keyPrefix/],
    [{ url: 'redis://127.0.0.1:6379', commandTimeoutMs: 0 }, /commandTimeoutMs/],
    [{ url: 'redis://127.0.0.1:6379', rateLimitWhenUnavailable: 'maybe' }, /rateLimitWhenUnavailable/],
    [{ url: 'redis://127.0.0.1:6379', streamRetentionSec: 1 }, /streamRetentionSec/],
  ])('%o is refused', (options, message) => {
    expect(() => new RedisStore(options as ConstructorParameters<typeof RedisStore>[0])).toThrow(message);
  });
});

describe.skipIf(!(await hasRedisServer()))('a private redis-server that dies and comes back', () => {
  async function privateRedis(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    cleanups.push(() => redis.stop());
    return redis;
  }

  it('store, subscription and revocation source fail fast while it is down and recover by themselves', async () => {
    const redis = await privateRedis();
    const keyPrefix = 'tessera-test:outage:';
    const store = new RedisStore({ url: redis.url, keyPrefix });
    const other = new RedisStore({ url: redis.url, keyPrefix });
    const source = createRedisRevocationSource({ url: redis.url, keyPrefix, blockMs: 200 });
    cleanups.push(
      () => store.close(),
      () => other.close(),
      () => source.close(),
    );
    const viaPubSub: number[] = [];
    const viaSource: number[] = [];
    other.subscribe((e) => viaPubSub.push(e.id));
    source.onRevocation((e) => viaSource.push(e.id));
    await source.ready;
    await other.publish(event(1));
    await vi.waitFor(() => expect([viaPubSub, viaSource]).toEqual([[1], [1]]), { timeout: 5000 });

    await redis.stop();
    await vi.waitFor(() => expect(store.client.status).not.toBe('ready'), { timeout: 2000 });
    await expectUnavailable(store.isJtiDenied('jti-a', nowSec()));
    await expectUnavailable(store.publish(event(2)));
    await expectUnavailable(store.takeToken('rl:login_ip:192.0.2.1', 5, 1, nowSec()));
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(source.stalenessSec()).toBeGreaterThan(1);

    await redis.start();
    // No restart of anything on our side: the connections come back on their own.
    await vi.waitFor(() => store.ping(), { timeout: 5000, interval: 100 });
    await store.denyJti('jti-b', nowSec() + 60);
    expect(await store.isJtiDenied('jti-b', nowSec())).toBe(true);
    await vi.waitFor(() => expect(source.stalenessSec()).toBeLessThan(0.5), { timeout: 5000, interval: 50 });
    // The subscriber connection resubscribed, and the source reads the new (empty) stream.
    await vi.waitFor(
      async () => {
        await store.publish(event(3));
        expect(viaPubSub).toContain(3);
      },
      { timeout: 5000, interval: 200 },
    );
    await vi.waitFor(() => expect(viaSource).toContain(3), { timeout: 5000 });
    expect(source.isRevoked({ jti: 'x', sub: 'u', iat: 0, sid: 's-3' })).toBe(true);
    expect(source.isRevoked({ jti: 'x', sub: 'u', iat: 0, sid: 's-1' })).toBe(true);
  });

  it('scripts run by SHA fall back to EVAL on a server that does not know them (fresh or after SCRIPT FLUSH)', async () => {
    const redis = await privateRedis();
    const store = new RedisStore({ url: redis.url, keyPrefix: 'tessera-test:scripts:' });
    const raw = new Redis(redis.url);
    cleanups.push(
      () => store.close(),
      async () => {
        raw.disconnect();
      },
    );
    const now = nowSec();
    // A fresh server: the first EVALSHA gets NOSCRIPT.
    expect((await store.takeToken('k', 2, 0.01, now)).allowed).toBe(true);
    const [known] = (await raw.script(
      'EXISTS',
      createHash('sha1').update(TAKE_TOKEN.source).digest('hex'),
    )) as number[];
    expect(known).toBe(1);
    await raw.script('FLUSH');
    expect((await store.takeToken('k', 2, 0.01, now)).allowed).toBe(true);
    expect((await store.takeToken('k', 2, 0.01, now)).allowed).toBe(false);
  });

  it('the auth server answers 503 ERR_SERVICE_UNAVAILABLE while Redis is down, and serves again after', async () => {
    const redis = await privateRedis();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
    const durable = new SqliteStore({ path: join(dir, 'tessera.sqlite') });
    const ephemeral = new RedisStore({ url: redis.url, keyPrefix: 'tessera-test:server:' });
    const server = await createAuthServer({
      durable,
      ephemeral,
      env: {},
      masterKey: randomBytes(32),
      keyTimer: false,
      config: {
        environment: 'test',
        argon2: { memoryCostKiB: 8192, timeCost: 1, parallelism: 1 },
        masterKeyFile: join(dir, 'master.key'),
        databasePath: join(dir, 'tessera.sqlite'),
      },
    });
    cleanups.push(async () => {
      await server.close();
      await ephemeral.close();
      await durable.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const login = () =>
      server.app.inject({
        method: 'POST',
        url: '/auth/login',
        headers: { 'content-type': 'application/json' },
        payload: { email: 'nobody@example.test', password: 'not the password at all' },
      });
    expect((await login()).statusCode).toBe(401);

    await redis.stop();
    await vi.waitFor(() => expect(ephemeral.client.status).not.toBe('ready'), { timeout: 2000 });
    const started = performance.now();
    const down = await login();
    expect(performance.now() - started).toBeLessThan(1500);
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('1');
    expect(down.json()).toMatchObject({ error: 'temporarily_unavailable', code: 'ERR_SERVICE_UNAVAILABLE' });

    await redis.start();
    await vi.waitFor(async () => expect((await login()).statusCode).toBe(401), { timeout: 5000, interval: 100 });
  });
});
