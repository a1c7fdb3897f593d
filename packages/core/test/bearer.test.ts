import { formatBearerChallenge, isAuthError, readBearerToken } from '@tessera/core';
import { describe, expect, it } from 'vitest';

describe('readBearerToken', () => {
  it('returns the token; the scheme is case-insensitive', () => {
    expect(readBearerToken('Bearer abc.def-_~+/=')).toBe('abc.def-_~+/=');
    expect(readBearerToken('bEARER x')).toBe('x');
    expect(readBearerToken(['Bearer x'])).toBe('x');
  });

  it('no credentials: absent, empty, another scheme', () => {
    for (const value of [undefined, null, '', 'Basic eDp5', 'Bearerx abc', []])
      expect(readBearerToken(value)).toBeUndefined();
  });

  it('malformed or several headers throw ERR_TOKEN_MALFORMED', () => {
    for (const value of ['Bearer', 'Bearer ', 'Bearer  x', 'Bearer x y', ['Bearer x', 'Bearer y']]) {
      let caught: unknown;
      try {
        readBearerToken(value);
      } catch (error) {
        caught = error;
      }
      expect(isAuthError(caught, 'ERR_TOKEN_MALFORMED'), String(value)).toBe(true);
    }
  });
});

describe('formatBearerChallenge', () => {
  it('formats RFC 6750 challenges and drops quote characters', () => {
    expect(formatBearerChallenge('r')).toBe('Bearer realm="r"');
    expect(formatBearerChallenge('r', { error: 'insufficient_scope', errorDescription: 'a "b"\\', scope: 'x y' })).toBe(
      'Bearer realm="r", error="insufficient_scope", error_description="a b", scope="x y"',
    );
  });
});
