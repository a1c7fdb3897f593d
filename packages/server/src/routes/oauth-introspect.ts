/**
 * POST /oauth/introspect: token introspection (RFC 7662) for registered confidential clients
 * holding the `introspect` scope.
 *
 * An access token is active when its signature and claims verify, it has not expired (no
 * clock tolerance here: the server judges by its own clock) and none of the four revocation
 * levers applies. A refresh token is active while it is its family's current token (a rotated
 * one is not, even inside the grace window), its session is neither revoked nor expired, and
 * the account is active. Anything else (revoked, expired, rotated, unknown, malformed, another
 * issuer's token) is exactly `{"active": false}`: no reason, no claims.
 *
 * The response never carries the account's email (no `username`): resource servers get the
 * stable `sub`.
 */

import { type AccessTokenClaims, AuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { assertFormRequest, authenticateClient, sendClientEndpointError } from '../http/client-auth.js';
import type { RouteContext } from '../http/context.js';
import { ClientRegistry } from '../services/clients.js';
import { hashRefreshToken, isRefreshTokenFormat } from '../services/refresh-tokens.js';
import { requireTokenParam, searchOrder } from './token-hint.js';

export interface ActiveAccessToken {
  readonly active: true;
  readonly token_type: 'Bearer';
  readonly scope?: string;
  readonly client_id?: string;
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly iss: string;
  readonly exp: number;
  readonly iat: number;
  readonly nbf?: number;
  readonly jti: string;
  readonly sid?: string;
}

export interface ActiveRefreshToken {
  readonly active: true;
  readonly token_type: 'refresh_token';
  readonly scope: string;
  readonly client_id: string;
  readonly sub: string;
  /** The earliest of the token's own expiry and its session's idle and absolute ends. */
  readonly exp: number;
  /** When this token was issued (the login or the rotation that minted it). */
  readonly iat: number;
  readonly sid: string;
}

export type IntrospectionResponse = ActiveAccessToken | ActiveRefreshToken | { readonly active: false };

const INACTIVE = Object.freeze({ active: false as const });

/** undefined: not a refresh token of ours (search on); otherwise the answer. */
async function introspectRefreshToken(ctx: RouteContext, token: string): Promise<IntrospectionResponse | undefined> {
  if (!isRefreshTokenFormat(token)) return undefined;
  const record = await ctx.durable.findRefreshToken(hashRefreshToken(token));
  if (record === undefined) return undefined;
  const { session } = record;
  const now = ctx.clock();
  const exp = Math.min(record.expiresAt, session.idleExpiresAt, session.absoluteExpiresAt);
  if (record.rotatedAt !== null || session.revokedAt !== null || now >= exp) return INACTIVE;
  const user = await ctx.durable.findUserById(session.userId);
  if (user === undefined || user.status !== 'active') return INACTIVE;
  return {
    active: true,
    token_type: 'refresh_token',
    scope: session.scope,
    client_id: session.clientId,
    sub: session.userId,
    exp,
    iat: record.createdAt,
    sid: session.id,
  };
}

/** undefined: not an access token of ours (search on); otherwise the answer. */
async function introspectAccessToken(ctx: RouteContext, token: string): Promise<IntrospectionResponse | undefined> {
  let claims: AccessTokenClaims;
  try {
    claims = ctx.verifier.verify(token);
  } catch (error) {
    if (error instanceof AuthError) return undefined;
    throw error;
  }
  const now = ctx.clock();
  if (claims.exp <= now) return INACTIVE;
  try {
    await ctx.revocation.assertActive(claims, now);
  } catch (error) {
    if (error instanceof AuthError) return INACTIVE;
    throw error;
  }
  return {
    active: true,
    token_type: 'Bearer',
    ...(typeof claims.scope === 'string' ? { scope: claims.scope } : {}),
    ...(typeof claims.client_id === 'string' ? { client_id: claims.client_id } : {}),
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    exp: claims.exp,
    iat: claims.iat,
    ...(claims.nbf === undefined ? {} : { nbf: claims.nbf }),
    jti: claims.jti,
    ...(claims.sid === undefined ? {} : { sid: claims.sid }),
  };
}

export function oauthIntrospectRoute(app: FastifyInstance, ctx: RouteContext): void {
  const registry = new ClientRegistry(ctx.durable, ctx.clock);
  app.post<{ Body: Record<string, string> }>('/oauth/introspect', async function introspect(request, reply) {
    try {
      assertFormRequest(request);
      const body = request.body ?? {};
      await authenticateClient(ctx, registry, request, body, 'introspect');
      const token = requireTokenParam(body);
      for (const type of searchOrder(body.token_type_hint)) {
        const answer =
          type === 'refresh_token' ? await introspectRefreshToken(ctx, token) : await introspectAccessToken(ctx, token);
        if (answer !== undefined) return reply.send(answer);
      }
      return reply.send(INACTIVE);
    } catch (error) {
      if (error instanceof AuthError) return sendClientEndpointError(request, reply, error);
      throw error;
    }
  });
}
