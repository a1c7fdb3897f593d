/**
 * CSRF defence for every cookie-authenticated, state-changing endpoint (`/auth/refresh`,
 * `/auth/logout`). Four independent layers; any one of them alone stops a cross-site request:
 *
 * 1. `SameSite=Strict` on the refresh cookie (set in cookies.ts): a cross-site request carries
 *    no cookie at all in current browsers.
 * 2. A custom header (`x-tessera-csrf: 1` by default): a cross-site `<form>` cannot send one, and
 *    a cross-site `fetch` that tries needs a CORS preflight, which only allowed origins pass.
 * 3. Fetch Metadata: a `Sec-Fetch-Site: cross-site` request is refused unless its `Origin` is
 *    explicitly allowed (an SPA on another site that was configured on purpose).
 * 4. `Origin`: when present it must be the issuer's origin or an allowed one; `null` is refused.
 *
 * Plus: a "simple" content type (form, multipart, text/plain: what a form can send) is refused
 * outright on these endpoints, since no legitimate client sends one there.
 * Rejections are 403 `ERR_CSRF` and audited as `csrf.rejected` with the layer that fired.
 */

import { AuthError } from '@tessera/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from './bearer.js';
import type { RouteContext } from './context.js';
import { allowedOriginSet } from './origins.js';

const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

export type CsrfLayer = 'content_type' | 'custom_header' | 'fetch_metadata' | 'origin';

/** Which layer refuses the request, or undefined when it passes. Pure, for tests and docs. */
export function findCsrfViolation(
  headers: Record<string, string | string[] | undefined>,
  allowed: ReadonlySet<string>,
  headerName: string,
): CsrfLayer | undefined {
  const contentType = String(headers['content-type'] ?? '').toLowerCase();
  if (SIMPLE_CONTENT_TYPES.some((t) => contentType.startsWith(t))) return 'content_type';
  if (headers[headerName] !== '1') return 'custom_header';
  const origin = headers.origin;
  if (Array.isArray(origin)) return 'origin';
  const originAllowed = origin !== undefined && allowed.has(origin);
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site' && !originAllowed) return 'fetch_metadata';
  if (origin !== undefined && !originAllowed) return 'origin';
  return undefined;
}

/** A Fastify preHandler enforcing the four layers. */
export function csrfGuard(ctx: RouteContext): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const allowed = allowedOriginSet(ctx.config);
  return async function checkCsrf(request) {
    const layer = findCsrfViolation(request.headers, allowed, ctx.config.csrfHeader);
    if (layer === undefined) return;
    const origin = typeof request.headers.origin === 'string' ? request.headers.origin.slice(0, 200) : null;
    await ctx.audit.record('csrf.rejected', {
      ...clientInfo(request),
      data: {
        layer,
        route: request.routeOptions.url ?? null,
        origin,
        fetchSite: request.headers['sec-fetch-site'] ?? null,
      },
    });
    throw new AuthError('ERR_CSRF', { detail: `csrf layer: ${layer}` });
  };
}

/**
 * For endpoints that set but do not read the cookie (login, register): refuse cross-site
 * requests by Fetch Metadata and `Origin` (login CSRF would sign a victim into the attacker's
 * account). No custom header is required here, so plain API clients keep working.
 */
export function fetchMetadataGuard(ctx: RouteContext): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const allowed = allowedOriginSet(ctx.config);
  return async function checkCrossSite(request) {
    const origin = request.headers.origin;
    const originAllowed = typeof origin === 'string' && allowed.has(origin);
    const site = request.headers['sec-fetch-site'];
    let layer: CsrfLayer | undefined;
    if (site === 'cross-site' && !originAllowed) {
      layer = 'fetch_metadata';
    } else if (origin !== undefined && !originAllowed) layer = 'origin';
    if (layer === undefined) return;
    await ctx.audit.record('csrf.rejected', {
      ...clientInfo(request),
      data: {
        layer,
        route: request.routeOptions.url ?? null,
        origin: typeof origin === 'string' ? origin.slice(0, 200) : null,
      },
    });
    throw new AuthError('ERR_CSRF', { detail: `csrf layer: ${layer}` });
  };
}
