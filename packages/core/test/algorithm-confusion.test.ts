import { createHmac } from 'node:crypto';
import { createKeySet, exportPublicJwk, generateKey, importKey, type JwtHeader, type TesseraKey } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  b64json,
  defaultHeader,
  expectAuthError,
  expectAuthErrorAsync,
  forge,
  splitSegments,
  validClaims,
  verifierFor,
} from './support/helpers.js';

let rs: TesseraKey;
let ps: TesseraKey;
let es: TesseraKey;
let es2: TesseraKey;
let ed: TesseraKey;
let hs: TesseraKey;

beforeAll(async () => {
  [rs, es, es2, ed, hs] = await Promise.all([
    generateKey('RS256', { kid: 'rsa-1' }),
    generateKey('ES256', { kid: 'es-1' }),
    generateKey('ES256', { kid: 'es-2' }),
    generateKey('EdDSA', { kid: 'ed-1' }),
    generateKey('HS256', { kid: 'hs-1' }),
  ]);
  // The same RSA key pair, registered for PS256 under its own kid.
  if (rs.signKey === undefined) throw new Error('generated key cannot sign');
  ps = importKey(rs.signKey, { alg: 'PS256', kid: 'ps-1' });
});

/** An HS256 token whose HMAC secret is `secret` (the classic public-key-as-secret attack). */
function hmacForgery(secret: string | Buffer, kid: string | undefined): string {
  const header = kid === undefined ? { alg: 'HS256', typ: 'at+jwt' } : { alg: 'HS256', typ: 'at+jwt', kid };
  const signingInput = `${b64json(header)}.${b64json(validClaims({ sub: 'admin' }))}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

function publicSecrets(key: TesseraKey): [string, string | Buffer][] {
  const secrets: [string, string | Buffer][] = [
    ['the SPKI PEM', key.verifyKey.export({ type: 'spki', format: 'pem' }) as string],
    ['the SPKI DER', key.verifyKey.export({ type: 'spki', format: 'der' })],
    ['the public JWK JSON', JSON.stringify(exportPublicJwk(key))],
    ['the bare JWK JSON', JSON.stringify(key.verifyKey.export({ format: 'jwk' }))],
  ];
  if (key.alg === 'RS256') {
    secrets.push(['the PKCS#1 PEM', key.verifyKey.export({ type: 'pkcs1', format: 'pem' }) as string]);
  }
  return secrets;
}

describe('HS256 forgeries with public key bytes as the HMAC secret', () => {
  for (const which of ['RS256', 'ES256'] as const) {
    it(`an HS256 token keyed with each encoding of the ${which} public key and its kid is rejected with ERR_ALG_NOT_ALLOWED`, async () => {
      const key = which === 'RS256' ? rs : es;
      for (const [, secret] of publicSecrets(key)) {
        const token = hmacForgery(secret, key.kid);
        for (const resolver of [key, createKeySet([key]), () => key]) {
          const verifier = verifierFor(resolver);
          expectAuthError(() => verifier.verify(token), 'ERR_ALG_NOT_ALLOWED');
          await expectAuthErrorAsync(() => verifier.verifyAsync(token), 'ERR_ALG_NOT_ALLOWED');
        }
      }
    });

    it(`an HS256 token keyed with the ${which} public key PEM and no kid is rejected with ERR_ALG_NOT_ALLOWED by the single key`, () => {
      const key = which === 'RS256' ? rs : es;
      const [[, pem]] = publicSecrets(key) as [[string, string]];
      expectAuthError(() => verifierFor(key).verify(hmacForgery(pem, undefined)), 'ERR_ALG_NOT_ALLOWED');
    });

    it(`an HS256 token keyed with the ${which} public key PEM and no kid finds no key in a key set (ERR_KEY_NOT_FOUND)`, () => {
      const key = which === 'RS256' ? rs : es;
      const [[, pem]] = publicSecrets(key) as [[string, string]];
      expectAuthError(
        () => verifierFor(createKeySet([key, ed])).verify(hmacForgery(pem, undefined)),
        'ERR_KEY_NOT_FOUND',
      );
    });
  }

  it('the PEM-keyed HS256 forgery is also rejected with ERR_ALG_NOT_ALLOWED when the key set holds an HS256 key too', () => {
    const pem = rs.verifyKey.export({ type: 'spki', format: 'pem' }) as string;
    expectAuthError(() => verifierFor(createKeySet([rs, hs])).verify(hmacForgery(pem, rs.kid)), 'ERR_ALG_NOT_ALLOWED');
  });
});

describe('the key decides the algorithm', () => {
  it('an RS256 token presented with the kid of a PS256 registration of the same RSA key is rejected with ERR_ALG_NOT_ALLOWED', () => {
    const token = forge(rs, { header: defaultHeader(rs, { kid: ps.kid }) });
    expect(verifierFor(rs).verify(forge(rs)).sub).toBe('user-1');
    expectAuthError(() => verifierFor(createKeySet([ps])).verify(token), 'ERR_ALG_NOT_ALLOWED');
  });

  it('an RS256 signature relabelled as PS256 for the same RSA key is rejected with ERR_SIGNATURE_INVALID', () => {
    const header = b64json(defaultHeader(ps));
    const [, payload] = splitSegments(forge(rs));
    const rsSignature = forge(rs, { headerSegment: header, payloadSegment: payload }).split('.')[2];
    expectAuthError(() => verifierFor(ps).verify(`${header}.${payload}.${rsSignature}`), 'ERR_SIGNATURE_INVALID');
  });

  it('a PS256 signature relabelled as RS256 for the same RSA key is rejected with ERR_SIGNATURE_INVALID', () => {
    const header = b64json(defaultHeader(rs));
    const [, payload] = splitSegments(forge(rs));
    const psSignature = forge(ps, { headerSegment: header, payloadSegment: payload }).split('.')[2];
    expectAuthError(() => verifierFor(rs).verify(`${header}.${payload}.${psSignature}`), 'ERR_SIGNATURE_INVALID');
  });

  it('an EdDSA-signed token presented with the kid of an ES256 key is rejected with ERR_ALG_NOT_ALLOWED', () => {
    const token = forge(ed, { header: defaultHeader(ed, { kid: es.kid }) });
    expectAuthError(() => verifierFor(createKeySet([es, ed])).verify(token), 'ERR_ALG_NOT_ALLOWED');
  });

  it('a header alg of ES256 on an EdDSA kid is rejected with ERR_ALG_NOT_ALLOWED', () => {
    const token = forge(es, { header: defaultHeader(es, { kid: ed.kid }) });
    expectAuthError(() => verifierFor(createKeySet([es, ed])).verify(token), 'ERR_ALG_NOT_ALLOWED');
  });

  it('a resolver function returning a key of another algorithm leads to ERR_ALG_NOT_ALLOWED', () => {
    expectAuthError(() => verifierFor((_h: JwtHeader) => ed).verify(forge(es)), 'ERR_ALG_NOT_ALLOWED');
  });

  it('a resolver function returning undefined leads to ERR_KEY_NOT_FOUND', () => {
    expectAuthError(() => verifierFor((_h: JwtHeader) => undefined).verify(forge(es)), 'ERR_KEY_NOT_FOUND');
  });

  it('a resolver function returning a raw KeyObject instead of a TesseraKey leads to ERR_KEY_NOT_FOUND', () => {
    const raw = es.verifyKey;
    const resolver = ((_h: JwtHeader) => raw) as unknown as (h: JwtHeader) => TesseraKey;
    expectAuthError(() => verifierFor(resolver).verify(forge(es)), 'ERR_KEY_NOT_FOUND');
  });
});

describe('the algorithms allowlist', () => {
  it("an allowlist excluding the key's own algorithm rejects a valid token with ERR_ALG_NOT_ALLOWED", async () => {
    const token = forge(rs);
    const verifier = verifierFor(rs, { algorithms: ['ES256', 'EdDSA'] });
    expectAuthError(() => verifier.verify(token), 'ERR_ALG_NOT_ALLOWED');
    await expectAuthErrorAsync(() => verifier.verifyAsync(token), 'ERR_ALG_NOT_ALLOWED');
  });

  it('an allowlist of ES256 only rejects an HS256 token from a key set that holds the HS256 key (ERR_ALG_NOT_ALLOWED)', () => {
    const verifier = verifierFor(createKeySet([es, hs]), { algorithms: ['ES256'] });
    expect(verifier.verify(forge(es)).sub).toBe('user-1');
    expectAuthError(() => verifier.verify(forge(hs)), 'ERR_ALG_NOT_ALLOWED');
  });

  it("an allowlist including the key's algorithm accepts the token", () => {
    expect(verifierFor(rs, { algorithms: ['RS256'] }).verify(forge(rs)).sub).toBe('user-1');
  });
});

describe('tokens without kid', () => {
  it('a token without kid is rejected with ERR_KEY_NOT_FOUND when the key set holds two keys of its algorithm', () => {
    const token = forge(es, { header: { alg: 'ES256', typ: 'at+jwt' } });
    expectAuthError(() => verifierFor(createKeySet([es, es2])).verify(token), 'ERR_KEY_NOT_FOUND');
  });

  it('a token without kid verifies against the only key of its algorithm in a mixed key set', () => {
    const token = forge(es, { header: { alg: 'ES256', typ: 'at+jwt' } });
    expect(verifierFor(createKeySet([es, ed, rs, hs])).verify(token).sub).toBe('user-1');
  });

  it('a token without kid signed by the other same-alg key is rejected with ERR_SIGNATURE_INVALID when only one is trusted', () => {
    const token = forge(es2, { header: { alg: 'ES256', typ: 'at+jwt' } });
    expectAuthError(() => verifierFor(createKeySet([es, ed])).verify(token), 'ERR_SIGNATURE_INVALID');
  });
});
