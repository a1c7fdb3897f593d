/**
 * Password policy and hashing. argon2id via @node-rs/argon2, whose hash and verify run on
 * libuv's threadpool, off the event loop. Unknown accounts are checked against a dummy hash made
 * with the same parameters so that they cost exactly as much as a wrong password.
 */

import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { AuthError } from '@tessera/core';
import type { Argon2Config } from '../config.js';
import { COMMON_PASSWORDS } from './common-passwords.js';

/** Password length bounds, in characters (NIST SP 800-63B: at least 8, allow long passphrases). */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

/** Throws `ERR_PASSWORD_POLICY` with a reason a user can act on. */
export function checkPasswordPolicy(password: string, email?: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new AuthError('ERR_PASSWORD_POLICY', {
      detail: `length must be ${PASSWORD_MIN_LENGTH}-${PASSWORD_MAX_LENGTH} characters`,
    });
  }
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) throw new AuthError('ERR_PASSWORD_POLICY', { detail: 'too common' });
  if (email !== undefined && (lower === email || lower === email.split('@')[0])) {
    throw new AuthError('ERR_PASSWORD_POLICY', { detail: 'must not be the email address' });
  }
}

/** `Algorithm.Argon2id` (a const enum, which isolated modules cannot read). */
const ARGON2ID = 2 as Algorithm;

export class PasswordHasher {
  readonly #options: { algorithm: Algorithm; memoryCost: number; timeCost: number; parallelism: number };
  #dummy: Promise<string> | undefined;

  constructor(config: Argon2Config) {
    this.#options = {
      algorithm: ARGON2ID,
      memoryCost: config.memoryCostKiB,
      timeCost: config.timeCost,
      parallelism: config.parallelism,
    };
  }

  hash(password: string): Promise<string> {
    return hash(password, this.#options);
  }

  /** Verifies; a malformed stored hash counts as a mismatch, never a crash. */
  async verify(storedHash: string, password: string): Promise<boolean> {
    try {
      return await verify(storedHash, password);
    } catch {
      return false;
    }
  }

  /** Burns the same work as a real verification, for unknown accounts. Always false. */
  async verifyDummy(password: string): Promise<false> {
    this.#dummy ??= this.hash('tessera-dummy-password-for-timing-equalisation');
    await this.verify(await this.#dummy, password);
    return false;
  }

  /** Prepares the dummy hash at start so the first unknown-email login is not faster. */
  async warmUp(): Promise<void> {
    this.#dummy ??= this.hash('tessera-dummy-password-for-timing-equalisation');
    await this.#dummy;
  }
}
