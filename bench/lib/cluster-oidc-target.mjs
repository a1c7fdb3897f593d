/**
 * node-oidc-provider (the `oidc-provider` npm package, version printed) as bench:cluster's
 * baseline, in its own process, on its built-in in-memory adapter or, with OIDC_REDIS_URL (and
 * OIDC_REDIS_PREFIX) set, on a Redis adapter (bench/lib/oidc-redis-adapter.mjs), the way it is
 * deployed when several provider processes share state:
 *
 *   node bench/lib/cluster-oidc-target.mjs
 *
 * Configured to do what Tessera's refresh does: a confidential client (client_secret_basic),
 * `rotateRefreshToken: true`, and an ES256-signed JWT access token for one resource server
 * (`urn:tessera-api`, resource indicators), so each refresh is one rotation plus one ES256
 * signature, as in Tessera. No interaction runs: the refresh tokens are seeded straight into the
 * provider's own models (Grant + RefreshToken, exactly what its authorization_code grant saves),
 * so no login or argon2 cost is in the path. Protocol on stdin/stdout, one JSON line each:
 * at start {"url", "version", "clientId", "clientSecret"}; `seed <n>` answers {"tokens": [...]}.
 */

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import Provider from 'oidc-provider';
import { createRedisAdapter } from './oidc-redis-adapter.mjs';

const require = createRequire(import.meta.url);
const version = JSON.parse(readFileSync(require.resolve('oidc-provider/package.json'), 'utf8')).version;

const RESOURCE = 'urn:tessera-api';
const clientId = 'bench-client';
const clientSecret = randomBytes(32).toString('base64url');
const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

const redis = process.env.OIDC_REDIS_URL
  ? createRedisAdapter(process.env.OIDC_REDIS_URL, process.env.OIDC_REDIS_PREFIX ?? 'oidc-bench:')
  : undefined;

const provider = new Provider('http://127.0.0.1', {
  ...(redis === undefined ? {} : { adapter: redis.RedisAdapter }),
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['https://client.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [{ ...signingKey, alg: 'ES256', use: 'sig', kid: 'bench-es256' }] },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  rotateRefreshToken: true,
  scopes: ['openid', 'offline_access', 'api'],
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: 'tessera-api',
        accessTokenTTL: 600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  ttl: { RefreshToken: 14 * 86_400, Grant: 14 * 86_400 },
});
// Its own error events would print a line per failure; the bench counts failures itself.
provider.on('server_error', (_ctx, error) => process.stderr.write(`oidc-provider server_error: ${error.message}\n`));

/** One refresh token for a new grant of account `sub`: what a finished authorization-code flow leaves. */
async function seedOne(client, sub) {
  const grant = new provider.Grant({ accountId: sub, clientId });
  grant.addOIDCScope('offline_access');
  grant.addResourceScope(RESOURCE, 'api');
  const grantId = await grant.save();
  const token = new provider.RefreshToken({
    accountId: sub,
    client,
    grantId,
    gty: 'authorization_code',
    scope: 'offline_access api',
    resource: RESOURCE,
    authTime: Math.floor(Date.now() / 1000),
  });
  return token.save();
}

const server = provider.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address();
process.stdout.write(
  `${JSON.stringify({ url: `http://127.0.0.1:${port}`, version, clientId, clientSecret, adapter: redis ? 'redis' : 'memory' })}\n`,
);

let seeded = 0;
const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const match = /^seed (\d+)$/.exec(line.trim());
  if (match === null) return;
  const client = await provider.Client.find(clientId);
  const tokens = [];
  for (let i = 0; i < Number(match[1]); i++) tokens.push(await seedOne(client, `user-${seeded++}`));
  process.stdout.write(`${JSON.stringify({ tokens })}\n`);
});
const exit = () =>
  server.close(async () => {
    await redis?.close().catch(() => undefined);
    process.exit(0);
  });
lines.on('close', exit);
process.on('SIGTERM', exit);
