/**
 * Behaviour only a shared Redis can show: several store instances (several connections, as
 * several auth servers) sharing one denylist, one bucket and one channel; the keys' own
 * expiries; and the revocation source reading what another process published.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RevocationEvent } from '@tessera/server/contracts';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisRevocationSource, type RedisRevocationSource, RedisStore } from '../src/index.js';
import { checkRedis, deletePrefix, REDIS_URL, randomPrefix } from './support/redis.js';

const available = await checkRedis();
const nowSec = () => Math.floor(Date.now() / 1000);

describe.skipIf(!available)('RedisStore on a shared Redis', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A prefix cleaned up after the test, and a factory for stores and sources on it. */
  function scope() {
    const keyPrefix = randomPrefix();
    cleanups.push(() => deletePrefix(keyPrefix));
    return {
      keyPrefix,
      store(): RedisStore {
        const store = new RedisStore({ url: REDIS_URL, keyPrefix });
        cleanups.push(() => store.close());
        return store;
      },
      source(): RedisRevocationSource {
        const source = createRedisRevocationSource({ url: REDIS_URL, keyPrefix, blockMs: 200 });
        cleanups.push(() => source.close());
        return source;
      },
      raw(): Redis {
        const raw = new Redis(REDIS_URL);
        cleanups.push(async () => {
          raw.disconnect();
        });
        return raw;
      },
    };
  }

  const event = (id: number, value = `s-${id}`): RevocationEvent => ({
    id,
    kind: 'sid',
    value,
    at: nowSec(),
    expiresAt: nowSec() + 3600,
  });

  it('two store instances both receive every event either of them publishes, in order', async () => {
    const s = scope();
    const a = s.store();
    const b = s.store();
    const seenA: number[] = [];
    const seenB: number[] = [];
    a.subscribe((e) => seenA.push(e.id));
    b.subscribe((e) => seenB.push(e.id));
    // Both subscriptions must be live before either instance publishes.
    await Promise.all([a.whenSubscribed(), b.whenSubscribed()]);
    await a.publish(event(1));
    await b.publish(event(2));
    await vi.waitFor(() => expect([seenA.length, seenB.length]).toEqual([2, 2]), { timeout: 5000 });
    for (let id = 3; id <= 12; id++) await (id % 2 === 0 ? a : b).publish(event(id));
    const all = Array.from({ length: 12 }, (_, i) => i + 1);
    await vi.waitFor(() => expect([seenA, seenB]).toEqual([all, all]), { timeout: 5000 });
  });

  it('a jti denied through one instance is denied through another', async () => {
    const s = scope();
    const a = s.store();
    const b = s.store();
    await a.denyJti('jti-shared', nowSec() + 600);
    expect(await b.isJtiDenied('jti-shared', nowSec())).toBe(true);
    expect(await b.isJtiDenied('jti-other', nowSec())).toBe(false);
  });

  it('a denylist entry expires in Redis at the token expiry, and one already expired is not stored', async () => {
    const s = scope();
    const store = s.store();
    const raw = s.raw();
    await store.denyJti('jti-live', nowSec() + 120);
    const ttl = await raw.ttl(`${s.keyPrefix}jti:jti-live`);
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);
    await store.denyJti('jti-dead', nowSec() - 5);
    expect(await raw.exists(`${s.keyPrefix}jti:jti-dead`)).toBe(0);
  });

  it('bucket and failure-counter keys carry an expiry, so idle keys do not accumulate', async () => {
    const s = scope();
    const store = s.store();
    const raw = s.raw();
    await store.takeToken('rl:login_ip:192.0.2.1', 5, 5 / 60, nowSec());
    await store.recordFailure('login:pair', nowSec(), 900);
    const bucketTtl = await raw.ttl(`${s.keyPrefix}rl:rl:login_ip:192.0.2.1`);
    const failTtl = await raw.ttl(`${s.keyPrefix}fail:login:pair`);
    // A bucket is forgotten once it would be full again (5 tokens at 5/min: 60 s), plus slack.
    expect(bucketTtl).toBeGreaterThan(60);
    expect(bucketTtl).toBeLessThanOrEqual(120);
    expect(failTtl).toBeGreaterThan(900);
  });

  it('50 concurrent takes from two instances on one bucket allow exactly its capacity', async () => {
    const s = scope();
    const a = s.store();
    const b = s.store();
    const now = nowSec();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).takeToken('rl:burst', 10, 0.001, now)),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    for (const denied of results.filter((r) => !r.allowed)) expect(denied.retryAfterSec).toBeGreaterThanOrEqual(1);
  });

  it('50 concurrent failures on one key count to exactly 50', async () => {
    const s = scope();
    const a = s.store();
    const b = s.store();
    const now = nowSec();
    const counts = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).recordFailure('k', now, 600)),
    );
    expect(counts.map((c) => c.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await a.getFailures('k', now, 600)).count).toBe(50);
  });

  it('keys stay under the prefix: another prefix sees nothing', async () => {
    const s1 = scope();
    const s2 = scope();
    const one = s1.store();
    const two = s2.store();
    await one.denyJti('jti-a', nowSec() + 60);
    await one.recordFailure('k', nowSec(), 60);
    expect(await two.isJtiDenied('jti-a', nowSec())).toBe(false);
    expect((await two.getFailures('k', nowSec(), 60)).count).toBe(0);
    const keys = await s1.raw().keys(`${s1.keyPrefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(s1.keyPrefix)).toBe(true);
  });

  it('a malformed message on the channel is ignored, not delivered', async () => {
    const s = scope();
    const store = s.store();
    const seen: RevocationEvent[] = [];
    store.subscribe((e) => seen.push(e));
    await store.publish(event(1));
    await s.raw().publish(`${s.keyPrefix}revocations`, JSON.stringify({ id: 2, kind: 'everything', value: '*' }));
    await store.publish(event(3));
    await vi.waitFor(() => expect(seen.map((e) => e.id)).toEqual([1, 3]), { timeout: 5000 });
  });

  it('the revocation source loads what was published before it started, then follows new events', async () => {
    const s = scope();
    const store = s.store();
    await store.publish(event(1, 'before-1'));
    await store.publish({ ...event(2), kind: 'jti', value: 'jti-before' });
    const source = s.source();
    await source.ready;
    expect(source.isRevoked({ jti: 'x', sub: 'u', iat: 0, sid: 'before-1' })).toBe(true);
    expect(source.isRevoked({ jti: 'jti-before', sub: 'u', iat: 0 })).toBe(true);
    expect(source.isRevoked({ jti: 'x', sub: 'u', iat: 0, sid: 'other' })).toBe(false);
    expect(source.stalenessSec()).toBeLessThan(1);

    const heard: number[] = [];
    source.onRevocation((e) => heard.push(e.id));
    await store.publish({ ...event(3), kind: 'sub', value: `u-9@${nowSec()}` });
    await vi.waitFor(() => expect(heard).toEqual([3]), { timeout: 5000 });
    expect(source.isRevoked({ jti: 'y', sub: 'u-9', iat: nowSec() - 10 })).toBe(true);
    expect(source.isRevoked({ jti: 'y', sub: 'u-9', iat: nowSec() + 10 })).toBe(false);
  });

  it('an idle source keeps hearing from Redis: staleness stays below the block time', async () => {
    const s = scope();
    const source = s.source();
    await source.ready;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(source.stalenessSec()).toBeLessThan(0.6);
  });

  it('events published while the source connection was cut are caught up, none missed', async () => {
    const s = scope();
    const store = s.store();
    const connectionName = `src-${s.keyPrefix.replace(/[^0-9a-f]/g, '')}`;
    const source = createRedisRevocationSource({
      url: REDIS_URL,
      keyPrefix: s.keyPrefix,
      blockMs: 200,
      redis: { connectionName },
    });
    cleanups.push(() => source.close());
    const heard: number[] = [];
    source.onRevocation((e) => heard.push(e.id));
    await source.ready;
    await store.publish(event(1));
    await vi.waitFor(() => expect(heard).toEqual([1]), { timeout: 5000 });

    const raw = s.raw();
    const list = String(await raw.client('LIST'));
    const id = /id=(\d+) .*name=(\S+)/g;
    const ids = [...list.matchAll(id)].filter((m) => m[2] === connectionName).map((m) => m[1] as string);
    expect(ids).toHaveLength(1);
    await raw.client('KILL', 'ID', ids[0] as string);
    // Published right after the cut, before the source has reconnected.
    for (const n of [2, 3, 4]) await store.publish(event(n));
    await vi.waitFor(() => expect(heard).toEqual([1, 2, 3, 4]), { timeout: 5000 });
  });

  const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  it.skipIf(!existsSync(built))('the revocation source sees events published by another process', async () => {
    const s = scope();
    const source = s.source();
    const heard: RevocationEvent[] = [];
    source.onRevocation((e) => heard.push(e));
    await source.ready;
    const fixture = fileURLToPath(new URL('./fixtures/publisher.mjs', import.meta.url));
    const child = spawn(process.execPath, [fixture, REDIS_URL, s.keyPrefix, '100', '5'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { published: number[]; pid: number };
    expect(report.pid).not.toBe(process.pid);
    await vi.waitFor(() => expect(heard.map((e) => e.id)).toEqual([100, 101, 102, 103, 104]), { timeout: 5000 });
    expect(source.isRevoked({ jti: 'x', sub: 'u', iat: 0, sid: 'child-session-102' })).toBe(true);
  });
});

if (!available) it.skip('RedisStore on a shared Redis (Redis unreachable)', () => {});
