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
import { Hono } from 'hono';
import { setUpGuard } from '../shared/guard-setup.mjs';

const { guard, feed, feedStatus, close, issuer, port, host } = setUpGuard('hono-api', 3003);

const app = new Hono();

app.get('/public', (c) => c.json({ message: 'anyone can read this', revocationFeed: feedStatus() }));

// `authenticate()` sets c.get('auth') to the verified claims, or answers 400/401/503 itself.
app.get('/me', guard.hono.authenticate(), (c) => c.json(c.get('auth')));

// `requireScopes` authenticates too (or reuses c.get('auth')) and answers 403 insufficient_scope.
app.get('/orders', guard.hono.requireScopes('orders:read'), (c) =>
  c.json({ owner: c.get('auth').sub, orders: [{ id: 'ord_1', total: 42 }] }),
);

const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
  console.log(
    `hono-api listening on http://${host}:${info.port} (issuer ${issuer}, revocation feed ${feed ? 'on' : 'off'})`,
  );
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    close().finally(() => process.exit(0));
  });
}
