/** Assertions on the documented error body: `{error, error_description, code}` from core's error table. */

import { ERROR_TABLE, type ErrorCode } from '@tessera/core';
import { expect } from 'vitest';

interface InjectedResponse {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
  json(): unknown;
}

/** Text that must never reach a client: stack frames, paths, framework codes, internal messages. */
const INTERNALS = [/\bat .+\(.*:\d+:\d+\)/, /\/work\//, /node_modules/, /FST_/, /SqliteError/, /TypeError/, /"stack"/];

export function expectNoInternals(res: InjectedResponse): void {
  for (const pattern of INTERNALS) expect(res.body).not.toMatch(pattern);
}

/**
 * The response is the documented error for `code`: its status (or `status` when the endpoint
 * maps it, as /oauth/token does), a JSON body with exactly `error`, `error_description` and
 * `code`, the table's OAuth error and a description starting with the table's.
 */
export function expectError(res: InjectedResponse, code: ErrorCode, status: number = ERROR_TABLE[code].status): void {
  expect({ status: res.statusCode, code: (res.json() as { code?: unknown }).code }).toEqual({ status, code });
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
  const body = res.json() as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'error', 'error_description']);
  expect(body.error).toBe(ERROR_TABLE[code].oauthError);
  expect(String(body.error_description).startsWith(ERROR_TABLE[code].description)).toBe(true);
  expectNoInternals(res);
}

/** Any documented 4xx error: the shape holds whatever the code. */
export function expectDocumented4xx(res: InjectedResponse): void {
  expect(res.statusCode).toBeGreaterThanOrEqual(400);
  expect(res.statusCode).toBeLessThan(500);
  const body = res.json() as Record<string, unknown>;
  const code = body.code as ErrorCode;
  expect(Object.keys(ERROR_TABLE)).toContain(code);
  if (code === 'ERR_UNAUTHENTICATED' && body.error === undefined) {
    expect(Object.keys(body).sort()).toEqual(['code', 'error_description']);
  } else {
    expect(Object.keys(body).sort()).toEqual(['code', 'error', 'error_description']);
    expect(body.error).toBe(ERROR_TABLE[code].oauthError);
  }
  expect(String(body.error_description).startsWith(ERROR_TABLE[code].description)).toBe(true);
  expectNoInternals(res);
}

/** 401 for a request without credentials: exactly `Bearer realm="tessera"`, no error attribute (RFC 6750 3.1). */
export function expectNoCredentials(res: InjectedResponse): void {
  expect(res.statusCode).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
  expect(res.json()).toEqual({
    error_description: ERROR_TABLE.ERR_UNAUTHENTICATED.description,
    code: 'ERR_UNAUTHENTICATED',
  });
}

/** A bearer failure: the code's status and a challenge naming its error (RFC 6750 3). */
export function expectBearerError(res: InjectedResponse, code: ErrorCode): void {
  expectError(res, code);
  expect(String(res.headers['www-authenticate'])).toMatch(
    new RegExp(`^Bearer realm="tessera", error="${ERROR_TABLE[code].oauthError}", error_description="[^"]*"$`),
  );
}
