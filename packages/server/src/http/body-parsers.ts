/**
 * Strict body parsers. JSON: objects only, nesting at most 8 levels, no `__proto__` or
 * `constructor` members. Forms (`application/x-www-form-urlencoded`, RFC 6749): UTF-8, and a
 * parameter sent twice is an error (RFC 6749 section 3.2). Size limits come from Fastify's
 * `bodyLimit`.
 */

import { AuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';

export const MAX_BODY_DEPTH = 8;

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
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseFormBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
