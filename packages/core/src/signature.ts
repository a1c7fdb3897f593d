/**
 * Signature primitives over `node:crypto` KeyObjects: the measured hot path. Every signature is
 * checked for its exact length first, and ECDSA signatures for the IEEE P1363 form with
 * `0 < r, s < n` (RFC 7518 section 3.4; the 2022 "psychic signatures" bug accepted r = s = 0).
 */

import { createHmac, sign, timingSafeEqual, verify } from 'node:crypto';
import type { TesseraKey } from './keys.js';

/** Order of the P-256 group. */
const P256_N = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
const ZERO32 = Buffer.alloc(32);

export function createSignature(key: TesseraKey, signingInput: Buffer): Buffer {
  const signKey = key.signKey;
  if (signKey === undefined) throw new TypeError(`key ${key.kid} cannot sign: it has no private part`);
  if (key.alg === 'HS256') return createHmac('sha256', signKey).update(signingInput).digest();
  if (key.alg === 'ES256') return sign('sha256', signingInput, { key: signKey, dsaEncoding: 'ieee-p1363' });
  if (key.alg === 'PS256') return sign('sha256', signingInput, { key: signKey, padding: 6, saltLength: 32 });
  return sign(key.digest, signingInput, signKey);
}

/** Structural checks that need no crypto. */
export function isPlausibleSignature(key: TesseraKey, signature: Buffer): boolean {
  if (signature.length !== key.signatureLength) return false;
  if (key.alg === 'ES256') return isValidScalar(signature.subarray(0, 32)) && isValidScalar(signature.subarray(32));
  return true;
}

function isValidScalar(x: Buffer): boolean {
  return !x.equals(ZERO32) && Buffer.compare(x, P256_N) < 0;
}

export function checkSignature(key: TesseraKey, signingInput: Buffer, signature: Buffer): boolean {
  if (!isPlausibleSignature(key, signature)) return false;
  if (key.alg === 'HS256') {
    return timingSafeEqual(createHmac('sha256', key.verifyKey).update(signingInput).digest(), signature);
  }
  return verify(key.digest, signingInput, key.verifyInput, signature);
}

/** The same check on libuv's threadpool, so several verifications use several cores. */
export function checkSignatureAsync(key: TesseraKey, signingInput: Buffer, signature: Buffer): Promise<boolean> {
  if (!isPlausibleSignature(key, signature)) return Promise.resolve(false);
  if (key.alg === 'HS256') return Promise.resolve(checkSignature(key, signingInput, signature));
  return new Promise((resolve, reject) => {
    verify(key.digest, signingInput, key.verifyInput, signature, (error, ok) => {
      if (error) reject(error);
      else resolve(ok);
    });
  });
}
