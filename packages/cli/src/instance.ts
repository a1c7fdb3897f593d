/**
 * Opens Tessera on the configured database for `serve` and the operator commands: the embedded
 * SQLite store by default, configured from `TESSERA_*` variables like the server itself.
 */

import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  AdminService,
  type AuthServer,
  type AuthServerConfigInput,
  createAuthServer,
  resolveConfig,
} from '@tessera/server';
import { SqliteStore } from '@tessera/store-sqlite';
import type { Context } from './context.js';

export interface Instance {
  readonly server: AuthServer;
  readonly store: SqliteStore;
  readonly admin: AdminService;
  close(): Promise<void>;
}

export async function openInstance(
  ctx: Context,
  input: AuthServerConfigInput = {},
  options: { serving?: boolean } = {},
): Promise<Instance> {
  const env = ctx.env as NodeJS.ProcessEnv;
  const { config } = resolveConfig(input, env);
  const databasePath = resolve(ctx.cwd, config.databasePath);
  mkdirSync(dirname(databasePath), { recursive: true, mode: 0o700 });
  // The database holds password hashes and encrypted keys: owner-only from the first byte
  // (SQLite gives its -wal and -shm files the same mode).
  if (!existsSync(databasePath)) closeSync(openSync(databasePath, 'wx', 0o600));
  const store = new SqliteStore({ path: databasePath });
  try {
    const server = await createAuthServer({
      durable: store,
      ephemeral: store,
      env,
      keyTimer: options.serving === true,
      config: {
        ...input,
        databasePath,
        masterKeyFile: resolve(ctx.cwd, config.masterKeyFile),
        ...(options.serving === true ? {} : { logLevel: 'silent' as const }),
      },
    });
    return {
      server,
      store,
      admin: new AdminService(server.context),
      async close() {
        await server.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
