/**
 * POST /oauth/revoke: token revocation (RFC 7009) for registered confidential clients holding
 * the `revoke` scope.
 *
 * - A refresh token revokes its whole family (the session): every refresh token and every
 *   access token of that login stop working, and the revocation is published for guards.
 * - An access token is denylisted by `jti` until its `exp`; its session lives on (RFC 7009
 *   section 2.1 lets the server choose; revoking the session is what revoking its refresh
 *   token is for).
 * - The answer is 200 with an empty body whether or not the token was found, valid or already
 *   revoked (RFC 7009 section 2.2): the caller learns nothing about the token.
 *
 * Tokens are issued to the first-party public client, not to the revoking client, so RFC 7009's
 * "issued to the requesting client" check is replaced by the `revoke` permission itself.
 */

import { type AccessTokenClaims, AuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import type { ClientRecord } from '../contracts.js';
import { clientInfo } from '../http/bearer.js';
import { assertFormRequest, authenticateClient, sendClientEndpointError } from '../http/client-auth.js';
import type { RouteContext } from '../http/context.js';
import type { ClientInfo } from '../services/auth-service.js';
import { ClientRegistry } from '../services/clients.js';
import { hashRefreshToken, isRefreshTokenFormat } from '../services/refresh-tokens.js';
import { SERVER_CLOCK_TOLERANCE_SEC } from '../tolerance.js';
import { requireTokenParam, searchOrder } from './token-hint.js';

/** Why a session ended when a client revoked its refresh token. */
export const CLIENT_REVOCATION_REASON = 'client_revocation';

/** Returns true when the token was found as a refresh token (revoked now or before). */
async function revokeRefreshToken(
  ctx: RouteContext,
  token: string,
  client: ClientRecord,
  info: ClientInfo,
): Promise<boolean> {
  if (!isRefreshTokenFormat(token)) return false;
  const session = await ctx.durable.findSessionByRefreshHash(hashRefreshToken(token));
  if (session === undefined) return false;
  // Any token of the family revokes the family, a rotated one included: whoever holds it may
  // be the thief a reuse would have caught.
  const revoked = await ctx.revocation.revokeSession(session.id, CLIENT_REVOCATION_REASON, ctx.clock());
  if (revoked) {
    await ctx.audit.record('session.revoked', {
      userId: session.userId,
      sessionId: session.id,
      ...info,
      data: { reason: CLIENT_REVOCATION_REASON, by: client.id },
    });
  }
  return true;
}

/** Returns true when the token is one of our access tokens (revoked now, or already dead). */
async function revokeAccessToken(
  ctx: RouteContext,
  token: string,
  client: ClientRecord,
  info: ClientInfo,
): Promise<boolean> {
  let claims: AccessTokenClaims;
  try {
    claims = ctx.verifier.verify(token);
  } catch (error) {
    // Not ours, malformed, expired: nothing to revoke.
    if (error instanceof AuthError) return false;
    throw error;
  }
  const now = ctx.clock();
  try {
    await ctx.revocation.assertActive(claims, now);
  } catch (error) {
    // Already dead by one of the levers: nothing more to write.
    if (error instanceof AuthError) return true;
    throw error;
  }
  if (claims.exp + SERVER_CLOCK_TOLERANCE_SEC <= now) return true;
  await ctx.revocation.denyAccessToken(claims, now);
  await ctx.audit.record('token.revoked', {
    userId: claims.sub,
    sessionId: claims.sid ?? null,
    ...info,
    data: { token_type: 'access_token', jti: claims.jti, by: client.id },
  });
  return true;
}

export function oauthRevokeRoute(app: FastifyInstance, ctx: RouteContext): void {
  const registry = new ClientRegistry(ctx.durable, ctx.clock);
  app.post<{ Body: Record<string, string> }>('/oauth/revoke', async function revoke(request, reply) {
    try {
      assertFormRequest(request);
      const body = request.body ?? {};
      const client = await authenticateClient(ctx, registry, request, body, 'revoke');
      const token = requireTokenParam(body);
      const info = clientInfo(request);
      for (const type of searchOrder(body.token_type_hint)) {
        const found =
          type === 'refresh_token'
            ? await revokeRefreshToken(ctx, token, client, info)
            : await revokeAccessToken(ctx, token, client, info);
        if (found) break;
      }
      return reply.code(200).send();
    } catch (error) {
      if (error instanceof AuthError) return sendClientEndpointError(request, reply, error);
      throw error;
    }
  });
}
