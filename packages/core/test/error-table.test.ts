import { AuthError, ERROR_CODES, ERROR_TABLE, type ErrorCode, isAuthError } from '@tessera/core';
import { describe, expect, it } from 'vitest';

/** Update this list (deliberately) when a code is added or removed. */
const EXPECTED_CODES = [
  'ERR_ACCOUNT_DISABLED',
  'ERR_ALG_NOT_ALLOWED',
  'ERR_BODY_TOO_LARGE',
  'ERR_CLAIM_INVALID',
  'ERR_CLAIM_MISSING',
  'ERR_CLAIM_NOT_ALLOWED',
  'ERR_CSRF',
  'ERR_HEADER_PARAM_NOT_ALLOWED',
  'ERR_INSUFFICIENT_SCOPE',
  'ERR_INTERNAL',
  'ERR_INVALID_CLIENT',
  'ERR_INVALID_CREDENTIALS',
  'ERR_KEY_NOT_FOUND',
  'ERR_NOT_FOUND',
  'ERR_PASSWORD_POLICY',
  'ERR_RATE_LIMITED',
  'ERR_REFRESH_EXPIRED',
  'ERR_REFRESH_INVALID',
  'ERR_REFRESH_MISSING',
  'ERR_REFRESH_REUSED',
  'ERR_REFRESH_REVOKED',
  'ERR_REGISTRATION_CLOSED',
  'ERR_REVOCATION_STALE',
  'ERR_SERVICE_UNAVAILABLE',
  'ERR_SIGNATURE_INVALID',
  'ERR_TOKEN_EXPIRED',
  'ERR_TOKEN_MALFORMED',
  'ERR_TOKEN_NOT_YET_VALID',
  'ERR_TOKEN_REVOKED',
  'ERR_TOKEN_TOO_LARGE',
  'ERR_TOKEN_TOO_OLD',
  'ERR_TYP_INVALID',
  'ERR_UNAUTHENTICATED',
  'ERR_UNAUTHORIZED_CLIENT',
  'ERR_UNSUPPORTED_GRANT_TYPE',
  'ERR_UNSUPPORTED_MEDIA_TYPE',
  'ERR_VALIDATION',
];

/** RFC 6749 section 5.2 and 4.1.2.1, RFC 6750 section 3.1, RFC 7009 section 2.2.1, RFC 8628 section 3.5. */
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_token',
  'insufficient_scope',
  'unsupported_token_type',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
  'slow_down',
]);

describe('the error table', () => {
  it('has exactly 37 codes, so adding or removing one requires updating this test', () => {
    expect(ERROR_CODES).toHaveLength(37);
    expect([...ERROR_CODES].sort()).toEqual(EXPECTED_CODES);
  });

  it('ERROR_CODES lists exactly the keys of ERROR_TABLE and is frozen', () => {
    expect([...ERROR_CODES]).toEqual(Object.keys(ERROR_TABLE));
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
  });

  it('every code matches /^ERR_[A-Z_]+$/', () => {
    for (const code of ERROR_CODES) expect(code).toMatch(/^ERR_[A-Z_]+$/);
  });

  it('every entry has an HTTP error status, a standard OAuth error and a non-empty description', () => {
    for (const code of ERROR_CODES) {
      const spec = ERROR_TABLE[code];
      expect(Object.keys(spec).sort(), code).toEqual(['description', 'oauthError', 'status']);
      expect(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599, code).toBe(true);
      expect(OAUTH_ERRORS.has(spec.oauthError), `${code}: ${spec.oauthError}`).toBe(true);
      expect(typeof spec.description === 'string' && spec.description.trim().length > 0, code).toBe(true);
    }
  });

  it('statuses agree with the OAuth error (invalid_token 401, invalid_request/invalid_grant 4xx, server_error 5xx)', () => {
    for (const code of ERROR_CODES) {
      const { status, oauthError } = ERROR_TABLE[code];
      if (oauthError === 'invalid_token') expect(status, code).toBe(401);
      if (oauthError === 'insufficient_scope') expect(status, code).toBe(403);
      if (oauthError === 'invalid_request' || oauthError === 'invalid_grant') {
        expect(status >= 400 && status < 500, code).toBe(true);
      }
      if (oauthError === 'server_error' || oauthError === 'temporarily_unavailable') {
        expect(status >= 500, code).toBe(true);
      }
    }
  });

  it('the token-verification codes keep their contract statuses', () => {
    const expected: Partial<Record<ErrorCode, [number, string]>> = {
      ERR_TOKEN_MALFORMED: [400, 'invalid_request'],
      ERR_TOKEN_TOO_LARGE: [400, 'invalid_request'],
      ERR_HEADER_PARAM_NOT_ALLOWED: [401, 'invalid_token'],
      ERR_TYP_INVALID: [401, 'invalid_token'],
      ERR_ALG_NOT_ALLOWED: [401, 'invalid_token'],
      ERR_KEY_NOT_FOUND: [401, 'invalid_token'],
      ERR_SIGNATURE_INVALID: [401, 'invalid_token'],
      ERR_TOKEN_EXPIRED: [401, 'invalid_token'],
      ERR_TOKEN_NOT_YET_VALID: [401, 'invalid_token'],
      ERR_TOKEN_TOO_OLD: [401, 'invalid_token'],
      ERR_CLAIM_MISSING: [401, 'invalid_token'],
      ERR_CLAIM_INVALID: [401, 'invalid_token'],
      ERR_CLAIM_NOT_ALLOWED: [500, 'server_error'],
    };
    for (const [code, [status, oauthError]] of Object.entries(expected) as [ErrorCode, [number, string]][]) {
      expect([ERROR_TABLE[code].status, ERROR_TABLE[code].oauthError], code).toEqual([status, oauthError]);
    }
  });

  it('descriptions are distinct, so a description identifies its code', () => {
    const descriptions = ERROR_CODES.map((code) => ERROR_TABLE[code].description);
    expect(new Set(descriptions).size).toBe(descriptions.length);
  });
});

describe('AuthError', () => {
  for (const code of EXPECTED_CODES as ErrorCode[]) {
    it(`an AuthError of ${code} carries the table's status and OAuth error`, () => {
      const error = new AuthError(code, { claim: 'exp', detail: 'internal' });
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('AuthError');
      expect(error.code).toBe(code);
      expect(error.status).toBe(ERROR_TABLE[code].status);
      expect(error.oauthError).toBe(ERROR_TABLE[code].oauthError);
      expect(error.claim).toBe('exp');
      expect(error.detail).toBe('internal');
      expect(error.toJSON()).toEqual({ error: error.oauthError, error_description: error.message, code });
    });
  }

  it('the public JSON leaves out detail and cause', () => {
    const error = new AuthError('ERR_SIGNATURE_INVALID', { detail: 'internal-detail', cause: new Error('inner') });
    const json = JSON.stringify(error);
    expect(json).not.toContain('internal-detail');
    expect(json).not.toContain('inner');
  });

  it('isAuthError matches AuthError values, optionally by code, and nothing else', () => {
    const error = new AuthError('ERR_TOKEN_EXPIRED');
    expect(isAuthError(error)).toBe(true);
    expect(isAuthError(error, 'ERR_TOKEN_EXPIRED')).toBe(true);
    expect(isAuthError(error, 'ERR_TOKEN_MALFORMED')).toBe(false);
    const lookalike = Object.assign(new Error('x'), { code: 'ERR_TOKEN_EXPIRED', name: 'AuthError' });
    expect(isAuthError(lookalike)).toBe(false);
    expect(isAuthError({ code: 'ERR_TOKEN_EXPIRED' })).toBe(false);
    expect(isAuthError(undefined)).toBe(false);
  });
});
