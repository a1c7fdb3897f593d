/**
 * Reading credentials from any Request-like object: a Fetch `Request` (headers a `Headers`), a
 * Node `IncomingMessage` or framework request (headers a plain `IncomingHttpHeaders` object),
 * or anything whose `headers` has `get(name)`. Only the `Authorization` header, unless the
 * form-body method (RFC 6750 2.2) is enabled; the query string never.
 */

import { AuthError, readBearerToken } from '@tessera/core';
import { GuardError } from './response.js';

export interface HeaderGetter {
  get(name: string): string | null | undefined;
}

export type HeadersLike = HeaderGetter | Readonly<Record<string, string | readonly string[] | undefined>>;

/** What the guard reads from a request. */
export interface RequestLike {
  readonly headers: HeadersLike;
  /** A parsed form body, when the form-body method is enabled. */
  readonly body?: unknown;
  /** Node's `IncomingMessage.headersDistinct` (Node keeps only the first duplicate `Authorization` in `headers`). */
  readonly headersDistinct?: Readonly<Record<string, readonly string[] | undefined>>;
  /** A framework request wrapping Node's (`request.raw` in Fastify). */
  readonly raw?: unknown;
  readonly method?: string;
}

const NO_CREDENTIALS = new GuardError('ERR_UNAUTHENTICATED', { noCredentials: true });

/** The shared "no credentials" error: it carries nothing request-specific, so it is allocated once. */
export function noCredentials(): GuardError {
  return NO_CREDENTIALS;
}

function headerValue(headers: HeadersLike, name: string): string | readonly string[] | undefined {
  if (typeof (headers as HeaderGetter).get === 'function') {
    const value = (headers as HeaderGetter).get(name);
    return value === null ? undefined : value;
  }
  return (headers as Record<string, string | readonly string[] | undefined>)[name];
}

/** Duplicate `Authorization` headers that Node's `headers` object would hide. */
function distinctAuthorization(request: RequestLike): readonly string[] | undefined {
  // Node's raw header list, when there is one: scanning it is far cheaper than the
  // `headersDistinct` getter, which builds an object of every header on each request.
  const rawHeaders =
    (request as { rawHeaders?: unknown }).rawHeaders ??
    (request.raw as { rawHeaders?: unknown } | undefined)?.rawHeaders;
  if (Array.isArray(rawHeaders)) {
    let found: string[] | undefined;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i];
      if (typeof name === 'string' && name.length === 13 && name.toLowerCase() === 'authorization') {
        if (found === undefined) found = [];
        found.push(String(rawHeaders[i + 1]));
      }
    }
    return found;
  }
  const distinct =
    request.headersDistinct ??
    (request.raw as { headersDistinct?: RequestLike['headersDistinct'] } | undefined)?.headersDistinct;
  if (distinct === undefined || distinct === null || typeof distinct !== 'object') return undefined;
  return distinct.authorization;
}

function isFormRequest(request: RequestLike): boolean {
  const type = headerValue(request.headers, 'content-type');
  return typeof type === 'string' && /^application\/x-www-form-urlencoded\s*(;|$)/i.test(type);
}

/** The form-body `access_token` (RFC 6750 2.2), or undefined; throws when it is not one string. */
function formToken(request: RequestLike): string | undefined {
  const body = request.body;
  if (body === null || typeof body !== 'object' || !isFormRequest(request)) return undefined;
  if (!Object.hasOwn(body, 'access_token')) return undefined;
  const value = (body as Record<string, unknown>).access_token;
  if (typeof value !== 'string' || value === '' || !/^[A-Za-z0-9._~+/-]+=*$/.test(value)) {
    throw new GuardError('ERR_TOKEN_MALFORMED', { detail: 'malformed access_token form parameter' });
  }
  if (request.method !== undefined && request.method.toUpperCase() === 'GET') {
    throw new GuardError('ERR_TOKEN_MALFORMED', { detail: 'access_token form parameter on GET' });
  }
  return value;
}

/**
 * The cache probe: the text after `Bearer ` when the request has exactly one `Authorization`
 * header in the common exact-case form and the form-body method is off; otherwise undefined.
 * Nothing about the candidate is trusted: the verified-token cache only answers for a string
 * identical to one that passed {@link extractToken} and full verification, so a hit needs no
 * second look at its characters, and a miss goes through {@link extractToken}.
 */
export function peekBearer(request: RequestLike): string | undefined {
  if (request === null || typeof request !== 'object') return undefined;
  const headers = request.headers;
  if (headers === null || typeof headers !== 'object') return undefined;
  const header = headerValue(headers, 'authorization');
  if (typeof header !== 'string' || header.length < 8 || !header.startsWith('Bearer ')) return undefined;
  const distinct = distinctAuthorization(request);
  if (distinct !== undefined && distinct.length > 1) return undefined;
  return header.slice(7);
}

/**
 * The bearer token of a request. Throws {@link GuardError}: `ERR_UNAUTHENTICATED` (no
 * credentials, challenge without error code) or `ERR_TOKEN_MALFORMED` (400 invalid_request,
 * also when the token is sent more than one way).
 */
export function extractToken(request: RequestLike, allowFormBody: boolean): string {
  if (
    request === null ||
    typeof request !== 'object' ||
    request.headers === null ||
    typeof request.headers !== 'object'
  ) {
    throw new TypeError('request must have headers');
  }
  let header = headerValue(request.headers, 'authorization');
  if (typeof header === 'string') {
    const distinct = distinctAuthorization(request);
    if (distinct !== undefined && distinct.length > 1) header = distinct;
  }
  let token: string | undefined;
  try {
    token = readBearerToken(header);
  } catch (error) {
    if (error instanceof AuthError) throw new GuardError(error.code, { detail: error.detail });
    throw error;
  }
  if (allowFormBody) {
    const fromBody = formToken(request);
    if (fromBody !== undefined) {
      if (token !== undefined) {
        throw new GuardError('ERR_TOKEN_MALFORMED', { detail: 'token sent in more than one way' });
      }
      return fromBody;
    }
  }
  if (token === undefined) throw NO_CREDENTIALS;
  return token;
}
