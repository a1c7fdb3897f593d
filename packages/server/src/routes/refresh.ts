/**
 * POST /auth/refresh: cookie refresh with rotation. Failure clears the cookie so a dead token is
 * not sent again.
 */

import { AuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { clientInfo } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';
import { clearRefreshCookie, readRefreshCookie } from '../http/cookies.js';
import { sendCookieGrant } from './token-response.js';

export function refreshRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/auth/refresh', async function refresh(request, reply) {
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
