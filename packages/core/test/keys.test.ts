import { generateKeyPair, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import {
  ALGORITHMS,
  type Algorithm,
  computeJwkThumbprint,
  createJwks,
  createKeySet,
  exportPrivateJwk,
  exportPublicJwk,
  generateKey,
  importJwk,
  importJwks,
  importKey,
  KeySet,
  signAccessToken,
  type TesseraKey,
} from '@tessera/core';
import * as jose from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  defaultHeader,
  expectAuthError,
  expectTypeError,
  forge,
  frozenClock,
  ISSUER,
  thrownBy,
  verifierFor,
} from './support/helpers.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

const keys = new Map<Algorithm, TesseraKey>();
let rsa1024: { publicKey: KeyObject; privateKey: KeyObject };
let p384: { publicKey: KeyObject; privateKey: KeyObject };
let secp256k1: { publicKey: KeyObject; privateKey: KeyObject };
let ed448: { publicKey: KeyObject; privateKey: KeyObject };
/** An RSA key whose modulus (2052 bits) is not a whole number of bytes. */
let rsa2052: { publicKey: KeyObject; privateKey: KeyObject };

beforeAll(async () => {
  const [es, ed, rs, hs, odd] = await Promise.all([
    generateKey('ES256'),
    generateKey('EdDSA'),
    generateKey('RS256'),
    generateKey('HS256'),
    promisify(generateKeyPair)('rsa', { modulusLength: 2052 }),
  ]);
  rsa2052 = odd;
  keys.set('ES256', es);
  keys.set('EdDSA', ed);
  keys.set('RS256', rs);
  keys.set('HS256', hs);
  if (rs.signKey === undefined) throw new Error('generated RSA key cannot sign');
  keys.set('PS256', importKey(rs.signKey, { alg: 'PS256' }));
  rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
  p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  ed448 = generateKeyPairSync('ed448');
});

function keyFor(alg: Algorithm): TesseraKey {
  const key = keys.get(alg);
  if (key === undefined) throw new Error(`no key for ${alg}`);
  return key;
}

const ASYMMETRIC = ALGORITHMS.filter((alg) => alg !== 'HS256');

describe('HS256 secrets', () => {
  it('an HS256 secret of 31 bytes is refused with a TypeError', () => {
    expectTypeError(() => importKey(randomBytes(31), { alg: 'HS256' }));
  });

  it('an HS256 secret of 32 bytes is accepted', () => {
    expect(importKey(randomBytes(32), { alg: 'HS256' }).alg).toBe('HS256');
  });

  it('an empty HS256 secret is refused with a TypeError', () => {
    expectTypeError(() => importKey(new Uint8Array(0), { alg: 'HS256' }));
  });

  it('an oct JWK of 31 bytes is refused with a TypeError', () => {
    expectTypeError(() => importJwk({ kty: 'oct', k: randomBytes(31).toString('base64url') }, { alg: 'HS256' }));
  });

  it('an HS256 secret given as a PEM string is refused with a TypeError', () => {
    const pem = keyFor('RS256').verifyKey.export({ type: 'spki', format: 'pem' }) as string;
    expectTypeError(() => importKey(pem, { alg: 'HS256' }));
  });

  it('an HS256 key from a public KeyObject is refused with a TypeError', () => {
    expectTypeError(() => importKey(keyFor('ES256').verifyKey, { alg: 'HS256' }));
  });

  it('an oct JWK cannot be imported for an asymmetric algorithm (TypeError)', () => {
    expectTypeError(() => importJwk({ kty: 'oct', k: randomBytes(32).toString('base64url') }, { alg: 'RS256' }));
  });

  it('the default HS256 kid is random, not derived from the secret', () => {
    const secret = randomBytes(32);
    const a = importKey(secret, { alg: 'HS256' });
    const b = importKey(secret, { alg: 'HS256' });
    expect(a.kid).not.toBe(b.kid);
    expect(a.kid).not.toContain(secret.toString('base64url').slice(0, 8));
  });
});

describe('asymmetric key strength and type', () => {
  for (const alg of ['RS256', 'PS256'] as const) {
    it(`a 1024-bit RSA key is refused for ${alg} with a TypeError (PEM, KeyObject and JWK)`, () => {
      const pem = rsa1024.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      expectTypeError(() => importKey(pem, { alg }));
      expectTypeError(() => importKey(rsa1024.privateKey, { alg }));
      expectTypeError(() => importJwk(rsa1024.publicKey.export({ format: 'jwk' }), { alg }));
    });

    it(`generating a 1024-bit ${alg} key is refused with a TypeError naming modulusLength`, async () => {
      await expect(generateKey(alg, { modulusLength: 1024 })).rejects.toThrow(TypeError);
      await expect(generateKey(alg, { modulusLength: 1024 })).rejects.toThrow(/modulusLength/);
    });
  }

  for (const alg of ['RS256', 'PS256'] as const) {
    it(`${alg}: a key with a 2052-bit modulus (not a whole number of bytes) verifies its own tokens`, () => {
      const key = importKey(rsa2052.privateKey, { alg });
      const { token } = signAccessToken({ sub: 'u' }, key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        clock: frozenClock(),
      });
      expect(verifierFor(key).verify(token).sub).toBe('u');
    });
  }

  it('an EC P-384 key is refused for ES256 with a TypeError (PEM, KeyObject and JWK)', () => {
    expectTypeError(() =>
      importKey(p384.publicKey.export({ type: 'spki', format: 'pem' }) as string, { alg: 'ES256' }),
    );
    expectTypeError(() => importKey(p384.privateKey, { alg: 'ES256' }));
    expectTypeError(() => importJwk(p384.publicKey.export({ format: 'jwk' }), { alg: 'ES256' }));
  });

  it('a P-384 JWK without alg is refused with a TypeError (no implied ES256)', () => {
    expectTypeError(() => importJwk(p384.publicKey.export({ format: 'jwk' })));
  });

  it('a secp256k1 key is refused for ES256 with a TypeError', () => {
    expectTypeError(() => importKey(secp256k1.publicKey, { alg: 'ES256' }));
  });

  it('an Ed448 key is refused for EdDSA with a TypeError', () => {
    expectTypeError(() => importKey(ed448.publicKey, { alg: 'EdDSA' }));
  });

  const mismatches: [string, () => KeyObject, Algorithm][] = [
    ['a P-256 key for EdDSA', () => keyFor('ES256').verifyKey, 'EdDSA'],
    ['an Ed25519 key for ES256', () => keyFor('EdDSA').verifyKey, 'ES256'],
    ['an RSA key for ES256', () => keyFor('RS256').verifyKey, 'ES256'],
    ['a P-256 key for RS256', () => keyFor('ES256').verifyKey, 'RS256'],
    ['an Ed25519 key for PS256', () => keyFor('EdDSA').verifyKey, 'PS256'],
  ];
  for (const [name, material, alg] of mismatches) {
    it(`${name} is refused with a TypeError`, () => {
      expectTypeError(() => importKey(material(), { alg }));
      expectTypeError(() => importJwk(material().export({ format: 'jwk' }), { alg }));
    });
  }

  it('an asymmetric algorithm with raw bytes is refused with a TypeError', () => {
    expectTypeError(() => importKey(randomBytes(64), { alg: 'ES256' }));
  });

  it('an unknown or missing algorithm is refused with a TypeError', () => {
    for (const alg of ['none', 'RS512', 'HS512', 'es256', '', undefined]) {
      expectTypeError(() => importKey(keyFor('ES256').verifyKey, { alg: alg as Algorithm }));
    }
  });

  it('a PEM string that is not a key is refused with a TypeError', () => {
    expectTypeError(() => importKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', { alg: 'ES256' }));
  });
});

describe('JWK import rules', () => {
  it('a JWK whose alg disagrees with options.alg is refused with a TypeError', () => {
    expectTypeError(() => importJwk(exportPublicJwk(keyFor('RS256')), { alg: 'PS256' }));
  });

  it('a JWK with use "enc" is refused with a TypeError', () => {
    expectTypeError(() => importJwk({ ...exportPublicJwk(keyFor('ES256')), use: 'enc' }));
  });

  it('a JWK with key_ops other than sign/verify is refused with a TypeError', () => {
    expectTypeError(() => importJwk({ ...exportPublicJwk(keyFor('ES256')), key_ops: ['encrypt'] }));
  });

  it('an RSA JWK labelled HS256 is refused with a TypeError', () => {
    expectTypeError(() => importJwk({ ...keyFor('RS256').verifyKey.export({ format: 'jwk' }), alg: 'HS256' }));
  });

  it('an RSA JWK without alg is refused with a TypeError (RSA does not imply an algorithm)', () => {
    expectTypeError(() => importJwk(keyFor('RS256').verifyKey.export({ format: 'jwk' })));
  });

  it('a JWK that is not an object is refused with a TypeError', () => {
    for (const value of [null, 'jwk', 1, []]) expectTypeError(() => importJwk(value as never));
  });

  it('a private JWK round-trips: the imported key signs tokens the original verifies', () => {
    const original = keyFor('ES256');
    const imported = importJwk(exportPrivateJwk(original));
    expect(imported.canSign).toBe(true);
    expect(imported.kid).toBe(original.kid);
    const { token } = signAccessToken({ sub: 'u' }, imported, {
      issuer: ISSUER,
      audience: AUDIENCE,
      clock: frozenClock(),
    });
    expect(verifierFor(original).verify(token).sub).toBe('u');
  });

  it('a public-only key cannot sign (TypeError)', () => {
    const publicOnly = importJwk(exportPublicJwk(keyFor('EdDSA')));
    expect(publicOnly.canSign).toBe(false);
    expectTypeError(() =>
      signAccessToken({ sub: 'u' }, publicOnly, { issuer: ISSUER, audience: AUDIENCE, clock: frozenClock() }),
    );
  });
});

describe('a key verifies only its own algorithm', () => {
  it('for every pair of algorithms, a token of alg B under the kid of an alg A key is rejected with ERR_ALG_NOT_ALLOWED', () => {
    for (const a of ALGORITHMS) {
      for (const b of ALGORITHMS) {
        if (a === b) continue;
        const keyA = keyFor(a);
        const keyB = keyFor(b);
        const token = forge(keyB, { header: defaultHeader(keyB, { kid: keyA.kid }) });
        const error = thrownBy(() => verifierFor(keyA).verify(token));
        expect(error, `${b} token under ${a} key`).toMatchObject({ name: 'AuthError', code: 'ERR_ALG_NOT_ALLOWED' });
      }
    }
  });

  for (const alg of ALGORITHMS) {
    it(`${alg}: a key verifies its own token`, () => {
      expect(verifierFor(keyFor(alg)).verify(forge(keyFor(alg))).sub).toBe('user-1');
    });
  }

  it('the same RSA key registered as RS256 does not verify a PS256 signature relabelled RS256', () => {
    const rs = keyFor('RS256');
    const ps = keyFor('PS256');
    const headerSegment = Buffer.from(JSON.stringify(defaultHeader(rs))).toString('base64url');
    const token = forge(ps, { headerSegment });
    expectAuthError(() => verifierFor(rs).verify(token), 'ERR_SIGNATURE_INVALID');
  });
});

describe('public JWK export and JWKS', () => {
  it('createJwks refuses an HS256 key with a TypeError', () => {
    expectTypeError(() => createJwks([keyFor('ES256'), keyFor('HS256')]));
    expectTypeError(() => exportPublicJwk(keyFor('HS256')));
  });

  for (const alg of ASYMMETRIC) {
    it(`exportPublicJwk of a signing ${alg} key has no private members and carries kid, alg and use`, () => {
      const key = keyFor(alg);
      expect(key.canSign).toBe(true);
      const jwk = exportPublicJwk(key) as unknown as Record<string, unknown>;
      for (const member of PRIVATE_MEMBERS) expect(jwk, member).not.toHaveProperty(member);
      expect(jwk).toMatchObject({ kid: key.kid, alg, use: 'sig' });
      const jwks = JSON.stringify(createJwks([key]));
      for (const member of PRIVATE_MEMBERS) expect(jwks).not.toContain(`"${member}":`);
    });

    it(`the default ${alg} kid is the RFC 7638 thumbprint computed by jose`, async () => {
      const key = keyFor(alg);
      const expected = await jose.calculateJwkThumbprint(key.verifyKey.export({ format: 'jwk' }) as jose.JWK);
      expect(key.kid).toBe(expected);
      expect(computeJwkThumbprint(key.verifyKey)).toBe(expected);
      const pem = key.verifyKey.export({ type: 'spki', format: 'pem' }) as string;
      expect(importKey(pem, { alg }).kid).toBe(expected);
    });
  }

  it('a JWK kid is kept on import and options.kid overrides it', () => {
    const jwk = exportPublicJwk(keyFor('ES256'));
    expect(importJwk({ ...jwk, kid: 'from-jwk' }).kid).toBe('from-jwk');
    expect(importJwk({ ...jwk, kid: 'from-jwk' }, { kid: 'from-options' }).kid).toBe('from-options');
  });

  it('an invalid kid (space, 129 characters, non-ASCII) is refused at import with a TypeError', () => {
    for (const kid of ['has space', 'k'.repeat(129), 'ключ', '']) {
      expectTypeError(() => importKey(randomBytes(32), { alg: 'HS256', kid }));
    }
  });

  it('TesseraKey JSON shows no key material', () => {
    const json = JSON.stringify(keyFor('RS256'));
    expect(JSON.parse(json)).toEqual({ kid: keyFor('RS256').kid, alg: 'RS256', use: 'sig', canSign: true });
    expect(JSON.stringify(keyFor('HS256'))).not.toContain('"k"');
  });

  it('a TesseraKey is frozen', () => {
    expect(Object.isFrozen(keyFor('ES256'))).toBe(true);
  });
});

describe('importJwks', () => {
  it('imports the usable public keys and skips private, oct, enc, weak, unknown and duplicate keys with reasons', () => {
    const es = exportPublicJwk(keyFor('ES256'));
    const ed = exportPublicJwk(keyFor('EdDSA'));
    const jwks = {
      keys: [
        { ...es, kid: 'good-es' },
        { ...ed, kid: 'good-ed' },
        { ...exportPrivateJwk(keyFor('ES256')), kid: 'private-es' },
        { kty: 'oct', k: randomBytes(32).toString('base64url'), alg: 'HS256', kid: 'secret-oct' },
        { ...es, kid: 'enc-es', use: 'enc' },
        { ...rsa1024.publicKey.export({ format: 'jwk' }), alg: 'RS256', kid: 'weak-rsa' },
        { ...p384.publicKey.export({ format: 'jwk' }), alg: 'ES384', kid: 'p384' },
        { ...es, kid: 'good-es' },
        null,
        'not a key',
      ],
    };
    const { keySet, skipped } = importJwks(jwks);
    expect(keySet.keys.map((k) => k.kid).sort()).toEqual(['good-ed', 'good-es']);
    expect(skipped.map((s) => s.kid)).toEqual([
      'private-es',
      'secret-oct',
      'enc-es',
      'weak-rsa',
      'p384',
      'good-es',
      undefined,
      undefined,
    ]);
    for (const entry of skipped) expect(entry.reason.length).toBeGreaterThan(0);
    for (const key of keySet.keys) expect(key.canSign).toBe(false);
  });

  it('a JWKS that is not an object with a keys array is refused with a TypeError', () => {
    for (const value of [null, [], {}, { keys: 'x' }, 'jwks']) expectTypeError(() => importJwks(value));
  });

  it('a JWKS made by createJwks imports back to keys that verify the original tokens', () => {
    const all = ASYMMETRIC.map(keyFor).filter((k) => k.alg !== 'PS256');
    const { keySet, skipped } = importJwks(JSON.parse(JSON.stringify(createJwks(all))));
    expect(skipped).toEqual([]);
    for (const key of all) expect(verifierFor(keySet).verify(forge(key)).sub).toBe('user-1');
  });
});

describe('KeySet', () => {
  it('a KeySet with two keys of the same kid is refused with a TypeError', async () => {
    const a = await generateKey('ES256', { kid: 'same' });
    const b = await generateKey('EdDSA', { kid: 'same' });
    expectTypeError(() => createKeySet([a, b]));
    expectTypeError(() => new KeySet([a, a]));
  });

  it('a KeySet accepts only TesseraKey values (TypeError otherwise)', () => {
    expectTypeError(() => createKeySet([keyFor('ES256').verifyKey as unknown as TesseraKey]));
    expectTypeError(() => createKeySet([exportPublicJwk(keyFor('ES256')) as unknown as TesseraKey]));
  });

  it('a KeySet is immutable: its keys array is frozen', () => {
    const set = createKeySet([keyFor('ES256')]);
    expect(Object.isFrozen(set.keys)).toBe(true);
    expect(set.size).toBe(1);
  });

  it('onlyKeyFor returns the single key of an alg and undefined when there are none or several', async () => {
    const other = await generateKey('ES256');
    expect(createKeySet([keyFor('ES256'), keyFor('EdDSA')]).onlyKeyFor('ES256')).toBe(keyFor('ES256'));
    expect(createKeySet([keyFor('ES256'), other]).onlyKeyFor('ES256')).toBeUndefined();
    expect(createKeySet([keyFor('EdDSA')]).onlyKeyFor('ES256')).toBeUndefined();
  });
});
