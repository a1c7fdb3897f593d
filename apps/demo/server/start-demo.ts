/**
 * startDemo: the auth server, the demo app, the JWT decoder and a guarded demo API on ONE origin
 * (`http://localhost:<port>`, which is also the issuer), so the SameSite=Strict refresh cookie
 * and the CSRF Origin check work without CORS. Embedded SQLite, no configuration needed.
 */

import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGuard, createRevocationFeed, type RevocationFeed } from '@tessera/guard';
import {
  AdminService,
  type AuthServer,
  type AuthServerConfigInput,
  createAuthServer,
  resolveConfig,
} from '@tessera/server';
import { SqliteStore } from '@tessera/store-sqlite';
import { registerDemoApi } from './demo-api.js';
import { findFreePort } from './free-port.js';
import { registerStaticPages } from './static-pages.js';

export interface StartDemoOptions {
  /** Listen address. Default `TESSERA_HOST` or `127.0.0.1`. */
  readonly host?: string;
  /** Listen port; 0 picks a free one. Default `TESSERA_PORT` or 8080. */
  readonly port?: number;
  /** SQLite database file. Default `TESSERA_DATABASE_PATH` or `.tessera/tessera.sqlite`. */
  readonly databasePath?: string;
  /** Auth server configuration overrides (e.g. `{ accessTokenTtlSec: 60 }`). The issuer is always the demo's URL. */
  readonly config?: Record<string, unknown>;
  /** Clock tolerance of the demo API's guard, seconds. Default the guard's (30). */
  readonly guardClockToleranceSec?: number;
  /** `TESSERA_*` environment. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** pino log level of the server. Default the server's (`info`). */
  readonly logLevel?: string;
  /** Where the built app is. Default `apps/demo/dist` next to this module. */
  readonly distDir?: string;
  /** Subscribe the demo API to the pushed revocation feed. Default true. */
  readonly revocationFeed?: boolean;
}

export interface DemoServer {
  /** `http://localhost:<port>`: the issuer, the app and the API. */
  readonly url: string;
  close(): Promise<void>;
}

/** The confidential client the demo API reads the revocation feed with; re-created (new secret) at every start. */
export const DEMO_API_CLIENT_ID = 'tessera-demo-api';
/** How long startDemo waits for the first revocation snapshot, ms. */
const FEED_READY_TIMEOUT_MS = 10_000;

const DEFAULT_DIST = fileURLToPath(new URL('../dist/', import.meta.url));

/** An address the server itself can reach its listener on. */
function loopbackHost(host: string): string {
  if (host === '0.0.0.0' || host === 'localhost') return '127.0.0.1';
  if (host === '::' || host === '::1') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function startDemo(options: StartDemoOptions = {}): Promise<DemoServer> {
  const env = options.env ?? process.env;
  const input = { ...(options.config ?? {}) } as AuthServerConfigInput;
  if (options.logLevel !== undefined) (input as Record<string, unknown>).logLevel = options.logLevel;
  const { config: base } = resolveConfig(input, env);
  const host = options.host ?? base.host;
  const requestedPort = options.port ?? base.port;
  const port = requestedPort === 0 ? await findFreePort(host) : requestedPort;
  const issuer = `http://localhost:${port}`;

  const databasePath = resolve(options.databasePath ?? base.databasePath);
  mkdirSync(dirname(databasePath), { recursive: true, mode: 0o700 });
  // Password hashes and encrypted keys: owner-only from the first byte (as `tessera serve`).
  if (!existsSync(databasePath)) closeSync(openSync(databasePath, 'wx', 0o600));
  // A database given explicitly keeps its master key beside it (tests pass temp files).
  const masterKeyFile =
    options.databasePath !== undefined && input.masterKeyFile === undefined
      ? join(dirname(databasePath), 'master.key')
      : resolve(base.masterKeyFile);

  const store = new SqliteStore({ path: databasePath });
  let feed: RevocationFeed | undefined;
  let server: AuthServer | undefined;
  try {
    server = await createAuthServer({
      durable: store,
      ephemeral: store,
      env,
      keyTimer: true,
      config: { ...input, host, port, issuer, databasePath, masterKeyFile },
    });
    const { config } = server;
    const internalUrl = `http://${loopbackHost(host)}:${port}`;

    if (options.revocationFeed !== false) {
      const admin = new AdminService(server.context);
      await admin.removeClient(DEMO_API_CLIENT_ID);
      const created = await admin.addClient('Tessera demo API', { id: DEMO_API_CLIENT_ID, scopes: 'revocations' });
      if (created.status !== 'created') throw new Error(`could not register the ${DEMO_API_CLIENT_ID} client`);
      // Connects once the server listens below; the first attempts before that back off quietly.
      feed = createRevocationFeed({
        url: internalUrl,
        clientId: DEMO_API_CLIENT_ID,
        clientSecret: created.created.secret,
        reconnectMinMs: 50,
        reconnectMaxMs: 2_000,
      });
    }
    const guard = createGuard({
      issuer: config.issuer,
      audience: [...config.audience],
      jwksUri: `${internalUrl}/.well-known/jwks.json`,
      ...(options.guardClockToleranceSec === undefined ? {} : { clockToleranceSec: options.guardClockToleranceSec }),
      ...(feed === undefined ? {} : { revocation: { source: feed, onStale: 'fail-closed' as const } }),
      logger: server.app.log,
    });

    await registerStaticPages(server.app, options.distDir ?? DEFAULT_DIST);
    await registerDemoApi(server.app, { guard, feed, clock: server.context.clock });

    const listening = server;
    await listening.listen();
    if (feed !== undefined) {
      await withTimeout(feed.ready, FEED_READY_TIMEOUT_MS, 'the demo API could not read the revocation feed');
    }
    let closing: Promise<void> | undefined;
    return {
      url: issuer,
      close() {
        closing ??= (async () => {
          guard.close();
          await feed?.close();
          await listening.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await feed?.close();
    await server?.close();
    await store.close();
    throw error;
  }
}
