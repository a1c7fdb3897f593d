/**
 * Confidential client authentication for `/oauth/revoke` and `/oauth/introspect` (RFC 6749
 * section 2.3.1): `client_secret_basic` (HTTP Basic whose user and password are the
 * form-urlencoded client_id and secret) or `client_secret_post` (`client_id` and
 * `client_secret` in the form body), never both in one request (RFC 6749 section 2.3).
 *
 * Answers:
 * - no credentials, a malformed Basic header, another scheme, an unknown client or a wrong
 *   secret: 401 `invalid_client` with `WWW-Authenticate: Basic realm="tessera"` (RFC 6749
 *   section 5.2), one body for all of them, so the answer never tells whether an id exists;
 * - both methods at once: 400 `invalid_request`;
 * - an authenticated client without the endpoint's permission: 403 `unauthorized_client`;
 * - too many failed authentications from one IP: 429 `ERR_RATE_LIMITED` with `Retry-After`.
 */

import { AuthError } from '@tessera/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientRecord } from '../contracts.js';
import { type ClientRegistry, type ClientScope, clientHasScope } from '../services/clients.js';
import type { RouteContext } from './context.js';
import { enforceRateLimit } from './rate-limit.js';

export const CLIENT_REALM = 'tessera';
export const BASIC_CHALLENGE = `Basic realm="${CLIENT_REALM}"`;

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';
export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = Object.freeze([
  'client_secret_basic',
  'client_secret_post',
]);

export interface ClientCredentials {
  readonly id: string;
  readonly secret: string;
  readonly method: ClientAuthMethod;
}

const BASIC_SCHEME = /^Basic(?:\s|$)/i;
/** RFC 7617: `Basic` SP token68 (standard base64). */
const BASIC = /^Basic ([A-Za-z0-9+/]+={0,2})$/i;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function invalidClient(detail: string): AuthError {
  return new AuthError('ERR_INVALID_CLIENT', { detail });
}

/** application/x-www-form-urlencoded decoding of one value (RFC 6749 appendix B). */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, '%20'));
  } catch {
    throw invalidClient('malformed percent-encoding in Basic credentials');
  }
}

function parseBasic(header: string): { id: string; secret: string } {
  const match = BASIC.exec(header);
  if (match === null) throw invalidClient('malformed Basic header');
  const encoded = match[1] as string;
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw invalidClient('malformed base64 in Basic header');
  }
  let decoded: string;
  try {
    decoded = UTF8.decode(bytes);
  } catch {
    throw invalidClient('Basic credentials are not UTF-8');
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('no colon in Basic credentials');
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (id === '' || secret === '') throw invalidClient('empty client_id or secret in Basic credentials');
  return { id, secret };
}

/** The presented credentials; throws the documented errors for absent, malformed or doubled ones. */
export function extractClientCredentials(
  request: FastifyRequest,
  body: Readonly<Record<string, string | undefined>>,
): ClientCredentials {
  const header = request.headers.authorization;
  if (Array.isArray(header)) throw invalidClient('several Authorization headers');
  if (header !== undefined && header !== '') {
    if (!BASIC_SCHEME.test(header)) throw invalidClient('unsupported Authorization scheme');
    const basic = parseBasic(header);
    if (body.client_secret !== undefined) {
      throw new AuthError('ERR_VALIDATION', {
        claim: 'client_secret',
        detail: 'more than one client authentication method',
      });
    }
    if (body.client_id !== undefined && body.client_id !== basic.id) {
      throw new AuthError('ERR_VALIDATION', { claim: 'client_id', detail: 'client_id differs from the Basic user' });
    }
    return { ...basic, method: 'client_secret_basic' };
  }
  const id = body.client_id;
  const secret = body.client_secret;
  if (id === undefined || id === '' || secret === undefined || secret === '') {
    throw invalidClient('no client credentials');
  }
  return { id, secret, method: 'client_secret_post' };
}

/**
 * Authenticates the calling client and checks it holds `scope`. An unknown client or a wrong
 * secret takes from the caller IP's `clientAuthFailuresPerIp` bucket; past it the answer is
 * 429 `ERR_RATE_LIMITED` (audited as `rate_limit.hit`) instead of 401.
 */
export async function authenticateClient(
  ctx: RouteContext,
  registry: ClientRegistry,
  request: FastifyRequest,
  body: Readonly<Record<string, string | undefined>>,
  scope: ClientScope,
): Promise<ClientRecord> {
  const credentials = extractClientCredentials(request, body);
  const client = await registry.authenticate(credentials.id, credentials.secret);
  if (client === undefined) {
    await enforceRateLimit(
      ctx,
      request,
      'client_auth_ip',
      request.ip ?? '-',
      ctx.config.rateLimit.clientAuthFailuresPerIp,
    );
    throw invalidClient('unknown client or wrong secret');
  }
  if (!clientHasScope(client, scope)) {
    throw new AuthError('ERR_UNAUTHORIZED_CLIENT', { detail: `client lacks the ${scope} scope` });
  }
  return client;
}

/** RFC 6749 (and RFC 7009, RFC 7662) endpoints take form bodies only. */
export function assertFormRequest(request: FastifyRequest): void {
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new AuthError('ERR_UNSUPPORTED_MEDIA_TYPE', {
      detail: 'this endpoint requires application/x-www-form-urlencoded',
    });
  }
}

/**
 * The error answer of the client-authenticated endpoints: the table's status and body, plus the
 * Basic challenge on `invalid_client`.
 */
export function sendClientEndpointError(request: FastifyRequest, reply: FastifyReply, error: AuthError): FastifyReply {
  request.log.info({ code: error.code, detail: error.detail }, 'request rejected');
  if (error.oauthError === 'invalid_client') reply.header('www-authenticate', BASIC_CHALLENGE);
  const retryAfterSec = (error as { retryAfterSec?: unknown }).retryAfterSec;
  if (typeof retryAfterSec === 'number') reply.header('retry-after', String(retryAfterSec));
  return reply.code(error.status).send(error.toJSON());
}
