/**
 * The Redis revocation source plugged into a real guard: a token is accepted, then rejected as
 * soon as its session's revocation is published through the store; and a guard whose Redis has
 * gone away fails closed once the source is staler than the guard allows.
 */

import { type AccessTokenInput, generateKey, signAccessToken, type TesseraKey } from '@tessera/core';
import { createGuard } from '@tessera/guard';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisRevocationSource, RedisStore } from '../src/index.js';
import {
  checkRedis,
  deletePrefix,
  freePort,
  hasRedisServer,
  PrivateRedis,
  REDIS_URL,
  randomPrefix,
} from './support/redis.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'api';
const nowSec = () => Math.floor(Date.now() / 1000);

let key: TesseraKey;
beforeAll(async () => {
  key = await generateKey('ES256', { kid: 'k1' });
});

function bearer(input: Partial<AccessTokenInput> = {}) {
  const token = signAccessToken({ sub: 'user-1', sid: 'sess-1', scope: 'read', ...input } as AccessTokenInput, key, {
    issuer: ISSUER,
    audience: AUDIENCE,
    ttlSec: 600,
  }).token;
  return { headers: { authorization: `Bearer ${token}` } };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.skipIf(!(await checkRedis()))('a guard reading revocations from Redis', () => {
  it('rejects a token once its session revocation is published by an auth server instance', async () => {
    const keyPrefix = randomPrefix();
    const store = new RedisStore({ url: REDIS_URL, keyPrefix });
    const source = createRedisRevocationSource({ url: REDIS_URL, keyPrefix, blockMs: 200 });
    const guard = createGuard({ issuer: ISSUER, audience: AUDIENCE, keys: key, revocation: { source } });
    cleanups.push(async () => {
      guard.close();
      await source.close();
      await store.close();
      await deletePrefix(keyPrefix);
    });
    await source.ready;
    const request = bearer({ sid: 'sess-doomed' });
    await expect(guard.authenticate(request)).resolves.toMatchObject({ sid: 'sess-doomed' });
    await store.publish({ id: 1, kind: 'sid', value: 'sess-doomed', at: nowSec(), expiresAt: nowSec() + 3600 });
    await vi.waitFor(() => expect(guard.authenticate(request)).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' }), {
      timeout: 5000,
    });
    await expect(guard.authenticate(bearer({ sid: 'sess-other' }))).resolves.toMatchObject({ sid: 'sess-other' });
  });
});

describe.skipIf(!(await hasRedisServer()))('a guard whose Redis goes away', () => {
  it('fails closed once the source is staler than maxStalenessSec, and accepts again after Redis returns', async () => {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    const source = createRedisRevocationSource({ url: redis.url, keyPrefix: 'tessera-test:guard:', blockMs: 200 });
    const guard = createGuard({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: key,
      revocation: { source, maxStalenessSec: 1 },
    });
    cleanups.push(async () => {
      guard.close();
      await source.close();
      await redis.stop();
    });
    await source.ready;
    const request = bearer();
    await expect(guard.authenticate(request)).resolves.toMatchObject({ sub: 'user-1' });
    await redis.stop();
    await vi.waitFor(
      () => expect(guard.authenticate(request)).rejects.toMatchObject({ code: 'ERR_REVOCATION_STALE' }),
      {
        timeout: 5000,
        interval: 100,
      },
    );
    await redis.start();
    await vi.waitFor(() => expect(guard.authenticate(request)).resolves.toMatchObject({ sub: 'user-1' }), {
      timeout: 5000,
      interval: 100,
    });
  });
});
