import { sign } from 'node:crypto';
import { ALGORITHMS, type Algorithm, createKeySet, generateKey, type TesseraKey } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  b64json,
  expectAuthError,
  expectAuthErrorAsync,
  forge,
  splitSegments,
  validClaims,
  verifierFor,
} from './support/helpers.js';

/** Order of the P-256 group. */
const P256_N = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
/** Order of the Ed25519 group, little-endian. */
const ED25519_L = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

const keys = new Map<Algorithm, TesseraKey>();
const impostors = new Map<Algorithm, TesseraKey>();

beforeAll(async () => {
  await Promise.all(
    ALGORITHMS.map(async (alg) => {
      const [key, impostor] = await Promise.all([
        generateKey(alg, { kid: `${alg}-kid` }),
        generateKey(alg, { kid: `${alg}-kid` }),
      ]);
      keys.set(alg, key);
      impostors.set(alg, impostor);
    }),
  );
});

function keyFor(alg: Algorithm): TesseraKey {
  const key = keys.get(alg);
  if (key === undefined) throw new Error(`no key for ${alg}`);
  return key;
}

function withSignature(token: string, signature: Buffer): string {
  const [h, p] = splitSegments(token);
  return `${h}.${p}.${signature.toString('base64url')}`;
}

function signatureOf(token: string): Buffer {
  return Buffer.from(splitSegments(token)[2], 'base64url');
}

async function expectBoth(key: TesseraKey, token: string, code: 'ERR_SIGNATURE_INVALID'): Promise<void> {
  const verifier = verifierFor(createKeySet([key]));
  expectAuthError(() => verifier.verify(token), code);
  await expectAuthErrorAsync(() => verifier.verifyAsync(token), code);
}

const SIGNATURE_BYTES: Record<Algorithm, number> = { HS256: 32, ES256: 64, EdDSA: 64, RS256: 256, PS256: 256 };

describe('signatures of the wrong length', () => {
  for (const alg of ALGORITHMS) {
    it(`${alg}: a signature one byte short is rejected with ERR_SIGNATURE_INVALID`, async () => {
      const key = keyFor(alg);
      const token = forge(key);
      expect(signatureOf(token).length).toBe(SIGNATURE_BYTES[alg]);
      await expectBoth(key, withSignature(token, signatureOf(token).subarray(1)), 'ERR_SIGNATURE_INVALID');
    });

    it(`${alg}: a signature with one extra trailing byte is rejected with ERR_SIGNATURE_INVALID`, async () => {
      const key = keyFor(alg);
      const token = forge(key);
      await expectBoth(
        key,
        withSignature(token, Buffer.concat([signatureOf(token), Buffer.from([0])])),
        'ERR_SIGNATURE_INVALID',
      );
    });

    it(`${alg}: a signature of a single byte is rejected with ERR_SIGNATURE_INVALID`, async () => {
      const key = keyFor(alg);
      await expectBoth(key, withSignature(forge(key), Buffer.from([1])), 'ERR_SIGNATURE_INVALID');
    });

    it(`${alg}: a signature of double length (the signature twice) is rejected with ERR_SIGNATURE_INVALID`, async () => {
      const key = keyFor(alg);
      const token = forge(key);
      await expectBoth(
        key,
        withSignature(token, Buffer.concat([signatureOf(token), signatureOf(token)])),
        'ERR_SIGNATURE_INVALID',
      );
    });
  }
});

describe('tampering and substitution', () => {
  for (const alg of ALGORITHMS) {
    it(`${alg}: a token with a tampered payload (sub changed) is rejected with ERR_SIGNATURE_INVALID`, async () => {
      const key = keyFor(alg);
      const [h, , s] = splitSegments(forge(key));
      await expectBoth(key, `${h}.${b64json(validClaims({ sub: 'admin' }))}.${s}`, 'ERR_SIGNATURE_INVALID');
    });

    it(`${alg}: a token with a tampered payload (exp extended) is rejected with ERR_SIGNATURE_INVALID`, async () => {
      const key = keyFor(alg);
      const [h, , s] = splitSegments(forge(key));
      await expectBoth(key, `${h}.${b64json(validClaims({ exp: 9_999_999_999 }))}.${s}`, 'ERR_SIGNATURE_INVALID');
    });

    it(`${alg}: a token with a re-spelled header (same members, other order) is rejected with ERR_SIGNATURE_INVALID`, async () => {
      const key = keyFor(alg);
      const [, p, s] = splitSegments(forge(key));
      const header = b64json({ kid: key.kid, typ: 'at+jwt', alg: key.alg });
      await expectBoth(key, `${header}.${p}.${s}`, 'ERR_SIGNATURE_INVALID');
    });

    it(`${alg}: a token signed by a different key with the same kid is rejected with ERR_SIGNATURE_INVALID`, async () => {
      const impostor = impostors.get(alg) as TesseraKey;
      const key = keyFor(alg);
      expect(impostor.kid).toBe(key.kid);
      await expectBoth(key, forge(impostor), 'ERR_SIGNATURE_INVALID');
    });

    it(`${alg}: a token with every signature bit flipped in its last byte is rejected with ERR_SIGNATURE_INVALID`, async () => {
      const key = keyFor(alg);
      const token = forge(key);
      const sig = signatureOf(token);
      sig[sig.length - 1] = (sig[sig.length - 1] as number) ^ 0xff;
      await expectBoth(key, withSignature(token, sig), 'ERR_SIGNATURE_INVALID');
    });

    it(`${alg}: a signature of all zero bytes of the right length is rejected with ERR_SIGNATURE_INVALID`, async () => {
      const key = keyFor(alg);
      await expectBoth(key, withSignature(forge(key), Buffer.alloc(SIGNATURE_BYTES[alg])), 'ERR_SIGNATURE_INVALID');
    });

    it(`${alg}: a signature of all 0xff bytes of the right length is rejected with ERR_SIGNATURE_INVALID`, async () => {
      const key = keyFor(alg);
      await expectBoth(
        key,
        withSignature(forge(key), Buffer.alloc(SIGNATURE_BYTES[alg], 0xff)),
        'ERR_SIGNATURE_INVALID',
      );
    });
  }

  it('a signature copied from another valid token of the same key is rejected with ERR_SIGNATURE_INVALID', async () => {
    const key = keyFor('ES256');
    const other = forge(key, { payload: validClaims({ sub: 'other' }) });
    await expectBoth(key, withSignature(forge(key), signatureOf(other)), 'ERR_SIGNATURE_INVALID');
  });
});

describe('ECDSA (ES256) signature form', () => {
  const es = () => keyFor('ES256');

  it('a DER-encoded ECDSA signature over the right input is rejected with ERR_SIGNATURE_INVALID', async () => {
    const token = forge(es());
    const [h, p] = splitSegments(token);
    const signKey = es().signKey;
    if (signKey === undefined) throw new Error('no private key');
    const der = sign('sha256', Buffer.from(`${h}.${p}`), signKey);
    expect(der[0]).toBe(0x30);
    await expectBoth(es(), withSignature(token, der), 'ERR_SIGNATURE_INVALID');
  });

  it('the P1363 signature of the same input verifies (control for the DER case)', () => {
    const token = forge(es());
    const [h, p] = splitSegments(token);
    const signKey = es().signKey;
    if (signKey === undefined) throw new Error('no private key');
    const p1363 = sign('sha256', Buffer.from(`${h}.${p}`), { key: signKey, dsaEncoding: 'ieee-p1363' });
    expect(verifierFor(es()).verify(withSignature(token, p1363)).sub).toBe('user-1');
  });

  it('r = s = 0 (psychic signature) is rejected with ERR_SIGNATURE_INVALID', async () => {
    await expectBoth(es(), withSignature(forge(es()), Buffer.alloc(64)), 'ERR_SIGNATURE_INVALID');
  });

  function withRS(r: Buffer | undefined, s: Buffer | undefined): string {
    const token = forge(es());
    const sig = signatureOf(token);
    return withSignature(token, Buffer.concat([r ?? sig.subarray(0, 32), s ?? sig.subarray(32)]));
  }

  const scalars: [string, Buffer][] = [
    ['0', Buffer.alloc(32)],
    ['n (the P-256 order)', P256_N],
    ['n + 1', Buffer.from(P256_N).fill(0x52, 31)],
    ['2^256 - 1', Buffer.alloc(32, 0xff)],
  ];
  for (const [name, value] of scalars) {
    it(`r = ${name} with a genuine s is rejected with ERR_SIGNATURE_INVALID`, async () => {
      await expectBoth(es(), withRS(value, undefined), 'ERR_SIGNATURE_INVALID');
    });

    it(`s = ${name} with a genuine r is rejected with ERR_SIGNATURE_INVALID`, async () => {
      await expectBoth(es(), withRS(undefined, value), 'ERR_SIGNATURE_INVALID');
    });
  }

  it('r = s = n is rejected with ERR_SIGNATURE_INVALID', async () => {
    await expectBoth(es(), withRS(P256_N, P256_N), 'ERR_SIGNATURE_INVALID');
  });

  it('r and s swapped is rejected with ERR_SIGNATURE_INVALID', async () => {
    const token = forge(es());
    const sig = signatureOf(token);
    await expectBoth(
      es(),
      withSignature(token, Buffer.concat([sig.subarray(32), sig.subarray(0, 32)])),
      'ERR_SIGNATURE_INVALID',
    );
  });
});

describe('EdDSA signature form', () => {
  it('an Ed25519 signature with S + L (non-canonical S) is rejected with ERR_SIGNATURE_INVALID', async () => {
    const key = keyFor('EdDSA');
    const token = forge(key);
    const sig = signatureOf(token);
    // S is the little-endian second half; S + L < 2^253 always fits in 32 bytes.
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const sum = (sig[32 + i] as number) + (ED25519_L[i] as number) + carry;
      sig[32 + i] = sum & 0xff;
      carry = sum >> 8;
    }
    expect(carry).toBe(0);
    await expectBoth(key, withSignature(token, sig), 'ERR_SIGNATURE_INVALID');
  });

  it('an ES256 signature (same length) on an EdDSA token is rejected with ERR_SIGNATURE_INVALID', async () => {
    const ed = keyFor('EdDSA');
    const es = keyFor('ES256');
    const token = forge(ed);
    const [h, p] = splitSegments(token);
    const esSig = forge(es, { headerSegment: h, payloadSegment: p }).split('.')[2] as string;
    await expectBoth(ed, `${h}.${p}.${esSig}`, 'ERR_SIGNATURE_INVALID');
  });
});
