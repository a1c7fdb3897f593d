/**
 * RFC 6750 bearer helpers shared by the auth server and the resource-server guard: reading the
 * `Authorization` header and formatting the `WWW-Authenticate` challenge. Pure functions; the
 * HTTP layers decide what to do with "no credentials" and with a malformed header.
 */

import { AuthError } from './errors.js';

/** RFC 7235 2.1: the scheme name is case-insensitive; RFC 6750 2.1: one space, a b64token. */
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;
const BEARER_SCHEME = /^Bearer(?:\s|$)/i;

/**
 * The bearer token of one `Authorization` header value. Returns `undefined` when the request
 * carries no bearer credentials (no header, an empty one, or another scheme such as Basic:
 * RFC 6750 3.1); throws `AuthError('ERR_TOKEN_MALFORMED')` for a Bearer header that is not
 * exactly `Bearer <b64token>`, or for several header values.
 */
export function readBearerToken(header: string | readonly string[] | undefined | null): string | undefined {
  let value: string | undefined;
  if (typeof header === 'string') value = header;
  else if (header === undefined || header === null) return undefined;
  else if (header.length > 1) throw new AuthError('ERR_TOKEN_MALFORMED', { detail: 'several Authorization headers' });
  else value = header[0];
  if (value === undefined || value === '') return undefined;
  if (!BEARER_SCHEME.test(value)) return undefined;
  const match = BEARER.exec(value);
  if (match === null) throw new AuthError('ERR_TOKEN_MALFORMED', { detail: 'malformed Authorization header' });
  return match[1] as string;
}

export interface BearerChallengeParams {
  /** RFC 6750 3.1 error code; leave out when the request carried no credentials. */
  readonly error?: string | undefined;
  readonly errorDescription?: string | undefined;
  /** Space-delimited scopes needed (with `insufficient_scope`). */
  readonly scope?: string | undefined;
}

/** Drops the characters that cannot appear in a quoted-string without escaping. */
export function quoteChallengeValue(value: string): string {
  return value.replace(/[\\"]/g, '');
}

/** `Bearer realm="...", error="...", error_description="...", scope="..."` (RFC 6750 3). */
export function formatBearerChallenge(realm: string, params: BearerChallengeParams = {}): string {
  let challenge = `Bearer realm="${quoteChallengeValue(realm)}"`;
  if (params.error !== undefined) challenge += `, error="${quoteChallengeValue(params.error)}"`;
  if (params.errorDescription !== undefined)
    challenge += `, error_description="${quoteChallengeValue(params.errorDescription)}"`;
  if (params.scope !== undefined) challenge += `, scope="${quoteChallengeValue(params.scope)}"`;
  return challenge;
}
