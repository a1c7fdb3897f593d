import { ALGORITHMS, createAccessTokenVerifier, generateKey, signAccessToken } from '@tessera/core';
import { describe, expect, it } from 'vitest';

describe('round trip', () => {
  for (const alg of ALGORITHMS) {
    it(`a ${alg} token signed by Tessera verifies in Tessera`, async () => {
      const key = await generateKey(alg);
      const { token, claims } = signAccessToken({ sub: 'user-1', sid: 's1' }, key, {
        issuer: 'https://a.example',
        audience: 'api',
      });
      const verifier = createAccessTokenVerifier(key, { issuer: 'https://a.example', audience: 'api' });
      expect(verifier.verify(token)).toEqual(claims);
      await expect(verifier.verifyAsync(token)).resolves.toEqual(claims);
    });
  }
});
