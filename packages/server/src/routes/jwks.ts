/** GET /.well-known/jwks.json: next, current and retiring public keys, cacheable for one JWKS max-age. */

import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../http/context.js';

export function jwksRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/.well-known/jwks.json', async function jwks(_request, reply) {
    // The rotation schedule guarantees a key is published one max-age before it signs and stays
    // until its tokens expired, so a cache of this age always holds every key in use.
    reply.header('cache-control', `public, max-age=${ctx.keys.jwksMaxAgeSec}, must-revalidate`);
    return reply.type('application/jwk-set+json').send(ctx.keys.jwks);
  });
}
