/**
 * The services the cluster tests run on. Shared PostgreSQL (`TESSERA_TEST_DATABASE_URL`,
 * default `postgres://postgres@127.0.0.1:5432/postgres`) and shared Redis
 * (`TESSERA_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`), each test with its own schema and
 * key prefix, removed afterwards. When one is unreachable the suite is skipped with a loud
 * warning, unless `TESSERA_REQUIRE_SERVICES=1` (CI), where it fails saying so.
 */

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

export const DATABASE_URL = process.env.TESSERA_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REQUIRED = process.env.TESSERA_REQUIRE_SERVICES === '1';

/** The `tessera serve` environment for the shared PostgreSQL + Redis, in a test's own schema and key prefix. */
export function sharedServicesEnv(schema: string, prefix: string): Record<string, string> {
  return {
    TESSERA_DATABASE_URL: DATABASE_URL,
    TESSERA_DATABASE_SCHEMA: schema,
    TESSERA_REDIS_URL: REDIS_URL,
    TESSERA_REDIS_KEY_PREFIX: prefix,
  };
}

async function probePostgres(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${url} is unreachable (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.end().catch(() => {});
  }
}

async function probeRedis(url: string): Promise<string | undefined> {
  const probe = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${url} is unreachable (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    probe.disconnect();
  }
}

/**
 * `undefined` when both shared services answer; otherwise the reason. Under
 * TESSERA_REQUIRE_SERVICES=1 the caller turns the reason into a failing test.
 */
export async function servicesMissing(): Promise<string | undefined> {
  const problems = (await Promise.all([probePostgres(DATABASE_URL), probeRedis(REDIS_URL)])).filter(
    (p): p is string => p !== undefined,
  );
  if (problems.length === 0) return undefined;
  const reason = problems.join('; ');
  if (!REQUIRED) {
    console.warn(
      `\n!!! SKIPPING the @tessera/cli cluster tests: ${reason}.\n!!! Start them or set TESSERA_TEST_DATABASE_URL / TESSERA_TEST_REDIS_URL; TESSERA_REQUIRE_SERVICES=1 makes this a failure.\n`,
    );
  }
  return reason;
}

export function randomSchema(): string {
  return `tessera_cluster_${randomBytes(6).toString('hex')}`;
}

export function randomPrefix(): string {
  return `tessera-cluster:${randomBytes(6).toString('hex')}:`;
}

/** Runs one query against `schema` on `url` (a fresh connection each time: tests are not hot paths). */
export async function query<T extends pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
  url = DATABASE_URL,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Drops the test's schema and deletes its Redis keys; only names this suite generated. */
export async function dropTestState(schema: string, prefix: string, redisUrl = REDIS_URL, databaseUrl = DATABASE_URL) {
  if (!/^tessera_cluster_[0-9a-f]{12}$/.test(schema)) throw new Error(`refusing to drop schema ${schema}`);
  if (!/^tessera-cluster:[0-9a-f]{12}:$/.test(prefix)) throw new Error(`refusing to clean up prefix ${prefix}`);
  await query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`, [], databaseUrl).catch(() => {});
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // A private Redis that is already gone has nothing to clean up.
  } finally {
    redis.disconnect();
  }
}
