/** POST /auth/logout-all (Bearer): every session of the user ends and the per-user cutoff is set. */

import type { FastifyInstance } from 'fastify';
import { authenticate, clientInfo } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';
import { clearRefreshCookie } from '../http/cookies.js';

export function logoutAllRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/auth/logout-all', async function logoutAll(request, reply) {
    const claims = await authenticate(ctx, request);
    const sessions = await ctx.auth.logoutEverywhere(claims.sub, clientInfo(request));
    await ctx.revocation.denyAccessToken(claims, ctx.clock());
    clearRefreshCookie(reply, ctx.config.cookie);
    return reply.send({ sessions_revoked: sessions });
  });
}
