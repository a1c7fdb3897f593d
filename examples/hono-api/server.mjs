// A minimal Hono API (on Node via @hono/node-server) protected by @tessera/guard. Run from the
// repository root:
//   npm run example:hono         (builds, then listens on http://127.0.0.1:3003)
// Environment (defaults fit `npm start`'s auth server):
//   TESSERA_ISSUER    http://localhost:8080          the `iss` the tokens carry
//   TESSERA_AUDIENCE  tessera-api                    the `aud` this API accepts
//   TESSERA_AUTH_URL  = TESSERA_ISSUER               where to reach the auth server
//   TESSERA_JWKS_URI  ${TESSERA_AUTH_URL}/.well-known/jwks.json
//   TESSERA_CLIENT_ID + TESSERA_CLIENT_SECRET        optional: pushed revocation (a client with the `revocations` scope)
//   PORT 3003, HOST 127.0.0.1
import { serve } from '@hono/node-server';
import { createGuard, createRevocationFeed } from '@tessera/guard';
import { Hono } from 'hono';

const issuer = process.env.TESSERA_ISSUER ?? 'http://localhost:8080';
const audience = process.env.TESSERA_AUDIENCE ?? 'tessera-api';
const authUrl = (process.env.TESSERA_AUTH_URL ?? issuer).replace(/\/+$/, '');
const jwksUri = process.env.TESSERA_JWKS_URI ?? `${authUrl}/.well-known/jwks.json`;
const clientId = process.env.TESSERA_CLIENT_ID;
const clientSecret = process.env.TESSERA_CLIENT_SECRET;
const port = Number(process.env.PORT ?? 3003);
const host = process.env.HOST ?? '127.0.0.1';

if ((clientId === undefined) !== (clientSecret === undefined)) {
  console.error('hono-api: set both TESSERA_CLIENT_ID and TESSERA_CLIENT_SECRET for pushed revocation, or neither');
  process.exit(1);
}

// pino-style `(details, message)` logger for the guard and the feed.
const logger = {
  info: () => {},
  warn: (details, message) => console.warn(`hono-api: ${message}`, details),
};

// Optional pushed revocation: the guard then rejects revoked tokens at once (logout, session
// deletion, password change) instead of accepting them until they expire.
const feed =
  clientId === undefined ? undefined : createRevocationFeed({ url: authUrl, clientId, clientSecret, logger });
feed?.ready.then(
  () => console.log('hono-api: revocation feed connected (first snapshot loaded)'),
  () => {}, // rejected only when closed before the first snapshot
);

const guard = createGuard({
  issuer,
  audience,
  jwksUri,
  // Fail closed: while the feed is stale (no contact for 30 s, or not yet connected), routes
  // answer 503 rather than accept a token that may have been revoked.
  ...(feed === undefined ? {} : { revocation: { source: feed, onStale: 'fail-closed' } }),
  logger,
});

const app = new Hono();

app.get('/public', (c) => c.json({ message: 'anyone can read this', revocationFeed: feedStatus() }));

// `authenticate()` sets c.get('auth') to the verified claims, or answers 400/401/503 itself.
app.get('/me', guard.hono.authenticate(), (c) => c.json(c.get('auth')));

// `requireScopes` authenticates too (or reuses c.get('auth')) and answers 403 insufficient_scope.
app.get('/orders', guard.hono.requireScopes('orders:read'), (c) =>
  c.json({ owner: c.get('auth').sub, orders: [{ id: 'ord_1', total: 42 }] }),
);

function feedStatus() {
  if (feed === undefined) return null;
  const staleness = feed.stalenessSec();
  return {
    lastEventId: feed.lastEventId,
    stalenessSec: Number.isFinite(staleness) ? Math.round(staleness * 10) / 10 : null,
  };
}

const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
  console.log(
    `hono-api listening on http://${host}:${info.port} (issuer ${issuer}, revocation feed ${feed ? 'on' : 'off'})`,
  );
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    guard.close();
    (feed?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}
