/**
 * POST /auth/logout: ends this session (from the refresh cookie), denylists the presented access
 * token's `jti` when one is sent, and clears the cookie. Always 204: logging out cannot fail
 * from the user's point of view, and the answer reveals nothing about the token.
 */

import { AuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { clientInfo, extractBearer } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';
import { clearRefreshCookie, readRefreshCookie } from '../http/cookies.js';
import { csrfGuard } from '../http/csrf.js';

export function logoutRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/auth/logout', { onRequest: csrfGuard(ctx) }, async function logout(request, reply) {
    const client = clientInfo(request);
    const endedSession = await ctx.auth.logoutByRefreshToken(readRefreshCookie(request, ctx.config.cookie), client);
    if (request.headers.authorization !== undefined) {
      try {
        const claims = ctx.verifier.verify(extractBearer(request));
        await ctx.revocation.denyAccessToken(claims, ctx.clock());
        if (claims.sid !== undefined && claims.sid !== endedSession) {
          await ctx.auth.endSession(claims.sid, claims.sub, 'logout', client);
        }
      } catch (error) {
        // An expired or invalid access token has nothing left to revoke.
        if (!(error instanceof AuthError)) throw error;
      }
    }
    clearRefreshCookie(reply, ctx.config.cookie);
    return reply.code(204).send();
  });
}
