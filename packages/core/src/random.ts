/**
 * Pooled CSPRNG bytes for the hot path. `crypto.randomBytes` enters OpenSSL's generator once
 * per call; a token endpoint needs three or four small values per request (refresh token, `jti`,
 * ids, IVs). Drawing 4 KiB at a time and handing out each byte exactly once keeps the same
 * generator and the same guarantees at a fraction of the cost. A used pool is replaced, never
 * refilled in place, so a returned view never changes.
 */

import { randomBytes } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/** `n` fresh random bytes (a view into the current pool for small `n`). */
export function takeRandomBytes(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0) throw new TypeError('n must be a non-negative integer');
  if (n > 256) return randomBytes(n);
  if (offset + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}
