// A minimal Fastify API protected by @tessera/guard. Run from the repository root:
//   npm run example:fastify      (builds, then listens on http://127.0.0.1:3001)
// Environment (defaults fit `npm start`'s auth server):
//   TESSERA_ISSUER    http://localhost:8080          the `iss` the tokens carry
//   TESSERA_AUDIENCE  tessera-api                    the `aud` this API accepts
//   TESSERA_AUTH_URL  = TESSERA_ISSUER               where to reach the auth server
//   TESSERA_JWKS_URI  ${TESSERA_AUTH_URL}/.well-known/jwks.json
//   TESSERA_CLIENT_ID + TESSERA_CLIENT_SECRET        optional: pushed revocation (a client with the `revocations` scope)
//   PORT 3001, HOST 127.0.0.1, LOG_LEVEL warn (Fastify's pino logger, which the guard and the feed use)
import { createGuard, createRevocationFeed } from '@tessera/guard';
import Fastify from 'fastify';

const issuer = process.env.TESSERA_ISSUER ?? 'http://localhost:8080';
const audience = process.env.TESSERA_AUDIENCE ?? 'tessera-api';
const authUrl = (process.env.TESSERA_AUTH_URL ?? issuer).replace(/\/+$/, '');
const jwksUri = process.env.TESSERA_JWKS_URI ?? `${authUrl}/.well-known/jwks.json`;
const clientId = process.env.TESSERA_CLIENT_ID;
const clientSecret = process.env.TESSERA_CLIENT_SECRET;
const port = Number(process.env.PORT ?? 3001);
const host = process.env.HOST ?? '127.0.0.1';

if ((clientId === undefined) !== (clientSecret === undefined)) {
  console.error('fastify-api: set both TESSERA_CLIENT_ID and TESSERA_CLIENT_SECRET for pushed revocation, or neither');
  process.exit(1);
}

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } });

// Optional pushed revocation: the guard then rejects revoked tokens at once (logout, session
// deletion, password change) instead of accepting them until they expire.
const feed =
  clientId === undefined ? undefined : createRevocationFeed({ url: authUrl, clientId, clientSecret, logger: app.log });
feed?.ready.then(
  () => console.log('fastify-api: revocation feed connected (first snapshot loaded)'),
  () => {}, // rejected only when closed before the first snapshot
);

const guard = createGuard({
  issuer,
  audience,
  jwksUri,
  // Fail closed: while the feed is stale (no contact for 30 s, or not yet connected), routes
  // answer 503 rather than accept a token that may have been revoked.
  ...(feed === undefined ? {} : { revocation: { source: feed, onStale: 'fail-closed' } }),
  logger: app.log,
});

// Every route is authenticated unless it opts out with `config: { auth: false }`.
await app.register(guard.fastify.plugin);

app.get('/public', { config: { auth: false } }, async () => ({
  message: 'anyone can read this',
  revocationFeed: feedStatus(),
}));

app.get('/me', async (request) => request.auth);

app.get('/orders', { onRequest: guard.fastify.requireScopes('orders:read') }, async (request) => ({
  owner: request.auth.sub,
  orders: [{ id: 'ord_1', total: 42 }],
}));

function feedStatus() {
  if (feed === undefined) return null;
  const staleness = feed.stalenessSec();
  return {
    lastEventId: feed.lastEventId,
    stalenessSec: Number.isFinite(staleness) ? Math.round(staleness * 10) / 10 : null,
  };
}

const url = await app.listen({ port, host });
console.log(`fastify-api listening on ${url} (issuer ${issuer}, revocation feed ${feed ? 'on' : 'off'})`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await app.close();
    guard.close();
    await feed?.close();
    process.exit(0);
  });
}
