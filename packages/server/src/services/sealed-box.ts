/**
 * AES-256-GCM envelopes: `v1.<iv>.<ciphertext>.<tag>` (base64url). Used for private keys at rest
 * (under the master key, with the `kid` as associated data) and for grace-window replays
 * (under a key derived from the old refresh token, so only its holder can open one).
 */

import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { takeRandomBytes } from '@tessera/core';

export function seal(key: Uint8Array, plaintext: string, associatedData: string): string {
  const iv = takeRandomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1.${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

/** Returns undefined when the envelope is malformed, tampered or under another key. */
export function open(key: Uint8Array, envelope: string, associatedData: string): string | undefined {
  const parts = envelope.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[1] as string, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(parts[3] as string, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(parts[2] as string, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return undefined;
  }
}

/**
 * A 256-bit key derived from high-entropy input material: HMAC-SHA256 keyed by the purpose
 * label (HKDF's extract step with the label as salt). The inputs here are 256-bit random
 * tokens, so one HMAC is a sound KDF, and it costs a third of `hkdfSync` on the refresh path.
 */
export function deriveKey(inputKeyMaterial: string, info: string): Buffer {
  return createHmac('sha256', info).update(inputKeyMaterial, 'utf8').digest();
}
