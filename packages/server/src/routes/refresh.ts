/**
 * POST /auth/refresh: cookie refresh with rotation. An answer that the refresh token is dead
 * (invalid, expired, revoked, reused) clears the cookie so it is not sent again; any other
 * failure (the store briefly unavailable, an internal error) leaves it: the session may be intact
 * and the client's retry must still carry its token.
 */

import { AuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { clientInfo } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';
import { clearRefreshCookie, readRefreshCookie } from '../http/cookies.js';
import { csrfGuard } from '../http/csrf.js';
import { enforceRateLimit } from '../http/rate-limit.js';
import { sendCookieGrant } from './token-response.js';

const DEAD_TOKEN_CODES: ReadonlySet<string> = new Set([
  'ERR_REFRESH_INVALID',
  'ERR_REFRESH_EXPIRED',
  'ERR_REFRESH_REVOKED',
  'ERR_REFRESH_REUSED',
]);

export function refreshRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/auth/refresh', { onRequest: csrfGuard(ctx) }, async function refresh(request, reply) {
    await enforceRateLimit(ctx, request, 'refresh_ip', request.ip ?? '-', ctx.config.rateLimit.refreshPerIp);
    try {
      const grant = await ctx.auth.refresh(readRefreshCookie(request, ctx.config.cookie), clientInfo(request));
      return sendCookieGrant(reply, ctx.config, grant, ctx.clock());
    } catch (error) {
      if (error instanceof AuthError && DEAD_TOKEN_CODES.has(error.code)) clearRefreshCookie(reply, ctx.config.cookie);
      throw error;
    }
  });
}
