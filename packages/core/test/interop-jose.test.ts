import { randomBytes } from 'node:crypto';
import {
  ALGORITHMS,
  type Algorithm,
  createJwks,
  generateKey,
  importJwk,
  importKey,
  signAccessToken,
  type TesseraKey,
} from '@tessera/core';
import * as jose from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, expectAuthError, frozenClock, ISSUER, NOW, verifierFor } from './support/helpers.js';

const ASYMMETRIC = ALGORITHMS.filter((alg) => alg !== 'HS256') as Exclude<Algorithm, 'HS256'>[];

const joseVerifyOptions = (alg: Algorithm) => ({
  issuer: ISSUER,
  audience: AUDIENCE,
  typ: 'at+jwt',
  algorithms: [alg],
  currentDate: new Date(NOW * 1000),
});

async function joseToken(alg: Algorithm, signingKey: jose.CryptoKey | Uint8Array, kid: string): Promise<string> {
  return new jose.SignJWT({ scope: 'read write', client_id: 'client-1' })
    .setProtectedHeader({ alg, typ: 'at+jwt', kid })
    .setIssuer(ISSUER)
    .setSubject('user-42')
    .setAudience(AUDIENCE)
    .setIssuedAt(NOW)
    .setExpirationTime(NOW + 600)
    .setJti('jose-jti-0123456789abcdef')
    .sign(signingKey);
}

interface JosePair {
  publicKey: jose.CryptoKey;
  privateKey: jose.CryptoKey;
}

const josePairs = new Map<Algorithm, JosePair>();
const tesseraKeys = new Map<Algorithm, TesseraKey>();
let hmacSecret: Uint8Array;

beforeAll(async () => {
  await Promise.all(
    ASYMMETRIC.map(async (alg) => {
      josePairs.set(alg, await jose.generateKeyPair(alg));
    }),
  );
  await Promise.all(
    ASYMMETRIC.map(async (alg) => {
      tesseraKeys.set(alg, await generateKey(alg));
    }),
  );
  hmacSecret = randomBytes(32);
  tesseraKeys.set('HS256', importKey(hmacSecret, { alg: 'HS256', kid: 'hs-1' }));
});

function getPair(alg: Algorithm): JosePair {
  const pair = josePairs.get(alg);
  if (pair === undefined) throw new Error(`no jose key pair for ${alg}`);
  return pair;
}

function getKey(alg: Algorithm): TesseraKey {
  const key = tesseraKeys.get(alg);
  if (key === undefined) throw new Error(`no Tessera key for ${alg}`);
  return key;
}

function expectJoseClaims(claims: Record<string, unknown>): void {
  expect(claims).toMatchObject({
    iss: ISSUER,
    sub: 'user-42',
    aud: AUDIENCE,
    iat: NOW,
    exp: NOW + 600,
    jti: 'jose-jti-0123456789abcdef',
    scope: 'read write',
    client_id: 'client-1',
  });
}

describe('jose-made tokens verify in Tessera', () => {
  for (const alg of ASYMMETRIC) {
    it(`a jose ${alg} token verifies with the key imported through importJwk(exportJWK)`, async () => {
      const { publicKey, privateKey } = getPair(alg);
      const token = await joseToken(alg, privateKey, 'jose-jwk');
      const key = importJwk(await jose.exportJWK(publicKey), { alg, kid: 'jose-jwk' });
      expect(key.alg).toBe(alg);
      const verifier = verifierFor(key);
      expectJoseClaims(verifier.verify(token));
      expectJoseClaims(await verifier.verifyAsync(token));
    });

    it(`a jose ${alg} token verifies with the key imported through importKey(SPKI PEM)`, async () => {
      const { publicKey, privateKey } = getPair(alg);
      const token = await joseToken(alg, privateKey, 'jose-pem');
      const key = importKey(await jose.exportSPKI(publicKey), { alg, kid: 'jose-pem' });
      const verifier = verifierFor(key);
      expectJoseClaims(verifier.verify(token));
      expectJoseClaims(await verifier.verifyAsync(token));
    });

    it(`a jose ${alg} token is rejected by Tessera once a payload byte is changed (ERR_SIGNATURE_INVALID)`, async () => {
      const { publicKey, privateKey } = getPair(alg);
      const token = await joseToken(alg, privateKey, 'jose-jwk');
      const key = importJwk(await jose.exportJWK(publicKey), { alg, kid: 'jose-jwk' });
      const [h, p, s] = token.split('.');
      const payload = JSON.parse(Buffer.from(p as string, 'base64url').toString()) as Record<string, unknown>;
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'admin' })).toString('base64url')}.${s}`;
      expectAuthError(() => verifierFor(key).verify(tampered), 'ERR_SIGNATURE_INVALID');
    });
  }

  it('a jose HS256 token verifies with the secret imported through importKey(bytes) and importJwk(exportJWK)', async () => {
    const secret = randomBytes(32);
    const token = await joseToken('HS256', secret, 'jose-hs');
    const fromBytes = importKey(secret, { alg: 'HS256', kid: 'jose-hs' });
    const fromJwk = importJwk(await jose.exportJWK(secret), { alg: 'HS256', kid: 'jose-hs' });
    expectJoseClaims(verifierFor(fromBytes).verify(token));
    expectJoseClaims(verifierFor(fromJwk).verify(token));
  });

  it('a jose token without typ at+jwt is rejected by Tessera with ERR_TYP_INVALID', async () => {
    const { publicKey, privateKey } = getPair('ES256');
    const token = await new jose.SignJWT({})
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'k' })
      .setIssuer(ISSUER)
      .setSubject('u')
      .setAudience(AUDIENCE)
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 600)
      .setJti('jti-jti-jti-jti')
      .sign(privateKey);
    const key = importJwk(await jose.exportJWK(publicKey), { alg: 'ES256', kid: 'k' });
    expectAuthError(() => verifierFor(key).verify(token), 'ERR_TYP_INVALID');
  });
});

describe('Tessera-made tokens verify in jose', () => {
  for (const alg of ASYMMETRIC) {
    it(`a Tessera ${alg} token verifies in jose jwtVerify with createLocalJWKSet(createJwks)`, async () => {
      const key = getKey(alg);
      const { token, claims } = signAccessToken({ sub: 'user-7', scope: 'read' }, key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        clock: frozenClock(),
      });
      const jwks = jose.createLocalJWKSet(createJwks([key]));
      const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, joseVerifyOptions(alg));
      expect(protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: key.kid });
      expect(payload).toEqual(claims);
    });
  }

  it('a Tessera token with several audiences verifies in jose for each audience', async () => {
    const key = getKey('ES256');
    const { token } = signAccessToken({ sub: 'user-7' }, key, {
      issuer: ISSUER,
      audience: [AUDIENCE, 'api://other'],
      clock: frozenClock(),
    });
    const jwks = jose.createLocalJWKSet(createJwks([key]));
    for (const audience of [AUDIENCE, 'api://other']) {
      const { payload } = await jose.jwtVerify(token, jwks, { ...joseVerifyOptions('ES256'), audience });
      expect(payload.aud).toEqual([AUDIENCE, 'api://other']);
    }
  });

  it('a Tessera HS256 token verifies in jose jwtVerify with the shared secret', async () => {
    const key = getKey('HS256');
    const { token, claims } = signAccessToken({ sub: 'user-7' }, key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      clock: frozenClock(),
    });
    const { payload } = await jose.jwtVerify(token, hmacSecret, joseVerifyOptions('HS256'));
    expect(payload).toEqual(claims);
  });

  it('a Tessera token is rejected by jose after the frozen clock passes exp', async () => {
    const key = getKey('EdDSA');
    const { token } = signAccessToken({ sub: 'user-7' }, key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      ttlSec: 60,
      clock: frozenClock(),
    });
    const jwks = jose.createLocalJWKSet(createJwks([key]));
    await expect(
      jose.jwtVerify(token, jwks, { ...joseVerifyOptions('EdDSA'), currentDate: new Date((NOW + 61) * 1000) }),
    ).rejects.toBeInstanceOf(jose.errors.JWTExpired);
  });
});
