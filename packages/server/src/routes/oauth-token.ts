/**
 * POST /oauth/token, `grant_type=refresh_token` (RFC 6749 section 6) for non-browser clients:
 * form-encoded request, refresh token in the body and in the response, errors in the section
 * 5.2 format with status 400. Shares the rotation code with /auth/refresh.
 */

import { AuthError } from '@tessera/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { clientInfo } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';
import { enforceRateLimit } from '../http/rate-limit.js';
import { tokenBody } from './token-response.js';

function sendOAuthError(reply: FastifyReply, error: AuthError): FastifyReply {
  const status = error.oauthError === 'invalid_client' ? 401 : error.status >= 500 ? error.status : 400;
  return reply.code(status).send(error.toJSON());
}

export function oauthTokenRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: Record<string, string> }>('/oauth/token', async function token(request, reply) {
    await enforceRateLimit(ctx, request, 'refresh_ip', request.ip ?? '-', ctx.config.rateLimit.refreshPerIp);
    const contentType = request.headers['content-type'] ?? '';
    try {
      if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
        throw new AuthError('ERR_UNSUPPORTED_MEDIA_TYPE', {
          detail: 'RFC 6749 requires application/x-www-form-urlencoded',
        });
      }
      const body = request.body ?? {};
      const grantType = body.grant_type;
      if (grantType === undefined || grantType === '') throw new AuthError('ERR_VALIDATION', { claim: 'grant_type' });
      if (grantType !== 'refresh_token') throw new AuthError('ERR_UNSUPPORTED_GRANT_TYPE');
      if (body.refresh_token === undefined || body.refresh_token === '') {
        throw new AuthError('ERR_VALIDATION', { claim: 'refresh_token' });
      }
      // The requested scope is checked before the rotation (see AuthService.refresh).
      const grant = await ctx.auth.refresh(
        body.refresh_token,
        clientInfo(request),
        body.scope === undefined ? {} : { requestedScope: body.scope },
      );
      return reply.send(tokenBody(grant, true));
    } catch (error) {
      if (error instanceof AuthError) {
        if (error.code === 'ERR_UNSUPPORTED_MEDIA_TYPE') return reply.code(415).send(error.toJSON());
        return sendOAuthError(reply, error);
      }
      throw error;
    }
  });
}
