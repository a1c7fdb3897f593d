import { generateKeyPairSync } from 'node:crypto';
import { createJwks, exportPrivateJwk, generateKey, signAccessToken, type TesseraKey } from '@tessera/core';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { type DecodedJwt, decodeJwt } from '../../src/jwt/decode-jwt.js';
import {
  describeKeyLike,
  type KeyInput,
  type KeyKind,
  parseKeyInput,
  verifySignature,
} from '../../src/jwt/verify-signature.js';

const SIGN = { issuer: 'http://localhost:8080', audience: 'tessera-api', ttlSec: 600 };

function decoded(token: string): DecodedJwt {
  const result = decodeJwt(token);
  if (!result.ok) throw new Error(result.message);
  return result;
}

function keys(text: string, kind: KeyKind = 'jwks'): KeyInput {
  const input = parseKeyInput(text, kind);
  if ('error' in input) throw new Error(input.error);
  return input;
}

/** The same token with one character of the payload changed (still valid base64url and JSON). */
function tamperPayload(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  claims.sub = `${claims.sub}x`;
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
}

function flipSignatureBit(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  sig[5] = (sig[5] as number) ^ 1;
  return `${h}.${p}.${sig.toString('base64url')}`;
}

describe('verifySignature with tokens from @tessera/core', () => {
  const algs = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
  for (const alg of algs) {
    it(`accepts a ${alg} token against its JWKS and rejects it tampered or under another key`, async () => {
      const key = await generateKey(alg);
      const other = await generateKey(alg, { kid: key.kid });
      const { token } = signAccessToken({ sub: 'usr_1', scope: 'openid' }, key, SIGN);
      const jwks = JSON.stringify(createJwks([key]));

      const ok = await verifySignature(decoded(token), keys(jwks));
      expect(ok).toMatchObject({ status: 'valid', kid: key.kid });

      expect((await verifySignature(decoded(tamperPayload(token)), keys(jwks))).status).toBe('invalid');
      expect((await verifySignature(decoded(flipSignatureBit(token)), keys(jwks))).status).toBe('invalid');
      const otherJwks = JSON.stringify(createJwks([other]));
      expect((await verifySignature(decoded(token), keys(otherJwks))).status).toBe('invalid');
    });
  }

  it('finds the signing key by kid among several keys of different types', async () => {
    const signer = await generateKey('ES256');
    const set = [await generateKey('RS256'), await generateKey('ES256'), signer, await generateKey('EdDSA')];
    const { token } = signAccessToken({ sub: 'usr_1' }, signer, SIGN);
    const result = await verifySignature(decoded(token), keys(JSON.stringify(createJwks(set))));
    expect(result).toMatchObject({ status: 'valid', kid: signer.kid });
  });

  it('says no-key when no key has the token kid', async () => {
    const signer = await generateKey('ES256');
    const { token } = signAccessToken({ sub: 'usr_1' }, signer, SIGN);
    const result = await verifySignature(
      decoded(token),
      keys(JSON.stringify(createJwks([await generateKey('ES256')]))),
    );
    expect(result.status).toBe('no-key');
    expect(result.message).toContain(signer.kid);
  });

  it('verifies an HS256 token against an oct JWK holding the secret', async () => {
    const key: TesseraKey = await generateKey('HS256');
    const { token } = signAccessToken({ sub: 'usr_1' }, key, SIGN);
    const jwk = JSON.stringify({ keys: [exportPrivateJwk(key)] });
    expect((await verifySignature(decoded(token), keys(jwk))).status).toBe('valid');
    expect((await verifySignature(decoded(tamperPayload(token)), keys(jwk))).status).toBe('invalid');
  });
});

describe('verifySignature with tokens from jose', () => {
  const cases = [
    { alg: 'ES256', gen: {} },
    { alg: 'ES384', gen: {} },
    { alg: 'RS256', gen: {} },
    { alg: 'PS256', gen: {} },
    { alg: 'EdDSA', gen: { crv: 'Ed25519' } },
  ] as const;
  for (const { alg, gen } of cases) {
    it(`accepts a jose ${alg} token against the exported JWKS and rejects it tampered`, async () => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { ...gen, extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), kid: 'jose-1', alg, use: 'sig' };
      const token = await new SignJWT({ sub: 'usr_2', scope: 'read' })
        .setProtectedHeader({ alg, kid: 'jose-1', typ: 'at+jwt' })
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey);
      const jwks = JSON.stringify({ keys: [jwk] });
      expect((await verifySignature(decoded(token), keys(jwks))).status).toBe('valid');
      // A single JWK works as well as a set.
      expect((await verifySignature(decoded(token), keys(JSON.stringify(jwk)))).status).toBe('valid');
      expect((await verifySignature(decoded(tamperPayload(token)), keys(jwks))).status).toBe('invalid');
      expect((await verifySignature(decoded(flipSignatureBit(token)), keys(jwks))).status).toBe('invalid');
    });
  }

  it('verifies HS256 with a pasted secret and rejects a wrong secret or tampering', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    const token = await new SignJWT({ sub: 'usr_3' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
    expect((await verifySignature(decoded(token), keys(secret, 'secret'))).status).toBe('valid');
    expect((await verifySignature(decoded(token), keys(`${secret}?`, 'secret'))).status).toBe('invalid');
    expect((await verifySignature(decoded(tamperPayload(token)), keys(secret, 'secret'))).status).toBe('invalid');
  });

  it('uses only the public part of a pasted private JWK, and says it had private parts', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'p1' };
    const token = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'ES256', kid: 'p1' }).sign(privateKey);
    const input = keys(JSON.stringify({ keys: [privateJwk] }));
    expect(input.kind === 'jwks' && input.hadPrivateParts).toBe(true);
    expect((await verifySignature(decoded(token), input)).status).toBe('valid');
  });
});

describe('verifySignature refuses what must never verify', () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('calls alg none (any casing) unsigned, even with a signature part and a key', async () => {
    const key = await generateKey('ES256');
    const jwks = keys(JSON.stringify(createJwks([key])));
    for (const alg of ['none', 'NONE', 'None']) {
      const token = `${b64({ alg, kid: key.kid })}.${b64({ sub: 'u' })}.${Buffer.from('x').toString('base64url')}`;
      expect((await verifySignature(decoded(token), jwks)).status).toBe('unsigned');
    }
    const empty = `${b64({ alg: 'ES256', kid: key.kid })}.${b64({ sub: 'u' })}.`;
    expect((await verifySignature(decoded(empty), jwks)).status).toBe('unsigned');
  });

  it('never uses a public key as an HMAC secret (alg confusion)', async () => {
    const rsa = await generateKey('RS256');
    const jwk = createJwks([rsa]);
    const publicText = JSON.stringify(jwk);
    // An attacker signs HS256 with the public JWKS text as the secret and names the RSA kid.
    const forged = await new SignJWT({ sub: 'admin' })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .sign(new TextEncoder().encode(publicText));
    const result = await verifySignature(decoded(forged), keys(publicText));
    expect(result.status).toBe('no-key');
  });

  it('does not verify a public-key token with a pasted secret', async () => {
    const key = await generateKey('ES256');
    const { token } = signAccessToken({ sub: 'u' }, key, SIGN);
    expect((await verifySignature(decoded(token), keys('some secret', 'secret'))).status).toBe('no-key');
  });

  it('rejects an ECDSA signature of the wrong length and unknown algorithms', async () => {
    const key = await generateKey('ES256');
    const { token } = signAccessToken({ sub: 'u' }, key, SIGN);
    const [h, p] = token.split('.');
    const jwks = keys(JSON.stringify(createJwks([key])));
    const short = `${h}.${p}.${Buffer.alloc(63, 1).toString('base64url')}`;
    expect((await verifySignature(decoded(short), jwks)).status).toBe('invalid');
    const odd = `${b64({ alg: 'XS999', kid: key.kid })}.${p}.c2ln`;
    expect((await verifySignature(decoded(odd), jwks)).status).toBe('unsupported');
  });

  it('refuses a key whose alg or use does not fit the token', async () => {
    const key = await generateKey('RS256');
    const { token } = signAccessToken({ sub: 'u' }, key, SIGN);
    const [jwk] = createJwks([key]).keys;
    const asPs = keys(JSON.stringify({ keys: [{ ...jwk, alg: 'PS256' }] }));
    expect((await verifySignature(decoded(token), asPs)).status).toBe('no-key');
    const forEnc = keys(JSON.stringify({ keys: [{ ...jwk, use: 'enc' }] }));
    expect((await verifySignature(decoded(token), forEnc)).status).toBe('no-key');
  });
});

describe('parseKeyInput', () => {
  it('reads a JWKS, a JWK or a secret, and explains bad JSON', () => {
    expect(parseKeyInput('')).toHaveProperty('error');
    expect(parseKeyInput('{"keys": [')).toHaveProperty('error');
    expect(parseKeyInput('{"nope": 1}')).toHaveProperty('error');
    expect(parseKeyInput('{"keys": []}')).toHaveProperty('error');
    expect(parseKeyInput('{"kty":"EC"}')).toMatchObject({ kind: 'jwks', hadPrivateParts: false });
    expect(parseKeyInput('hunter2', 'secret')).toMatchObject({ kind: 'secret' });
    expect(parseKeyInput('', 'secret')).toHaveProperty('error');
  });

  it('never guesses: text in the keys field is keys, a secret only when the user says so', () => {
    const jwks = parseKeyInput('hunter2');
    expect(jwks).toHaveProperty('error');
    expect((jwks as { error: string }).error).toMatch(/Shared secret/);
  });

  it('refuses as a secret anything that looks like a key (PEM, base64 DER, OpenSSH, JSON), pointing to JWK/JWKS', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ed = generateKeyPairSync('ed25519');
    const pem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const der = (key: typeof ec.publicKey) => key.export({ type: 'spki', format: 'der' }).toString('base64');
    const keyLike = [
      pem,
      `\n  ${pem}\n`,
      rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      der(ec.publicKey),
      der(rsa.publicKey),
      der(ed.publicKey),
      // The PEM body without its armour, line-wrapped, and in the base64url alphabet.
      pem.split('\n').slice(1, -2).join('\n'),
      Buffer.from(der(rsa.publicKey), 'base64').toString('base64url'),
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host',
      JSON.stringify(ec.publicKey.export({ format: 'jwk' })),
      JSON.stringify({ keys: [ec.publicKey.export({ format: 'jwk' })] }),
    ];
    for (const text of keyLike) {
      const secret = parseKeyInput(text, 'secret');
      expect(secret, text.slice(0, 40)).toHaveProperty('error');
      expect((secret as { error: string }).error, text.slice(0, 40)).toMatch(/JWK or JWKS/);
      expect(describeKeyLike(text), text.slice(0, 40)).toBeDefined();
      // In the keys field a PEM or DER key is explained too, not taken for anything else.
      if (!text.trim().startsWith('{')) expect(parseKeyInput(text), text.slice(0, 40)).toHaveProperty('error');
    }
    // Ordinary secrets, base64 ones included, are secrets.
    for (const text of [
      'hunter2',
      'a-shared-secret-of-at-least-32-bytes!!',
      'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=',
    ]) {
      expect(describeKeyLike(text), text).toBeUndefined();
      expect(parseKeyInput(text, 'secret'), text).toMatchObject({ kind: 'secret' });
    }
  });
});
