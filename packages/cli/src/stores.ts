/**
 * Opens the two stores an instance runs on. The durable store is PostgreSQL when
 * `TESSERA_DATABASE_URL` is set, else the embedded SQLite file; the ephemeral store is Redis
 * when `TESSERA_REDIS_URL` is set, else the same SQLite file. Each configured service is
 * reached once before the server starts, so a wrong URL or a service that is down fails the
 * start with a message naming the variable instead of a first request failing.
 */

import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DurableStore, EphemeralStore } from '@tessera/server';
import { PostgresStore } from '@tessera/store-postgres';
import { RedisStore } from '@tessera/store-redis';
import { SqliteStore } from '@tessera/store-sqlite';
import { CliError } from './context.js';
import { readDatabaseSchema, readRedisKeyPrefix, readServiceUrls, redactUrl } from './service-urls.js';

export interface OpenedStores {
  readonly durable: DurableStore;
  readonly ephemeral: EphemeralStore;
  /** One line per store for the start banner: kind and redacted location. */
  readonly description: readonly string[];
  /** Loud notes about the combination (e.g. PostgreSQL without Redis). */
  readonly warnings: readonly string[];
  close(): Promise<void>;
}

/** Opens (creating owner-only) the SQLite file that holds what no service was configured for. */
function openSqlite(databasePath: string): SqliteStore {
  mkdirSync(dirname(databasePath), { recursive: true, mode: 0o700 });
  // The database holds password hashes and encrypted keys: owner-only from the first byte
  // (SQLite gives its -wal and -shm files the same mode).
  if (!existsSync(databasePath)) closeSync(openSync(databasePath, 'wx', 0o600));
  return new SqliteStore({ path: databasePath });
}

async function reach(store: { ping(): Promise<void> }, what: string): Promise<void> {
  try {
    await store.ping();
  } catch (error) {
    throw new CliError(`cannot reach ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Opens the stores `env` selects; `databasePath` is the SQLite file for whatever stays embedded.
 * Throws `TypeError` for a malformed variable and {@link CliError} for a service that cannot be reached.
 */
export async function openStores(
  env: Readonly<Record<string, string | undefined>>,
  databasePath: string,
): Promise<OpenedStores> {
  const urls = readServiceUrls(env);
  const opened: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    // Closed in reverse order of opening; a failing close does not keep the others open.
    for (const store of [...opened].reverse()) await store.close().catch(() => undefined);
  };
  try {
    let sqlite: SqliteStore | undefined;
    const embedded = () => {
      if (sqlite === undefined) {
        sqlite = openSqlite(databasePath);
        opened.push(sqlite);
      }
      return sqlite;
    };
    const description: string[] = [];
    const warnings: string[] = [];

    let durable: DurableStore;
    if (urls.databaseUrl === undefined) {
      durable = embedded();
      description.push(`durable store: SQLite ${databasePath}`);
    } else {
      const schema = readDatabaseSchema(env);
      const postgres = new PostgresStore({ connectionString: urls.databaseUrl, schema });
      opened.push(postgres);
      await reach(postgres, `PostgreSQL at ${redactUrl(urls.databaseUrl)} (TESSERA_DATABASE_URL)`);
      durable = postgres;
      description.push(`durable store: PostgreSQL ${redactUrl(urls.databaseUrl)} schema ${schema}`);
    }

    let ephemeral: EphemeralStore;
    if (urls.redisUrl === undefined) {
      ephemeral = embedded();
      description.push(`ephemeral store: SQLite ${databasePath}`);
      if (urls.databaseUrl !== undefined) {
        warnings.push(
          'TESSERA_DATABASE_URL is set without TESSERA_REDIS_URL: rate limits, the access-token denylist and revocation events stay in this instance only. Run a single instance, or set TESSERA_REDIS_URL to share them.',
        );
      }
    } else {
      const keyPrefix = readRedisKeyPrefix(env);
      const redis = new RedisStore({ url: urls.redisUrl, keyPrefix });
      opened.push(redis);
      await reach(redis, `Redis at ${redactUrl(urls.redisUrl)} (TESSERA_REDIS_URL)`);
      ephemeral = redis;
      description.push(`ephemeral store: Redis ${redactUrl(urls.redisUrl)} prefix ${keyPrefix}`);
    }

    return { durable, ephemeral, description, warnings, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
