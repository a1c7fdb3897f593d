/**
 * The real PostgreSQL the tests run against: `TESSERA_TEST_DATABASE_URL`, default
 * `postgres://postgres@127.0.0.1:5432/test`. Every store lives in its own random schema,
 * dropped afterwards. When the server is unreachable the suites skip with a loud warning,
 * unless `TESSERA_REQUIRE_SERVICES=1` (CI), where a test fails saying so.
 */

import { randomBytes } from 'node:crypto';
import { PostgresStore, type PostgresStoreOptions } from '@tessera/store-postgres';
import pg from 'pg';
import { it } from 'vitest';

export const DATABASE_URL = process.env.TESSERA_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REQUIRED = process.env.TESSERA_REQUIRE_SERVICES === '1';

/** Connects once; resolves to whether PostgreSQL answered, warning loudly when it did not. */
export async function probeDatabase(): Promise<boolean> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    if (!REQUIRED) {
      console.warn(
        `\n!!! PostgreSQL at ${DATABASE_URL} is unreachable (${why}): SKIPPING the @tessera/store-postgres tests.` +
          '\n!!! Start PostgreSQL or set TESSERA_TEST_DATABASE_URL; TESSERA_REQUIRE_SERVICES=1 makes this a failure.\n',
      );
    }
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Registers a failing test when PostgreSQL is required but unreachable, a skipped one when it
 * is merely unreachable. Returns whether the caller should register its suites.
 */
export function requireDatabase(available: boolean): boolean {
  // A file without tests fails in vitest, so the unrequired case registers a visible skip.
  if (!available && !REQUIRED) it.skip(`PostgreSQL at ${DATABASE_URL} is unreachable`, () => {});
  if (!available && REQUIRED) {
    it('PostgreSQL is reachable (TESSERA_REQUIRE_SERVICES=1)', () => {
      throw new Error(
        `PostgreSQL at ${DATABASE_URL} is unreachable and TESSERA_REQUIRE_SERVICES=1: start it or set TESSERA_TEST_DATABASE_URL`,
      );
    });
  }
  return available;
}

export function randomSchemaName(): string {
  return `tessera_test_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** A migrated store in a fresh schema; `cleanup` closes it (idempotent) and drops the schema. */
export async function openTestStore(
  options: Partial<PostgresStoreOptions> = {},
): Promise<{ store: PostgresStore; schema: string; cleanup(): Promise<void> }> {
  const schema = options.schema ?? randomSchemaName();
  const store = new PostgresStore({ connectionString: DATABASE_URL, max: 5, ...options, schema });
  await store.migrate();
  return {
    store,
    schema,
    async cleanup() {
      await store.close();
      await dropSchema(schema);
    },
  };
}
