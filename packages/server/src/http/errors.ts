/**
 * The one mapping from errors to HTTP. `AuthError` codes map through core's error table;
 * Fastify's own errors (body too large, bad JSON, bad content type, schema violations) map to
 * Tessera codes; anything else is a 500 `ERR_INTERNAL` whose details go to the log only.
 * Bearer failures carry an RFC 6750 section 3 `WWW-Authenticate` challenge.
 */

import { AuthError, type ErrorCode, formatBearerChallenge } from '@tessera/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export const BEARER_REALM = 'tessera';

/** Marks an error raised while authenticating a bearer token, so the reply gets a challenge. */
export class BearerError extends AuthError {
  readonly noCredentials: boolean;
  constructor(code: ErrorCode, noCredentials = false, detail?: string) {
    super(code, { detail });
    this.noCredentials = noCredentials;
  }
}

export function bearerChallenge(error: AuthError): string {
  if (error instanceof BearerError && error.noCredentials) return formatBearerChallenge(BEARER_REALM);
  return formatBearerChallenge(BEARER_REALM, { error: error.oauthError, errorDescription: error.message });
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'ERR_VALIDATION',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'ERR_VALIDATION',
  FST_ERR_CTP_INVALID_JSON_BODY: 'ERR_VALIDATION',
  FST_ERR_VALIDATION: 'ERR_VALIDATION',
  FST_ERR_BAD_URL: 'ERR_VALIDATION',
  // A path parameter longer than the router allows (100 characters) cannot name anything.
  FST_ERR_MAX_PARAM_LENGTH: 'ERR_NOT_FOUND',
};

/** Fastify errors whose message holds the request URL (and so any secret in its query). */
const URL_ERRORS: ReadonlySet<string> = new Set(['FST_ERR_BAD_URL', 'FST_ERR_MAX_PARAM_LENGTH']);

export function toAuthError(error: unknown): AuthError | undefined {
  if (error instanceof AuthError) return error;
  const fastifyError = error as Partial<FastifyError> | undefined;
  const code = fastifyError?.code !== undefined ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (code !== undefined) {
    const field = fastifyError?.validation?.[0];
    const name = field === undefined ? undefined : describeValidation(field);
    // The URL errors' messages echo the whole URL, query string included: log the code only.
    const detail = URL_ERRORS.has(fastifyError?.code ?? '') ? fastifyError?.code : fastifyError?.message;
    return new AuthError(code, { claim: name, detail });
  }
  if (fastifyError?.statusCode === 400 && error instanceof SyntaxError)
    return new AuthError('ERR_VALIDATION', { detail: 'invalid JSON' });
  // Any other request-level Fastify error (4xx) is the client's: a 400 in the documented
  // format, never a 500 or Fastify's own body.
  if (
    typeof fastifyError?.code === 'string' &&
    fastifyError.code.startsWith('FST_') &&
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return new AuthError('ERR_VALIDATION', { detail: fastifyError.code });
  }
  return undefined;
}

function describeValidation(v: {
  instancePath?: string;
  params?: Record<string, unknown>;
  keyword?: string;
}): string | undefined {
  const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const missing = v.params?.missingProperty;
  const extra = v.params?.additionalProperty;
  const name = typeof missing === 'string' ? missing : typeof extra === 'string' ? extra : path;
  // Only names from our own schemas reach the client, bounded and printable.
  return name !== '' && /^[a-z_.0-9]{1,64}$/.test(name) ? name : undefined;
}

export function sendAuthError(reply: FastifyReply, error: AuthError): FastifyReply {
  const retryAfterSec = (error as { retryAfterSec?: unknown }).retryAfterSec;
  if (typeof retryAfterSec === 'number') reply.header('retry-after', String(retryAfterSec));
  if (error instanceof BearerError || error.oauthError === 'invalid_token' || error.code === 'ERR_INSUFFICIENT_SCOPE') {
    reply.header('www-authenticate', bearerChallenge(error));
  }
  if (error instanceof BearerError && error.noCredentials) {
    // RFC 6750 3.1: no error code when the request carried no credentials.
    return reply.code(401).send({ error_description: error.message, code: error.code });
  }
  return reply.code(error.status).send(error.toJSON());
}

export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const authError = toAuthError(error);
  if (authError !== undefined) {
    if (authError.status >= 500)
      request.log.error({ code: authError.code, detail: authError.detail }, 'request failed');
    else request.log.info({ code: authError.code, detail: authError.detail }, 'request rejected');
    return sendAuthError(reply, authError);
  }
  if (isStoreUnavailable(error)) {
    // The store is busy, locked or gone: a clean 503 the client may retry, never a 500.
    request.log.error({ err: error }, 'store unavailable');
    reply.header('retry-after', '1');
    return reply.code(503).send(new AuthError('ERR_SERVICE_UNAVAILABLE').toJSON());
  }
  request.log.error({ err: error }, 'unhandled error');
  const internal = new AuthError('ERR_INTERNAL');
  return reply.code(500).send(internal.toJSON());
}

const UNAVAILABLE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN']);

/** Storage failures that are about availability, not about the request. */
export function isStoreUnavailable(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && [...UNAVAILABLE_CODES].some((c) => code.startsWith(c))) return true;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && /store is closed|database connection is not open/.test(message);
}
