/**
 * The API server under test for bench:http, in its own process:
 *
 *   node bench/lib/http-target.mjs <mode> <jwks.json> <issuer> <audience>
 *
 * One Fastify 5 route, GET /data, answering a small JSON. <mode>:
 *   open                 no authentication
 *   tessera              @tessera/guard (createGuard with local `keys`, verified-token cache on,
 *                        the default) through its Fastify plugin
 *   fastify-jwt          @fastify/jwt (fast-jwt) with the public key PEM, cache off
 *   fastify-jwt-cached   the same with fast-jwt's verification cache on
 *   jose                 an onRequest hook calling jose's jwtVerify with a CryptoKey
 * Every protected mode pins the key's algorithm (the JWK's `alg`: ES256, or RS256 for the RS256
 * cells), the issuer, the audience and typ "at+jwt" (the guard's
 * default), and answers 401 to a missing or bad token. GET /__stats (unauthenticated) returns
 * the guard's counters in tessera mode. Prints {"url": ...} on stdout once listening.
 */

import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fastifyJwt from '@fastify/jwt';
import { createGuard } from '@tessera/guard';
import Fastify from 'fastify';
import { importJWK, jwtVerify } from 'jose';

const [mode, jwksPath, issuer, audience] = process.argv.slice(2);
const MODES = ['open', 'tessera', 'fastify-jwt', 'fastify-jwt-cached', 'jose'];
if (!MODES.includes(mode) || jwksPath === undefined || issuer === undefined || audience === undefined) {
  console.error(`usage: http-target.mjs <${MODES.join('|')}> <jwks.json> <issuer> <audience>`);
  process.exit(2);
}
const jwks = JSON.parse(readFileSync(jwksPath, 'utf8'));
const jwk = jwks.keys[0];
const alg = jwk.alg ?? 'ES256';

const app = Fastify({ logger: false });
let stats = () => ({});
let routeHook;

if (mode === 'tessera') {
  const guard = createGuard({ issuer, audience, keys: jwks });
  await app.register(guard.fastify.plugin);
  stats = () => guard.stats;
} else if (mode === 'fastify-jwt' || mode === 'fastify-jwt-cached') {
  const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  await app.register(fastifyJwt, {
    secret: { public: pem },
    verify: {
      algorithms: [alg],
      allowedIss: issuer,
      allowedAud: audience,
      checkTyp: 'at+jwt',
      cache: mode === 'fastify-jwt-cached',
    },
  });
  routeHook = async (request) => {
    await request.jwtVerify();
  };
} else if (mode === 'jose') {
  const key = await importJWK(jwk, alg);
  const options = { issuer, audience, algorithms: [alg], typ: 'at+jwt' };
  app.decorateRequest('auth', null);
  routeHook = async (request, reply) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header) : null;
    if (match === null) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
    try {
      request.auth = (await jwtVerify(match[1], key, options)).payload;
    } catch {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer error="invalid_token"')
        .send({ error: 'invalid_token' });
    }
  };
}

const subOf = (request) => request.auth?.sub ?? request.user?.sub ?? null;
app.get('/data', routeHook === undefined ? {} : { onRequest: routeHook }, (request) => ({
  ok: true,
  sub: subOf(request),
  items: [1, 2, 3],
}));
app.get('/__stats', { config: { auth: false } }, () => ({ mode, ...stats() }));

const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url, mode, pid: process.pid })}\n`);
const stop = () => {
  app.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
