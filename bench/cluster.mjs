/**
 * `npm run bench:cluster`: Tessera scaled out on PostgreSQL + Redis, in one run:
 *
 * 1. Refresh rotations per second with 1, 2 and 3 `tessera serve` processes on one PostgreSQL
 *    and one Redis, versus the embedded SQLite single instance, versus node-oidc-provider
 *    (its own npm package, version recorded; bench/lib/cluster-oidc-target.mjs: memory adapter,
 *    a confidential client, rotateRefreshToken on, an ES256 JWT access token per refresh,
 *    refresh tokens seeded into its models so no login is in the path), once on its memory
 *    adapter and once on a Redis adapter (bench/lib/oidc-redis-adapter.mjs, the way it shares
 *    state between processes when it scales out). Every request presents
 *    a distinct, never-used refresh token (free-list wrk scripts). With k instances, k wrk
 *    processes (one thread each) run at once, one per instance, the connections split between
 *    them, and their rates are summed. Each round runs every configuration once, in an order
 *    rotated from round to round, so a noisy moment does not land on one configuration.
 * 2. Revocation propagation across instances: DELETE /auth/sessions/:id sent to instance A;
 *    time until a guard whose revocation source is attached to instance B rejects the token,
 *    for B's SSE feed (createRevocationFeed) and for a Redis source (createRedisRevocationSource).
 *
 * Every figure is the median of the rounds; ratios are of medians. Results:
 * bench/results/cluster.json. Services: TESSERA_BENCH_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres) and TESSERA_BENCH_REDIS_URL (default
 * redis://127.0.0.1:6379); each run uses its own schema and key prefix and drops them after.
 * The machine is small (2 cores here): the instances, PostgreSQL, Redis and wrk share it, so
 * more instances add contention, not cores; the figures say what one machine does.
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  addClient,
  freePort,
  login,
  loginMany,
  register,
  startCluster,
  startInstance,
} from './lib/cluster-instances.mjs';
import { startOidcTarget } from './lib/cluster-oidc.mjs';
import { measurePropagation } from './lib/cluster-propagation.mjs';
import { fmtInt, fmtRatio, formatTable, machineInfo, median, ratio, round, sleep, writeJson } from './lib/harness.mjs';
import { hasWrk, runWrk, wrkVersion } from './lib/wrk.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_SEC = Number(process.env.BENCH_ROUND_SEC ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 48);
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 200);
const DATABASE_URL = process.env.TESSERA_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TESSERA_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TARGETS = { vsOidcProvider: 2, propagationP99Ms: 100 };
const EMAIL = 'bench@example.com';

function log(line) {
  console.log(line);
}

/** Parses the free-list script's `CHAIN failures=.. starved=..` line. */
function chain(result) {
  const m = /CHAIN failures=(\d+) starved=(\d+)/.exec(result.output);
  return { failures: Number(m?.[1] ?? 0), starved: Number(m?.[2] ?? 0) };
}

/** One round against `targets` ({ url, tokens, script, env }), one wrk each, all at once; summed rate. */
async function chainRound(dir, name, targets) {
  const per = Math.max(1, Math.floor(CONNECTIONS / targets.length));
  const results = await Promise.all(
    targets.map((t, i) => {
      const file = join(dir, `${name}-${i}.txt`);
      writeFileSync(file, `${t.tokens.join('\n')}\n`);
      return runWrk(t.url, {
        connections: per,
        threads: 1,
        durationSec: ROUND_SEC,
        script: t.script,
        env: { TOKENS_FILE: file, TOKENS_PER_THREAD: String(t.tokens.length), ...t.env },
      });
    }),
  );
  let perSec = 0;
  let bad = 0;
  for (const r of results) {
    const c = chain(r);
    perSec += r.perSec;
    bad += r.non2xx + r.socketErrors + c.failures + c.starved;
  }
  if (bad > 0) throw new Error(`${name}: ${bad} failed, starved or non-2xx requests in a round`);
  return { perSec, p99Ms: Math.max(...results.map((r) => r.p99Ms)) };
}

async function dropServices(schema, prefix) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

async function main() {
  if (!hasWrk()) throw new Error('bench:cluster needs wrk (apt-get install wrk)');
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-cluster-'));
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const prefix = `bench:${randomBytes(6).toString('hex')}:`;
  const serviceEnv = {
    TESSERA_DATABASE_URL: DATABASE_URL,
    TESSERA_DATABASE_SCHEMA: schema,
    TESSERA_REDIS_URL: REDIS_URL,
    TESSERA_REDIS_KEY_PREFIX: prefix,
  };
  const sqliteDir = join(dir, 'sqlite');
  const clusterDir = join(dir, 'cluster');
  mkdirSync(sqliteDir);
  mkdirSync(clusterDir);
  const stoppers = [];
  try {
    const port = await freePort();
    const sqlite = await startInstance({
      root: ROOT,
      dir: sqliteDir,
      port,
      issuer: `http://127.0.0.1:${port}`,
      masterKey: randomBytes(32).toString('base64url'),
    });
    stoppers.push(() => sqlite.stop());
    const cluster = await startCluster({ root: ROOT, dir: clusterDir, n: 3, env: serviceEnv });
    stoppers.push(() => cluster.stop());
    // A fourth instance with the refresh session cache off: every refresh reads the store first,
    // which is what a token presented to an instance that did not issue it costs (a balancer
    // without affinity sends (k-1)/k of the refreshes of k instances there).
    const uncachedPort = await freePort();
    const uncached = await startInstance({
      root: ROOT,
      dir: clusterDir,
      port: uncachedPort,
      issuer: cluster.issuer,
      masterKey: cluster.masterKey,
      env: { ...serviceEnv, TESSERA_REFRESH_CACHE_ENTRIES: '0' },
    });
    stoppers.push(() => uncached.stop());
    const oidc = await startOidcTarget(ROOT);
    stoppers.push(() => oidc.stop());
    const oidcRedis = await startOidcTarget(ROOT, { OIDC_REDIS_URL: REDIS_URL, OIDC_REDIS_PREFIX: `${prefix}oidc:` });
    stoppers.push(() => oidcRedis.stop());
    log(`SQLite instance ${sqlite.url}; PostgreSQL + Redis instances ${cluster.urls.join(' ')} (schema ${schema})`);
    log(`node-oidc-provider ${oidc.info.version} at ${oidc.info.url}`);
    await register(sqlite.url, EMAIL);
    await register(cluster.urls[0], EMAIL);

    const tesseraScript = join(ROOT, 'bench/lib/refresh-chain.lua');
    const oidcScript = join(ROOT, 'bench/lib/cluster-oidc-chain.lua');
    const basic = (info) => `Basic ${Buffer.from(`${info.clientId}:${info.clientSecret}`).toString('base64')}`;
    const poolPer = (k) => Math.floor(CONNECTIONS / k) * 2;
    const tesseraTargets = async (urls) => {
      const sessions = await loginMany(urls, EMAIL, poolPer(urls.length) * urls.length);
      // Instance i gets the sessions it will rotate; any instance could rotate any of them.
      return urls.map((url, i) => ({
        url,
        script: tesseraScript,
        env: {},
        tokens: sessions.filter((_, j) => j % urls.length === i).map((s) => s.refreshToken),
      }));
    };
    const configs = [
      { name: 'sqlite-1', label: 'Tessera, SQLite, 1 instance', targets: () => tesseraTargets([sqlite.url]) },
      {
        name: 'cluster-1',
        label: 'Tessera, PostgreSQL + Redis, 1 instance',
        targets: () => tesseraTargets(cluster.urls.slice(0, 1)),
      },
      {
        name: 'cluster-1-uncached',
        label: 'Tessera, PostgreSQL + Redis, 1 instance, refresh cache off (no affinity)',
        targets: () => tesseraTargets([uncached.url]),
      },
      {
        name: 'cluster-2',
        label: 'Tessera, PostgreSQL + Redis, 2 instances',
        targets: () => tesseraTargets(cluster.urls.slice(0, 2)),
      },
      {
        name: 'cluster-3',
        label: 'Tessera, PostgreSQL + Redis, 3 instances',
        targets: () => tesseraTargets(cluster.urls),
      },
      {
        name: 'oidc-provider',
        label: `node-oidc-provider ${oidc.info.version}, memory adapter, 1 process`,
        targets: async () => [
          {
            url: oidc.info.url,
            script: oidcScript,
            env: { CLIENT_AUTH: basic(oidc.info) },
            tokens: await oidc.seed(poolPer(1)),
          },
        ],
      },
      {
        name: 'oidc-provider-redis',
        label: `node-oidc-provider ${oidc.info.version}, Redis adapter, 1 process`,
        targets: async () => [
          {
            url: oidcRedis.info.url,
            script: oidcScript,
            env: { CLIENT_AUTH: basic(oidcRedis.info) },
            tokens: await oidcRedis.seed(poolPer(1)),
          },
        ],
      },
    ];
    const rates = Object.fromEntries(configs.map((c) => [c.name, []]));
    const p99s = Object.fromEntries(configs.map((c) => [c.name, []]));
    // A short warm-up of every configuration (JIT, pools, caches), not recorded.
    for (const c of configs) {
      const targets = await c.targets();
      await runWrk(targets[0].url, {
        connections: 8,
        threads: 1,
        durationSec: 1,
        script: targets[0].script,
        env: (() => {
          const file = join(dir, `warm-${c.name}.txt`);
          writeFileSync(file, `${targets[0].tokens.join('\n')}\n`);
          return { TOKENS_FILE: file, TOKENS_PER_THREAD: String(targets[0].tokens.length), ...targets[0].env };
        })(),
      });
    }
    for (let r = 0; r < ROUNDS; r++) {
      const order = configs.map((_, i) => configs[(i + r) % configs.length]);
      const line = [];
      for (const c of order) {
        const targets = await c.targets(); // sessions are created before timing
        await sleep(200);
        const res = await chainRound(dir, c.name, targets);
        rates[c.name].push(res.perSec);
        p99s[c.name].push(res.p99Ms);
        line.push(`${c.name} ${fmtInt(res.perSec)}/s`);
      }
      log(`round ${r + 1}: ${line.join(', ')}`);
    }

    // Revocation propagation across instances.
    const client = await addClient(
      { root: ROOT, dir: clusterDir, env: serviceEnv, masterKey: cluster.masterKey, issuer: cluster.issuer },
      'bench-guard',
      'revocations',
    );
    const propagation = await measurePropagation({
      issuer: cluster.issuer,
      revokeUrl: cluster.urls[0],
      feedUrl: cluster.urls[1],
      client,
      redisUrl: REDIS_URL,
      keyPrefix: prefix,
      email: EMAIL,
      revocations: REVOCATIONS,
      login,
      log,
    });

    const medians = Object.fromEntries(configs.map((c) => [c.name, round(median(rates[c.name]), 0)]));
    const results = {
      machine: machineInfo(),
      loadGenerator: wrkVersion(),
      method: `${ROUNDS} rounds of ${ROUND_SEC} s, every configuration once per round in a rotated order; medians; ${CONNECTIONS} connections in total per configuration (split over the instances, one wrk process with one thread per instance); every request a distinct never-used refresh token`,
      benchSettings:
        'Tessera instances: argon2id 8 MiB t=1 (sessions are created before timing), rate limits on but raised out of reach (all load comes from 127.0.0.1), so each refresh still takes from its per-IP bucket; ES256 access tokens (the default); every other setting default (incl. refreshCacheEntries 50,000). node-oidc-provider: memory adapter, or a Redis adapter (bench/lib/oidc-redis-adapter.mjs, ioredis with auto-pipelining) on the same Redis, client_secret_basic, rotateRefreshToken true, ES256 JWT access token for one resource, refresh tokens seeded into Grant + RefreshToken.',
      services: { postgres: DATABASE_URL.replace(/:[^:@/]*@/, ':***@'), redis: REDIS_URL },
      rotations: Object.fromEntries(
        configs.map((c) => [
          c.name,
          {
            label: c.label,
            medianPerSec: medians[c.name],
            rounds: rates[c.name].map((x) => round(x, 0)),
            medianP99Ms: median(p99s[c.name]),
          },
        ]),
      ),
      ratios: {
        sqliteVsOidcProvider: ratio(medians['sqlite-1'], medians['oidc-provider']),
        cluster1VsOidcProvider: ratio(medians['cluster-1'], medians['oidc-provider']),
        cluster3VsOidcProvider: ratio(medians['cluster-3'], medians['oidc-provider']),
        cluster1VsOidcProviderRedis: ratio(medians['cluster-1'], medians['oidc-provider-redis']),
        cluster1UncachedVsOidcProviderRedis: ratio(medians['cluster-1-uncached'], medians['oidc-provider-redis']),
        cluster1UncachedVsCluster1: ratio(medians['cluster-1-uncached'], medians['cluster-1']),
        sqliteVsOidcProviderRedis: ratio(medians['sqlite-1'], medians['oidc-provider-redis']),
        cluster2VsCluster1: ratio(medians['cluster-2'], medians['cluster-1']),
        cluster3VsCluster1: ratio(medians['cluster-3'], medians['cluster-1']),
        cluster1VsSqlite: ratio(medians['cluster-1'], medians['sqlite-1']),
      },
      propagation,
      targets: TARGETS,
    };
    results.met = {
      vsOidcProvider: (results.ratios.sqliteVsOidcProvider ?? 0) >= TARGETS.vsOidcProvider,
      vsOidcProviderPostgres: (results.ratios.cluster1VsOidcProvider ?? 0) >= TARGETS.vsOidcProvider,
      vsOidcProviderRedisPostgres: (results.ratios.cluster1VsOidcProviderRedis ?? 0) >= TARGETS.vsOidcProvider,
      propagationP99Ms:
        propagation.sse.p99Ms < TARGETS.propagationP99Ms && propagation.redis.p99Ms < TARGETS.propagationP99Ms,
    };
    writeJson(join(ROOT, 'bench/results/cluster.json'), results);
    log(
      `\n${formatTable(
        ['configuration', 'rotations/s (median)', 'vs oidc-provider (memory)', 'vs oidc-provider (Redis)'],
        configs.map((c) => [
          c.label,
          fmtInt(medians[c.name]),
          fmtRatio(ratio(medians[c.name], medians['oidc-provider'])),
          fmtRatio(ratio(medians[c.name], medians['oidc-provider-redis'])),
        ]),
      )}\n\n${formatTable(
        ['revocation A -> guard on B', 'p50', 'p99', 'max', 'target p99'],
        [
          [
            'SSE feed of B',
            `${propagation.sse.p50Ms} ms`,
            `${propagation.sse.p99Ms} ms`,
            `${propagation.sse.maxMs} ms`,
            `< ${TARGETS.propagationP99Ms} ms`,
          ],
          [
            'Redis source',
            `${propagation.redis.p50Ms} ms`,
            `${propagation.redis.p99Ms} ms`,
            `${propagation.redis.maxMs} ms`,
            `< ${TARGETS.propagationP99Ms} ms`,
          ],
        ],
      )}\n\nmet: ${JSON.stringify(results.met)}\nwrote bench/results/cluster.json`,
    );
  } finally {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    await dropServices(schema, prefix).catch((error) => console.error(`cleanup: ${error.message}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
