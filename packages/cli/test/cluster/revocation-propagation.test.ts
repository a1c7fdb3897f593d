/**
 * A session revoked on instance A reaches guards attached elsewhere: one fed by instance B's
 * SSE feed (createRevocationFeed), one reading Redis directly (createRedisRevocationSource).
 * Measured per revocation from sending DELETE /auth/sessions/:id to A until each guard rejects
 * the token it accepted just before; the p99 is asserted against a generous bound (the suite
 * shares two cores with everything else) and printed. bench:cluster measures it quietly.
 */

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createGuard, createRevocationFeed, type Guard } from '@tessera/guard';
import { createRedisRevocationSource } from '@tessera/store-redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI_BIN, type Cluster, login, register, sidOf, startCluster } from './support/instances.js';
import { dropTestState, REDIS_URL, randomPrefix, randomSchema, sharedServicesEnv } from './support/services.js';
import { describeCluster } from './support/suite.js';

const REVOCATIONS = 60;
const WARM = 5;
/** The target is 100 ms p99 on a quiet machine; this bound only catches a broken path. */
const P99_BOUND_MS = 400;

function addClient(cluster: Cluster, env: Record<string, string>): Promise<{ id: string; secret: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, 'clients', 'add', 'guard-b', '--scopes', 'revocations', '--json'], {
      cwd: cluster.dir,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'development',
        TESSERA_ISSUER: cluster.issuer,
        TESSERA_MASTER_KEY: cluster.masterKey,
        TESSERA_DATABASE_PATH: join(cluster.dir, 'tessera.sqlite'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`tessera clients add exited ${code}: ${err}`));
      const json = JSON.parse(out) as { client_id: string; client_secret: string };
      resolve({ id: json.client_id, secret: json.client_secret });
    });
  });
}

async function untilRevoked(guard: Guard, token: string, start: number): Promise<number> {
  const request = { headers: { authorization: `Bearer ${token}` } };
  for (;;) {
    try {
      await guard.authenticate(request);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_TOKEN_REVOKED') throw error;
      return performance.now() - start;
    }
    if (performance.now() - start > 5000) throw new Error('a revoked token was still accepted after 5 s');
    await new Promise(setImmediate);
  }
}

function p(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((q / 100) * sorted.length) - 1)] as number;
}

describeCluster('cluster: revocation on instance A reaches guards attached to instance B and to Redis', () => {
  const schema = randomSchema();
  const prefix = randomPrefix();
  const env = {
    ...sharedServicesEnv(schema, prefix),
    TESSERA_RATE_LIMIT_ENABLED: 'false',
  };
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster(2, env);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await dropTestState(schema, prefix);
  });

  it('rejects the revoked token within the bound, through both sources', async () => {
    const [a, b] = cluster.urls as [string, string];
    await register(a, 'revoke@example.com');
    const admin = (await login(a, 'revoke@example.com')).accessToken;
    const victims: string[] = [];
    for (let i = 0; i < REVOCATIONS + WARM; i++)
      victims.push((await login(i % 2 ? a : b, 'revoke@example.com')).accessToken);
    const client = await addClient(cluster, env);
    const feed = createRevocationFeed({ url: b, clientId: client.id, clientSecret: client.secret });
    const redisSource = createRedisRevocationSource({ url: REDIS_URL, keyPrefix: prefix });
    const jwksUri = `${b}/.well-known/jwks.json`;
    const sseGuard = createGuard({
      issuer: cluster.issuer,
      audience: 'tessera-api',
      jwksUri,
      revocation: { source: feed },
    });
    const redisGuard = createGuard({
      issuer: cluster.issuer,
      audience: 'tessera-api',
      jwksUri,
      revocation: { source: redisSource },
    });
    try {
      await feed.ready;
      await redisSource.ready;
      await Promise.all([sseGuard.ready(), redisGuard.ready()]);
      const sse: number[] = [];
      const redis: number[] = [];
      for (let i = 0; i < victims.length; i++) {
        const token = victims[i] as string;
        const request = { headers: { authorization: `Bearer ${token}` } };
        await sseGuard.authenticate(request);
        await redisGuard.authenticate(request);
        const start = performance.now();
        const revoke = fetch(`${a}/auth/sessions/${sidOf(token)}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${admin}` },
        });
        const [viaSse, viaRedis] = await Promise.all([
          untilRevoked(sseGuard, token, start),
          untilRevoked(redisGuard, token, start),
        ]);
        const res = await revoke;
        await res.arrayBuffer();
        expect(res.status).toBe(204);
        if (i >= WARM) {
          sse.push(viaSse);
          redis.push(viaRedis);
        }
      }
      sse.sort((x, y) => x - y);
      redis.sort((x, y) => x - y);
      const fmt = (xs: number[]) =>
        `p50 ${p(xs, 50).toFixed(1)} ms, p99 ${p(xs, 99).toFixed(1)} ms, max ${xs.at(-1)?.toFixed(1)} ms`;
      console.info(
        `cluster revocation A -> guard via B's SSE feed: ${fmt(sse)}; via Redis: ${fmt(redis)} (${sse.length} revocations)`,
      );
      expect(p(sse, 99)).toBeLessThan(P99_BOUND_MS);
      expect(p(redis, 99)).toBeLessThan(P99_BOUND_MS);
    } finally {
      sseGuard.close();
      redisGuard.close();
      await feed.close();
      await redisSource.close();
    }
  }, 90_000);
});
