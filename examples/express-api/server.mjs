// A minimal Express API protected by @tessera/guard. Run from the repository root:
//   npm run example:express      (builds, then listens on http://127.0.0.1:3002)
// Environment (defaults fit `npm start`'s auth server):
//   TESSERA_ISSUER    http://localhost:8080          the `iss` the tokens carry
//   TESSERA_AUDIENCE  tessera-api                    the `aud` this API accepts
//   TESSERA_AUTH_URL  = TESSERA_ISSUER               where to reach the auth server
//   TESSERA_JWKS_URI  ${TESSERA_AUTH_URL}/.well-known/jwks.json
//   TESSERA_CLIENT_ID + TESSERA_CLIENT_SECRET        optional: pushed revocation (a client with the `revocations` scope)
//   PORT 3002, HOST 127.0.0.1
import { createGuard, createRevocationFeed } from '@tessera/guard';
import express from 'express';

const issuer = process.env.TESSERA_ISSUER ?? 'http://localhost:8080';
const audience = process.env.TESSERA_AUDIENCE ?? 'tessera-api';
const authUrl = (process.env.TESSERA_AUTH_URL ?? issuer).replace(/\/+$/, '');
const jwksUri = process.env.TESSERA_JWKS_URI ?? `${authUrl}/.well-known/jwks.json`;
const clientId = process.env.TESSERA_CLIENT_ID;
const clientSecret = process.env.TESSERA_CLIENT_SECRET;
const port = Number(process.env.PORT ?? 3002);
const host = process.env.HOST ?? '127.0.0.1';

if ((clientId === undefined) !== (clientSecret === undefined)) {
  console.error('express-api: set both TESSERA_CLIENT_ID and TESSERA_CLIENT_SECRET for pushed revocation, or neither');
  process.exit(1);
}

// pino-style `(details, message)` logger for the guard and the feed.
const logger = {
  info: () => {},
  warn: (details, message) => console.warn(`express-api: ${message}`, details),
};

// Optional pushed revocation: the guard then rejects revoked tokens at once (logout, session
// deletion, password change) instead of accepting them until they expire.
const feed =
  clientId === undefined ? undefined : createRevocationFeed({ url: authUrl, clientId, clientSecret, logger });
feed?.ready.then(
  () => console.log('express-api: revocation feed connected (first snapshot loaded)'),
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

const app = express();

app.get('/public', (_req, res) => {
  res.json({ message: 'anyone can read this', revocationFeed: feedStatus() });
});

// `authenticate()` sets req.auth to the verified claims, or answers 400/401/503 itself.
app.get('/me', guard.express.authenticate(), (req, res) => {
  res.json(req.auth);
});

// `requireScopes` authenticates too (or reuses req.auth) and answers 403 insufficient_scope.
app.get('/orders', guard.express.requireScopes('orders:read'), (req, res) => {
  res.json({ owner: req.auth.sub, orders: [{ id: 'ord_1', total: 42 }] });
});

function feedStatus() {
  if (feed === undefined) return null;
  const staleness = feed.stalenessSec();
  return {
    lastEventId: feed.lastEventId,
    stalenessSec: Number.isFinite(staleness) ? Math.round(staleness * 10) / 10 : null,
  };
}

const server = app.listen(port, host, () => {
  const { port: actual } = server.address();
  console.log(
    `express-api listening on http://${host}:${actual} (issuer ${issuer}, revocation feed ${feed ? 'on' : 'off'})`,
  );
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    guard.close();
    (feed?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}
