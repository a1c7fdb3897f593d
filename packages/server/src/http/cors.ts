/**
 * CORS with an explicit allowlist: only the issuer's origin and `allowedOrigins` get
 * `Access-Control-Allow-Origin` (echoed, never `*`) with credentials; every other origin gets no
 * CORS headers, so the browser withholds the response. Preflights are answered for those
 * origins with the methods and headers Tessera's endpoints use.
 */

import { AuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';
import { allowedOriginSet } from './origins.js';

const ALLOWED_METHODS = ['GET', 'POST', 'DELETE'];
/** Preflight cache, seconds. */
export const CORS_MAX_AGE_SEC = 600;

export function registerCors(app: FastifyInstance, ctx: RouteContext): void {
  const allowed = allowedOriginSet(ctx.config);
  const allowedHeaders = new Set(['content-type', 'authorization', ctx.config.csrfHeader]);

  app.addHook('onRequest', async function cors(request, reply) {
    const origin = request.headers.origin;
    if (typeof origin !== 'string' || !allowed.has(origin)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('access-control-expose-headers', 'retry-after, www-authenticate');
  });
  app.addHook('onSend', async function varyOrigin(_request, reply) {
    reply.header('vary', 'Origin');
  });

  app.options('*', async function preflight(request, reply) {
    const origin = request.headers.origin;
    const method = String(request.headers['access-control-request-method'] ?? '').toUpperCase();
    const requested = String(request.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    if (typeof origin !== 'string' || !allowed.has(origin)) {
      throw new AuthError('ERR_CSRF', { detail: 'preflight from an origin that is not allowed' });
    }
    if (!ALLOWED_METHODS.includes(method) || !requested.every((h) => allowedHeaders.has(h))) {
      throw new AuthError('ERR_CSRF', { detail: 'preflight for a method or header that is not allowed' });
    }
    reply.header('access-control-allow-methods', ALLOWED_METHODS.join(', '));
    reply.header('access-control-allow-headers', [...allowedHeaders].join(', '));
    reply.header('access-control-max-age', String(CORS_MAX_AGE_SEC));
    return reply.code(204).send();
  });
}
