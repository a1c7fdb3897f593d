// A minimal Express API protected by @tessera/guard. Run from the repository root:
//   npm run example:express      (builds, then listens on http://127.0.0.1:3002)
// Environment (defaults fit `npm start`'s auth server):
//   TESSERA_ISSUER    http://localhost:8080          the `iss` the tokens carry
//   TESSERA_AUDIENCE  tessera-api                    the `aud` this API accepts
//   TESSERA_AUTH_URL  = TESSERA_ISSUER               where to reach the auth server
//   TESSERA_JWKS_URI  ${TESSERA_AUTH_URL}/.well-known/jwks.json
//   TESSERA_CLIENT_ID + TESSERA_CLIENT_SECRET        optional: pushed revocation (a client with the `revocations` scope)
//   PORT 3002, HOST 127.0.0.1
import express from 'express';
import { setUpGuard } from '../shared/guard-setup.mjs';

const { guard, feed, feedStatus, close, issuer, port, host } = setUpGuard('express-api', 3002);

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
    close().finally(() => process.exit(0));
  });
}
