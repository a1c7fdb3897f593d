/**
 * Redis stops (a private `redis-server` child on its own port; the shared one is never
 * touched) and starts again, Tessera running on PostgreSQL + that Redis with its default,
 * fail-closed settings. The documented behaviour (docs/deploy.md), per function:
 * - everything Redis guards answers a clean 503 ERR_SERVICE_UNAVAILABLE with no state change:
 *   login and register (rate limits, failure counters), refresh (rate limit), every Bearer
 *   route (the access-token denylist cannot be checked: whoami, sessions, DELETE of a session);
 * - logout answers 503 too, but its session has already ended in PostgreSQL (the refresh token
 *   is dead); the access token is denylisted only when the client retries after the outage;
 * - the JWKS is still served (keys live in memory and PostgreSQL), so guards keep verifying;
 * - /readyz says `ephemeral: failed` so a load balancer can take the instance out;
 * - when Redis is back, the same instance serves again within a second or two, no restart.
 */

import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type Answer,
  type Cluster,
  get,
  login,
  refresh,
  register,
  sidOf,
  sleep,
  startCluster,
} from './support/instances.js';
import { hasRedisServer, type PrivateRedis, startPrivateRedis } from './support/private-services.js';
import { DATABASE_URL, dropTestState, query, REQUIRED, randomPrefix, randomSchema } from './support/services.js';
import { describeCluster } from './support/suite.js';

const EMAIL = 'outage@example.com';

function expect503(a: Answer, what: string): void {
  expect(a.status, `${what}: ${a.text}`).toBe(503);
  expect(a.json().code, what).toBe('ERR_SERVICE_UNAVAILABLE');
  expect(a.token, what).toBeUndefined();
}

async function post(url: string, path: string, init: { body?: unknown; headers?: Record<string, string> }) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? '{}' : JSON.stringify(init.body),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    setCookie: res.headers.get('set-cookie'),
    token: undefined,
    json: () => JSON.parse(text) as Record<string, unknown>,
  } satisfies Answer;
}

const haveRedisServer = hasRedisServer();
if (!haveRedisServer && !REQUIRED) console.warn('\n!!! SKIPPING the Redis outage test: no redis-server binary\n');

describeCluster('cluster: Redis stopped and started again', () => {
  const schema = randomSchema();
  const prefix = randomPrefix();
  let redis: PrivateRedis;
  let cluster: Cluster;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    cluster = await startCluster(2, {
      TESSERA_DATABASE_URL: DATABASE_URL,
      TESSERA_DATABASE_SCHEMA: schema,
      TESSERA_REDIS_URL: redis.url,
      TESSERA_REDIS_KEY_PREFIX: prefix,
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
    await dropTestState(schema, prefix, redis?.url);
  });

  it.runIf(haveRedisServer || REQUIRED)(
    'fails closed with clean 503s while it is down and recovers without restarting Tessera',
    async () => {
      const [a, b] = cluster.urls as [string, string];
      await register(a, EMAIL);
      const alice = await login(a, EMAIL);
      const other = await login(b, EMAIL);

      await redis.stop();
      for (const url of [a, b]) {
        expect503(await refresh(url, alice.refreshToken), `refresh on ${url}`);
        expect503(
          await post(url, '/auth/login', { body: { email: EMAIL, password: 'correct horse battery staple' } }),
          'login',
        );
        expect503(
          await post(url, '/auth/register', {
            body: { email: 'new@example.com', password: 'correct horse battery staple' },
          }),
          'register',
        );
        expect503(await get(url, '/auth/whoami', alice.accessToken), 'whoami');
        expect503(await get(url, '/auth/sessions', alice.accessToken), 'sessions');
        expect((await get(url, '/.well-known/jwks.json')).status).toBe(200);
        const ready = await get(url, '/readyz');
        expect(ready.status).toBe(503);
        expect(ready.json().checks).toMatchObject({ durable: 'ok', ephemeral: 'failed' });
      }
      const del = await fetch(`${a}/auth/sessions/${sidOf(other.accessToken)}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${alice.accessToken}` },
      });
      expect(del.status).toBe(503);
      await del.arrayBuffer();
      expect503(
        await post(a, '/auth/logout', {
          headers: {
            cookie: `__Secure-tessera_rt=${alice.refreshToken}`,
            'x-tessera-csrf': '1',
            authorization: `Bearer ${alice.accessToken}`,
          },
        }),
        'logout',
      );
      // Nothing else changed: one user, the other session live. The logout is the exception and
      // the one partial effect (docs/deploy.md): the session ends in PostgreSQL, so its refresh
      // token is dead, but the answer is 503 and the access token was not denylisted, so the
      // client must retry the logout when Redis is back.
      const sessions = await query<{ id: string; revoked_reason: string | null }>(
        `SELECT id, revoked_reason FROM ${schema}.sessions ORDER BY id`,
      );
      expect(Object.fromEntries(sessions.map((s) => [s.id, s.revoked_reason]))).toEqual({
        [sidOf(alice.accessToken)]: 'logout',
        [sidOf(other.accessToken)]: null,
      });
      const users = await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.users`);
      expect(users[0]?.n).toBe(1);

      await redis.start();
      const back = Date.now();
      for (const url of [a, b]) {
        for (;;) {
          if ((await get(url, '/readyz')).status === 200) break;
          if (Date.now() - back > 10_000) throw new Error(`${url} not ready 10 s after Redis came back`);
          await sleep(100);
        }
      }
      console.info(`cluster Redis outage: both instances ready ${Date.now() - back} ms after Redis came back`);
      const r = await refresh(b, other.refreshToken);
      expect(r.status, r.text).toBe(200);
      expect((await get(a, '/auth/whoami', other.accessToken)).status).toBe(200);
      expect((await refresh(a, alice.refreshToken)).json().code).toBe('ERR_REFRESH_REVOKED');
      const retry = await post(a, '/auth/logout', {
        headers: {
          cookie: `__Secure-tessera_rt=${alice.refreshToken}`,
          'x-tessera-csrf': '1',
          authorization: `Bearer ${alice.accessToken}`,
        },
      });
      expect(retry.status, retry.text).toBeLessThan(300);
      expect((await get(b, '/auth/whoami', alice.accessToken)).status).toBe(401);
      expect((await login(a, EMAIL)).refreshToken).toMatch(/^trt_/);
    },
    60_000,
  );
});
