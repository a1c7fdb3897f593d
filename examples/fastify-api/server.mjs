// A minimal Fastify API protected by @tessera/guard. Run from the repository root:
//   npm run example:fastify      (builds, then listens on http://127.0.0.1:3001)
// Environment (defaults fit `npm start`'s auth server):
//   TESSERA_ISSUER    http://localhost:8080          the `iss` the tokens carry
//   TESSERA_AUDIENCE  tessera-api                    the `aud` this API accepts
//   TESSERA_AUTH_URL  = TESSERA_ISSUER               where to reach the auth server
//   TESSERA_JWKS_URI  ${TESSERA_AUTH_URL}/.well-known/jwks.json
//   TESSERA_CLIENT_ID + TESSERA_CLIENT_SECRET        optional: pushed revocation (a client with the `revocations` scope)
//   PORT 3001, HOST 127.0.0.1, LOG_LEVEL warn (Fastify's pino logger, which the guard and the feed use)
import Fastify from 'fastify';
import { setUpGuard } from '../shared/guard-setup.mjs';

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
const { guard, feed, feedStatus, close, issuer, port, host } = setUpGuard('fastify-api', 3001, app.log);

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

const url = await app.listen({ port, host });
console.log(`fastify-api listening on ${url} (issuer ${issuer}, revocation feed ${feed ? 'on' : 'off'})`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await app.close();
    await close();
    process.exit(0);
  });
}
