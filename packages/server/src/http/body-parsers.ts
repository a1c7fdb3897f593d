/**
 * Strict body parsers. JSON: objects only, nesting at most 8 levels, no `__proto__` or
 * `constructor` members. Forms (`application/x-www-form-urlencoded`, RFC 6749): UTF-8, and a
 * parameter sent twice is an error (RFC 6749 section 3.2). Size limits come from Fastify's
 * `bodyLimit`.
 */

import { AuthError } from '@tessera/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const MAX_BODY_DEPTH = 8;

// Which body each route takes, by route pattern; every other route takes a JSON object.
// (Fix: both parsers used to apply to every route, so the JSON endpoints (login, register,
// password) also accepted form bodies, which a cross-site page can send without a CORS
// preflight (login CSRF), and /oauth/token answered malformed JSON with 400 instead of 415.)

/** RFC 6749, RFC 7009 and RFC 7662 endpoints: `application/x-www-form-urlencoded` only. */
export const FORM_ROUTES: ReadonlySet<string> = new Set(['/oauth/token', '/oauth/revoke', '/oauth/introspect']);
/**
 * Endpoints that take no body (the refresh cookie or the bearer token is the whole request):
 * an absent or empty body, `{}` or an empty form is accepted; any member is a 400.
 */
export const BODYLESS_ROUTES: ReadonlySet<string> = new Set(['/auth/refresh', '/auth/logout', '/auth/logout-all']);

/** The matched route pattern; undefined for an unknown route, whose body is never parsed (it is a 404). */
function routeOf(request: FastifyRequest): string | undefined {
  return request.routeOptions.url;
}

function unsupported(detail: string): AuthError {
  return new AuthError('ERR_UNSUPPORTED_MEDIA_TYPE', { detail });
}

function noMembers(value: object | undefined): undefined {
  if (value !== undefined && Object.keys(value).length > 0) {
    throw new AuthError('ERR_VALIDATION', { detail: 'this endpoint takes no body' });
  }
  return undefined;
}

function depthOk(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (depth > MAX_BODY_DEPTH) return false;
  for (const [key, child] of Object.entries(value)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return false;
    if (!depthOk(child, depth + 1)) return false;
  }
  return true;
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new AuthError('ERR_VALIDATION', { detail: 'empty JSON body' });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AuthError('ERR_VALIDATION', { detail: 'invalid JSON' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AuthError('ERR_VALIDATION', { detail: 'the body must be a JSON object' });
  }
  if (!depthOk(value, 1))
    throw new AuthError('ERR_VALIDATION', { detail: 'the body is nested too deeply or has reserved keys' });
  return value;
}

export function parseFormBody(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    if (key in out)
      throw new AuthError('ERR_VALIDATION', {
        claim: /^[a-z_]{1,32}$/.test(key) ? key : undefined,
        detail: 'duplicate parameter',
      });
    out[key] = value;
  }
  return { ...out };
}

export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    try {
      const route = routeOf(request);
      if (route === undefined) return done(null, undefined);
      if (FORM_ROUTES.has(route)) {
        throw unsupported('RFC 6749 requires application/x-www-form-urlencoded');
      }
      if (BODYLESS_ROUTES.has(route)) {
        done(null, (body as string).trim() === '' ? undefined : noMembers(parseJsonBody(body as string) as object));
        return;
      }
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, body, done) => {
    try {
      const route = routeOf(request);
      if (route === undefined) return done(null, undefined);
      if (BODYLESS_ROUTES.has(route)) {
        done(null, noMembers(parseFormBody(body as string)));
        return;
      }
      if (!FORM_ROUTES.has(route)) throw unsupported('this endpoint takes application/json');
      done(null, parseFormBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
