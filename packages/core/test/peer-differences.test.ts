// docs/core.md claims jose accepts inputs that Tessera rejects. This file keeps the claim true:
// if a jose upgrade starts rejecting one of them, the first assertion fails and the docs must change.
import { createHmac } from 'node:crypto';
import { AuthError, createAccessTokenVerifier, type ErrorCode, importKey } from '@tessera/core';
import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';

const secret = Buffer.alloc(32, 7);
const now = 1_800_000_000;
const b64 = (s: string) => Buffer.from(s).toString('base64url');
const header = b64('{"alg":"HS256","typ":"at+jwt"}');
const claims = (extra = '') => `{"iss":"i","sub":"a","aud":"x","exp":${now + 100},"iat":${now},"jti":"j"${extra}}`;
const sign = (h: string, p: string) =>
  `${h}.${p}.${createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')}`;

/** A payload whose base64url length is not a multiple of 4, with the padding that makes it one. */
function paddedPayload(): string {
  for (let n = 0; ; n++) {
    const p = b64(claims(`,"x":"${'a'.repeat(n)}"`));
    if (p.length % 4 !== 0) return p + '='.repeat(4 - (p.length % 4));
  }
}

const cases: Array<[string, string, ErrorCode]> = [
  ['a trailing newline', `${sign(header, b64(claims()))}\n`, 'ERR_TOKEN_MALFORMED'],
  ['base64url padding on the payload', sign(header, paddedPayload()), 'ERR_TOKEN_MALFORMED'],
  ['duplicate "sub" members', sign(header, b64(claims(',"sub":"admin"'))), 'ERR_TOKEN_MALFORMED'],
  ['exp: 1e309', sign(header, b64(claims().replace(`"exp":${now + 100}`, '"exp":1e309'))), 'ERR_CLAIM_INVALID'],
];

describe('inputs jose accepts and Tessera rejects', () => {
  const key = importKey(secret, { alg: 'HS256', kid: 'k' });
  const verifier = createAccessTokenVerifier(key, { issuer: 'i', audience: 'x', clock: () => now });
  for (const [name, token, code] of cases) {
    it(`${name}: jose accepts it, Tessera rejects it with ${code}`, async () => {
      await expect(jwtVerify(token, secret, { currentDate: new Date(now * 1000) })).resolves.toBeDefined();
      let caught: unknown;
      try {
        verifier.verify(token);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AuthError);
      expect((caught as AuthError).code).toBe(code);
    });
  }
});
