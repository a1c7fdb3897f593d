/**
 * POST /auth/register. Always answers 202 with the same body for a valid request, whether or
 * not the address was free, so the endpoint cannot enumerate accounts. The user then logs in.
 */

import type { FastifyInstance } from 'fastify';
import { clientInfo } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';
import { fetchMetadataGuard } from '../http/csrf.js';
import { enforceRateLimit } from '../http/rate-limit.js';
import { registerBody } from './schemas.js';

export function registerRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: { email: string; password: string } }>(
    '/auth/register',
    { schema: { body: registerBody }, onRequest: fetchMetadataGuard(ctx) },
    async function register(request, reply) {
      await enforceRateLimit(ctx, request, 'register_ip', request.ip ?? '-', ctx.config.rateLimit.registerPerIp);
      await ctx.auth.register(request.body.email, request.body.password, clientInfo(request));
      return reply.code(202).send({ status: 'accepted', next: 'log in with the same email and password' });
    },
  );
}
