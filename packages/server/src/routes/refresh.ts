/**
 * POST /auth/refresh: cookie refresh with rotation. Failure clears the cookie so a dead token is
 * not sent again.
 */

import { AuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { clientInfo } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';
import { clearRefreshCookie, readRefreshCookie } from '../http/cookies.js';
import { csrfGuard } from '../http/csrf.js';
import { enforceRateLimit } from '../http/rate-limit.js';
import { sendCookieGrant } from './token-response.js';

export function refreshRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/auth/refresh', { onRequest: csrfGuard(ctx) }, async function refresh(request, reply) {
    await enforceRateLimit(ctx, request, 'refresh_ip', request.ip ?? '-', ctx.config.rateLimit.refreshPerIp);
    try {
      const grant = await ctx.auth.refresh(readRefreshCookie(request, ctx.config.cookie), clientInfo(request));
      return sendCookieGrant(reply, ctx.config, grant, ctx.clock());
    } catch (error) {
      if (error instanceof AuthError && error.code !== 'ERR_REFRESH_MISSING')
        clearRefreshCookie(reply, ctx.config.cookie);
      throw error;
    }
  });
}
