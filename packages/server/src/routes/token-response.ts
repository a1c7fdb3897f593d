/** The token response shared by login and refresh (RFC 6749 section 5.1 field names). */

import type { FastifyReply } from 'fastify';
import type { AuthServerConfig } from '../config.js';
import { setRefreshCookie } from '../http/cookies.js';
import type { TokenGrant } from '../services/auth-service.js';

export interface TokenResponseBody {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

export function tokenBody(grant: TokenGrant, includeRefreshToken: boolean): TokenResponseBody {
  return {
    access_token: grant.accessToken,
    token_type: 'Bearer',
    expires_in: grant.expiresIn,
    scope: grant.scope,
    ...(includeRefreshToken ? { refresh_token: grant.refreshToken } : {}),
  };
}

/** Browser delivery: the refresh token only in the cookie, never in the body. */
export function sendCookieGrant(
  reply: FastifyReply,
  config: AuthServerConfig,
  grant: TokenGrant,
  now: number,
): FastifyReply {
  setRefreshCookie(reply, config.cookie, grant.refreshToken, grant.sessionExpiresAt - now);
  return reply.send(tokenBody(grant, false));
}
