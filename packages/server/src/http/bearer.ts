/**
 * Bearer authentication for the server's own endpoints (RFC 6750): only the `Authorization`
 * header, exactly one `Bearer <token>` (scheme case-insensitive); a malformed Bearer header is a
 * 400 invalid_request; no header or another scheme is a 401 without an error code; the token is
 * verified and then checked against all four revocation levers.
 */

import { type AccessTokenClaims, AuthError, readBearerToken } from '@tessera/core';
import type { FastifyRequest } from 'fastify';
import type { ClientInfo } from '../services/auth-service.js';
import type { RouteContext } from './context.js';
import { BearerError } from './errors.js';

export function extractBearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined || header === '') throw new BearerError('ERR_UNAUTHENTICATED', true);
  if (Array.isArray(header)) throw new BearerError('ERR_TOKEN_MALFORMED', false, 'several Authorization headers');
  // RFC 6750 3.1: a request using another scheme (Basic, ...) carries no bearer credentials, so
  // it gets the bare challenge without an error code. A Bearer header that is not exactly
  // `Bearer <token>` is a malformed request: 400 invalid_request. (The rules live in core,
  // shared with @tessera/guard.)
  let token: string | undefined;
  try {
    token = readBearerToken(header);
  } catch (error) {
    if (error instanceof AuthError) throw new BearerError(error.code, false, error.detail);
    throw error;
  }
  if (token === undefined) throw new BearerError('ERR_UNAUTHENTICATED', true);
  return token;
}

export async function authenticate(ctx: RouteContext, request: FastifyRequest): Promise<AccessTokenClaims> {
  const token = extractBearer(request);
  let claims: AccessTokenClaims;
  try {
    claims = ctx.verifier.verify(token);
    await ctx.revocation.assertActive(claims, ctx.clock());
  } catch (error) {
    if (error instanceof AuthError) {
      // A malformed token is a bad request (400 invalid_request); everything else is invalid_token.
      throw new BearerError(error.code, false, error.detail);
    }
    throw error;
  }
  return claims;
}

export function clientInfo(request: FastifyRequest): ClientInfo {
  const ua = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
}
