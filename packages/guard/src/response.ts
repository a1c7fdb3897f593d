/**
 * RFC 6750 error responses, framework-neutral: {@link toResponse} turns any error into
 * `{ status, headers, body }`, which each binding writes in its framework's idiom.
 */

import { AuthError, type ErrorCode, formatBearerChallenge } from '@tessera/core';

export const DEFAULT_REALM = 'tessera';

export interface GuardErrorOptions {
  /** The request carried no bearer credentials (RFC 6750 3.1: challenge without an error code). */
  readonly noCredentials?: boolean;
  /** The scopes a route requires (for `insufficient_scope`). */
  readonly scopes?: readonly string[];
  /** Seconds for a `Retry-After` header (503 responses). */
  readonly retryAfterSec?: number;
  readonly detail?: string;
  readonly cause?: unknown;
}

/** An {@link AuthError} raised by the guard, with what the HTTP response needs on top. */
export class GuardError extends AuthError {
  readonly noCredentials: boolean;
  readonly scopes: readonly string[] | undefined;
  readonly retryAfterSec: number | undefined;

  constructor(code: ErrorCode, options: GuardErrorOptions = {}) {
    super(code, { detail: options.detail, cause: options.cause });
    this.noCredentials = options.noCredentials === true;
    this.scopes = options.scopes;
    this.retryAfterSec = options.retryAfterSec;
  }
}

export interface GuardResponse {
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error?: string; readonly error_description: string; readonly code: ErrorCode };
}

export interface ToResponseOptions {
  /** The `realm` of the challenge. Default `"tessera"`. */
  readonly realm?: string;
}

/**
 * The HTTP response for an error: RFC 6750 challenges for bearer failures, `Retry-After` on
 * 503s, the auth server's body shape `{ error, error_description, code }` (no `error` member
 * when the request had no credentials). Anything that is not an `AuthError` is a 500
 * `ERR_INTERNAL` whose details stay out of the response.
 */
export function toResponse(error: unknown, options: ToResponseOptions = {}): GuardResponse {
  const realm = options.realm ?? DEFAULT_REALM;
  const authError = error instanceof AuthError ? error : new AuthError('ERR_INTERNAL');
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  const guardError = authError instanceof GuardError ? authError : undefined;
  if (guardError?.retryAfterSec !== undefined) headers['retry-after'] = String(guardError.retryAfterSec);
  if (guardError?.noCredentials === true) {
    headers['www-authenticate'] = formatBearerChallenge(realm);
    return { status: 401, headers, body: { error_description: authError.message, code: authError.code } };
  }
  const { oauthError } = authError;
  if (
    oauthError === 'invalid_token' ||
    oauthError === 'insufficient_scope' ||
    authError.code === 'ERR_TOKEN_MALFORMED' ||
    authError.code === 'ERR_TOKEN_TOO_LARGE'
  ) {
    headers['www-authenticate'] = formatBearerChallenge(realm, {
      error: oauthError,
      errorDescription: authError.message,
      scope:
        guardError?.scopes === undefined || guardError.scopes.length === 0 ? undefined : guardError.scopes.join(' '),
    });
  }
  return { status: authError.status, headers, body: authError.toJSON() };
}
