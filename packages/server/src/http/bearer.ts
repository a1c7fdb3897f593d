/**
 * Bearer authentication for the server's own endpoints (RFC 6750): only the `Authorization`
 * header, exactly one `Bearer <token>` (anything else there is a 400 invalid_request; no header
 * at all is a 401 without an error code); the token is verified and then checked against all
 * four revocation levers.
 */

import { type AccessTokenClaims, AuthError } from '@tessera/core';
import type { FastifyRequest } from 'fastify';
import type { ClientInfo } from '../services/auth-service.js';
import type { RouteContext } from './context.js';
import { BearerError } from './errors.js';

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

export function extractBearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined || header === '') throw new BearerError('ERR_UNAUTHENTICATED', true);
  if (Array.isArray(header)) throw new BearerError('ERR_TOKEN_MALFORMED', false, 'several Authorization headers');
  const match = BEARER.exec(header);
  // Fix: `Bearer` without a token and other schemes (`Basic ...`) used to count as "no
  // credentials" (401 without an error code). The spec makes every Authorization header that
  // is not exactly `Bearer <token>` a malformed request: 400 invalid_request with a challenge.
  // Only an absent header is "no credentials".
  if (match === null) throw new BearerError('ERR_TOKEN_MALFORMED', false, 'malformed Authorization header');
  return match[1] as string;
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
