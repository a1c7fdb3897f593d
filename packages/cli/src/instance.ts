/**
 * Opens Tessera for `serve` and the operator commands, configured from `TESSERA_*` variables
 * like the server itself: the embedded SQLite store by default, PostgreSQL for durable state
 * when `TESSERA_DATABASE_URL` is set and Redis for ephemeral state when `TESSERA_REDIS_URL` is
 * set (see stores.ts and docs/deploy.md).
 */

import { resolve } from 'node:path';
import {
  AdminService,
  type AuthServer,
  type AuthServerConfigInput,
  createAuthServer,
  type DurableStore,
  type EphemeralStore,
  resolveConfig,
} from '@tessera/server';
import type { Context } from './context.js';
import { openStores } from './stores.js';

export interface Instance {
  readonly server: AuthServer;
  /** The durable store (PostgreSQL or SQLite): users, sessions, tokens, keys, audit. */
  readonly store: DurableStore;
  /** The ephemeral store (Redis or SQLite): rate limits, denylist, revocation fan-out. */
  readonly ephemeral: EphemeralStore;
  readonly admin: AdminService;
  /** One line per store: what it is and where (passwords redacted). */
  readonly storeDescription: readonly string[];
  /** Loud notes about the store combination, printed by `serve`. */
  readonly warnings: readonly string[];
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
  const stores = await openStores(env, databasePath);
  try {
    const server = await createAuthServer({
      durable: stores.durable,
      ephemeral: stores.ephemeral,
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
      store: stores.durable,
      ephemeral: stores.ephemeral,
      admin: new AdminService(server.context),
      storeDescription: stores.description,
      warnings: stores.warnings,
      async close() {
        await server.close();
        await stores.close();
      },
    };
  } catch (error) {
    await stores.close();
    throw error;
  }
}
