/**
 * The auth server for bench:http's revocation-propagation measurement, in its own process:
 * createAuthServer on the embedded SQLite store, port 0, from the BUILT packages.
 *
 *   node bench/lib/auth-target.mjs <dir>
 *
 * Bench-only settings, which the bench prints: argon2id at its cheapest allowed cost
 * (8 MiB, t=1, p=1, so that 1,000 logins take seconds) and rate limits off (one client logs in
 * 1,000 times). Registers a confidential client with the `revocations` scope (AdminService,
 * as `tessera clients add` does) and prints one JSON line when listening:
 * {"url", "issuer", "audience", "client": {"id", "secret"}}.
 */

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AdminService, createAuthServer } from '@tessera/server';
import { SqliteStore } from '@tessera/store-sqlite';

const [dir] = process.argv.slice(2);
const databasePath = join(dir, 'auth.sqlite');
const store = new SqliteStore({ path: databasePath });
const server = await createAuthServer({
  durable: store,
  ephemeral: store,
  env: {},
  masterKey: randomBytes(32),
  keyTimer: false,
  config: {
    environment: 'development',
    host: '127.0.0.1',
    port: 0,
    databasePath,
    masterKeyFile: join(dir, 'master.key'),
    argon2: { memoryCostKiB: 8192, timeCost: 1, parallelism: 1 },
    rateLimit: { enabled: false },
    logLevel: 'silent',
  },
});
const url = await server.listen();
const result = await new AdminService(server.context).addClient('bench-guard', { scopes: 'revocations' });
const { config } = server.context;
process.stdout.write(
  `${JSON.stringify({
    url,
    issuer: config.issuer,
    audience: config.audience[0],
    argon2: config.argon2,
    rateLimitEnabled: config.rateLimit.enabled,
    revocationHeartbeatSec: config.revocationHeartbeatSec,
    client: { id: result.created.client.id, secret: result.created.secret },
  })}\n`,
);
process.on('SIGTERM', () => {
  server
    .close()
    .then(() => store.close())
    .finally(() => process.exit(0));
});
