/**
 * Revocation propagation across instances for bench:cluster: a session revoked on instance A
 * (DELETE /auth/sessions/:id), timed until a guard fed from elsewhere rejects its token. Two
 * guards, two sources: instance B's SSE feed (createRevocationFeed) and Redis directly
 * (createRedisRevocationSource). Per session: both guards accept the token first (it is then
 * in their verified-token caches), the DELETE goes to A, and each guard is polled one
 * setImmediate apart until it answers ERR_TOKEN_REVOKED; the time from sending the DELETE.
 */

import { createGuard, createRevocationFeed } from '@tessera/guard';
import { createRedisRevocationSource } from '@tessera/store-redis';
import { round } from './harness.mjs';

function sidOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).sid;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(times) {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50Ms: round(percentile(sorted, 50), 2),
    p90Ms: round(percentile(sorted, 90), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    maxMs: round(sorted[sorted.length - 1], 2),
  };
}

async function untilRevoked(guard, request, start) {
  for (;;) {
    try {
      await guard.authenticate(request);
    } catch (error) {
      if (error?.code !== 'ERR_TOKEN_REVOKED') throw error;
      return performance.now() - start;
    }
    if (performance.now() - start > 5000) throw new Error('a revoked token was still accepted after 5 s');
    await new Promise(setImmediate);
  }
}

export async function measurePropagation({
  issuer,
  revokeUrl,
  feedUrl,
  client,
  redisUrl,
  keyPrefix,
  email,
  revocations,
  login,
  log,
}) {
  const WARM = 5;
  const feed = createRevocationFeed({ url: feedUrl, clientId: client.id, clientSecret: client.secret });
  const redisSource = createRedisRevocationSource({ url: redisUrl, keyPrefix });
  const jwksUri = `${feedUrl}/.well-known/jwks.json`;
  const guards = [];
  try {
    const admin = (await login(revokeUrl, email)).accessToken;
    const victims = [];
    for (let i = 0; i < revocations + WARM; i++) victims.push((await login(revokeUrl, email)).accessToken);
    await feed.ready;
    if (redisSource.ready !== undefined) await redisSource.ready;
    const sseGuard = createGuard({ issuer, audience: 'tessera-api', jwksUri, revocation: { source: feed } });
    const redisGuard = createGuard({ issuer, audience: 'tessera-api', jwksUri, revocation: { source: redisSource } });
    guards.push(sseGuard, redisGuard);
    await Promise.all(guards.map((g) => g.ready()));
    const sse = [];
    const redis = [];
    for (let i = 0; i < victims.length; i++) {
      const request = { headers: { authorization: `Bearer ${victims[i]}` } };
      await sseGuard.authenticate(request);
      await redisGuard.authenticate(request);
      const start = performance.now();
      const revoke = fetch(`${revokeUrl}/auth/sessions/${sidOf(victims[i])}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${admin}` },
      });
      const [a, b] = await Promise.all([
        untilRevoked(sseGuard, request, start),
        untilRevoked(redisGuard, request, start),
      ]);
      const res = await revoke;
      await res.arrayBuffer();
      if (res.status !== 204) throw new Error(`DELETE session: ${res.status}`);
      if (i >= WARM) {
        sse.push(a);
        redis.push(b);
      }
    }
    const result = {
      method:
        'session revoked on instance A (DELETE /auth/sessions/:id); each guard polled one setImmediate apart until ERR_TOKEN_REVOKED; time from sending the DELETE; both guards measured on the same revocations',
      warmupRevocations: WARM,
      sse: { source: 'createRevocationFeed on instance B', ...summary(sse) },
      redis: { source: 'createRedisRevocationSource on the shared Redis', ...summary(redis) },
    };
    log(
      `propagation A -> B: SSE p50 ${result.sse.p50Ms} ms p99 ${result.sse.p99Ms} ms; Redis p50 ${result.redis.p50Ms} ms p99 ${result.redis.p99Ms} ms`,
    );
    return result;
  } finally {
    for (const g of guards) g.close();
    await feed.close();
    await redisSource.close();
  }
}
