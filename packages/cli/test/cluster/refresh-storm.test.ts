/**
 * Three `tessera serve` processes on one PostgreSQL + one Redis: 1,000 concurrent refreshes of
 * one token spread over the three rotate it exactly once and all get the same answer (the grace
 * window works across processes); a replay after the window revokes the family everywhere.
 *
 * PostgreSQL serialises the refreshes of one family (a row lock per rotation), so 1,000 at once
 * take seconds on a small machine: the storm runs with the longest grace window (60 s), then the three
 * instances are restarted with a 1 s window (same database and Redis) for the late replay.
 */

import { hashRefreshToken } from '@tessera/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Cluster, login, refresh, register, sleep, startCluster } from './support/instances.js';
import { dropTestState, query, randomPrefix, randomSchema, sharedServicesEnv } from './support/services.js';
import { describeCluster } from './support/suite.js';

const GRACE_SEC = 60;
const SHORT_GRACE_SEC = 1;
const STORM = 1000;

describeCluster('cluster: one token refreshed 1,000 times at once over three instances', () => {
  const schema = randomSchema();
  const prefix = randomPrefix();
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster(3, {
      ...sharedServicesEnv(schema, prefix),
      TESSERA_RATE_LIMIT_ENABLED: 'false',
      TESSERA_REFRESH_GRACE_SEC: String(GRACE_SEC),
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await dropTestState(schema, prefix);
  });

  it('rotates exactly once, answers every request alike, then a late replay revokes the family on every instance', async () => {
    await register(cluster.urls[0] as string, 'storm@example.com');
    const { refreshToken: old } = await login(cluster.urls[1] as string, 'storm@example.com');

    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: STORM }, (_, i) => refresh(cluster.urls[i % 3] as string, old)),
    );
    const stormMs = Date.now() - started;
    console.info(`cluster storm: ${STORM} concurrent refreshes over 3 instances answered in ${stormMs} ms`);

    const statuses = new Map<number, number>();
    for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    console.info(`cluster storm statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
    // PostgreSQL queues the 1,000 on one family lock; what waits longer than the pool's
    // connection timeout gets a clean, retryable 503 -- never a 500, never a second rotation.
    expect([...statuses.keys()].every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    for (const a of answers.filter((x) => x.status === 503)) {
      expect(a.json().code).toBe('ERR_SERVICE_UNAVAILABLE');
      expect(a.token).toBeUndefined();
    }
    // Every client that got the 503 retries (as @tessera/client does), inside the grace window.
    const retried = await Promise.all(
      answers.map((a, i) => (a.status === 200 ? a : refresh(cluster.urls[(i + 1) % 3] as string, old))),
    );
    expect(retried.map((a) => a.status)).toEqual(retried.map(() => 200));
    expect(Date.now() - started).toBeLessThan(GRACE_SEC * 1000);
    expect(new Set(retried.map((a) => a.text)).size).toBe(1);
    // The same cookie value everywhere (Max-Age and Expires count down from the answer's time).
    expect(new Set(retried.map((a) => a.token)).size).toBe(1);
    const next = retried[0]?.token as string;
    expect(next).toMatch(/^trt_/);
    expect(next).not.toBe(old);

    // Exactly one rotation in the database: the old token replaced by the one new token, nothing else.
    const rows = await query<{ hash: string; replaced_by: string | null; rotated_at: number | null }>(
      `SELECT t.hash, t.replaced_by, t.rotated_at FROM ${schema}.refresh_tokens t
         JOIN ${schema}.refresh_tokens o ON o.session_id = t.session_id WHERE o.hash = $1 ORDER BY t.created_at, t.hash`,
      [hashRefreshToken(old)],
    );
    expect(rows).toHaveLength(2);
    const byHash = new Map(rows.map((r) => [r.hash, r]));
    expect(byHash.get(hashRefreshToken(old))?.replaced_by).toBe(hashRefreshToken(next));
    expect(byHash.get(hashRefreshToken(next))?.rotated_at).toBeNull();
    const [session] = await query<{ revoked_at: number | null }>(
      `SELECT s.revoked_at FROM ${schema}.sessions s JOIN ${schema}.refresh_tokens t ON t.session_id = s.id WHERE t.hash = $1`,
      [hashRefreshToken(old)],
    );
    expect(session?.revoked_at).toBeNull();

    // After the grace window the old token is a replay: the family dies on every instance.
    await cluster.restart({ TESSERA_REFRESH_GRACE_SEC: String(SHORT_GRACE_SEC) });
    await sleep(Math.max(0, Date.now() - started < (SHORT_GRACE_SEC + 1) * 1000 ? (SHORT_GRACE_SEC + 1) * 1000 : 0));
    const replay = await refresh(cluster.urls[2] as string, old);
    expect(replay.status).toBe(401);
    expect(replay.json().code).toBe('ERR_REFRESH_REUSED');
    for (const url of cluster.urls) {
      const after = await refresh(url, next);
      expect(after.status, url).toBe(401);
      expect(['ERR_REFRESH_REVOKED', 'ERR_REFRESH_REUSED']).toContain(after.json().code);
    }
    const [revoked] = await query<{ revoked_at: number | null; revoked_reason: string | null }>(
      `SELECT s.revoked_at, s.revoked_reason FROM ${schema}.sessions s JOIN ${schema}.refresh_tokens t ON t.session_id = s.id WHERE t.hash = $1`,
      [hashRefreshToken(old)],
    );
    expect(revoked?.revoked_at).not.toBeNull();
  }, 90_000);
});
