/**
 * Records and helpers shared by the conformance suites. Times are whole seconds around a fixed
 * epoch `T0`; nothing reads the real clock. Hashes look like the real thing (SHA-256 hex) so an
 * adapter that validates or sizes its columns for them is exercised honestly.
 */

import { createHash } from 'node:crypto';
import type {
  NewRefreshToken,
  RevocationEvent,
  RotateInput,
  RotationOutcome,
  RotationResult,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from '@tessera/server/contracts';
import { expect } from 'vitest';

/** A fixed instant (2030-03-17) every test counts from. */
export const T0 = 1_900_000_000;
export const MINUTE = 60;
export const HOUR = 3600;
export const DAY = 86_400;

/** SHA-256 hex of a label: a stand-in for the hash of a refresh token. */
export function sha256Hex(label: string): string {
  return createHash('sha256').update(`tessera conformance ${label}`).digest('hex');
}

export function userRecord(id: string, overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id,
    email: `${id}@example.test`,
    passwordHash: `$argon2id$v=19$m=8192,t=1,p=1$${id}`,
    status: 'active',
    createdAt: T0,
    updatedAt: T0,
    tokensValidAfter: 0,
    ...overrides,
  };
}

export function sessionRecord(id: string, userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const createdAt = overrides.createdAt ?? T0;
  return {
    id,
    userId,
    clientId: 'web',
    scope: 'openid profile',
    authTime: createdAt,
    createdAt,
    lastUsedAt: createdAt,
    idleExpiresAt: createdAt + 30 * MINUTE,
    absoluteExpiresAt: createdAt + 30 * DAY,
    revokedAt: null,
    revokedReason: null,
    userAgent: 'Mozilla/5.0 (conformance)',
    ip: '198.51.100.1',
    ...overrides,
  };
}

export function signingKeyRecord(kid: string, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid,
    alg: 'ES256',
    state: 'next',
    privateJwkEncrypted: `envelope.${kid}.ciphertext`,
    publicJwk: JSON.stringify({ kty: 'EC', crv: 'P-256', kid, x: 'x', y: 'y' }),
    createdAt: T0,
    activatedAt: null,
    retiredAt: null,
    expiresAt: null,
    ...overrides,
  };
}

export function revocation(
  value: string,
  overrides: Partial<Omit<RevocationEvent, 'id'>> = {},
): Omit<RevocationEvent, 'id'> {
  return { kind: 'sid', value, at: T0, expiresAt: T0 + HOUR, ...overrides };
}

let successorCounter = 0;

/** A fresh successor token (unique hash) expiring `ttlSec` after `now`. */
export function successor(now: number, ttlSec = 30 * MINUTE): NewRefreshToken {
  successorCounter += 1;
  return { hash: sha256Hex(`successor ${successorCounter}`), expiresAt: now + ttlSec };
}

/** A rotation attempt with realistic defaults: 10 s grace, 30 min idle life. */
export function rotateInput(presentedHash: string, now: number, overrides: Partial<RotateInput> = {}): RotateInput {
  const next = overrides.next ?? successor(now);
  return {
    presentedHash,
    next,
    graceResponse: `sealed-grant-for-${next.hash}`,
    now,
    graceSec: 10,
    idleSec: 30 * MINUTE,
    ip: '203.0.113.10',
    userAgent: 'Mozilla/5.0 (first)',
    ...overrides,
  };
}

/** Asserts the outcome and narrows the result to it. */
export function expectOutcome<O extends RotationOutcome>(
  result: RotationResult,
  outcome: O,
): Extract<RotationResult, { outcome: O }> {
  expect(result.outcome).toBe(outcome);
  if (result.outcome !== outcome) throw new Error(`expected ${outcome}, got ${result.outcome}`);
  return result as Extract<RotationResult, { outcome: O }>;
}

/** `array[index]`, failing the test instead of yielding undefined. */
export function at<T>(array: readonly T[], index: number): T {
  const value = array[index];
  if (value === undefined) throw new Error(`no element at index ${index} (length ${array.length})`);
  return value;
}

export function ids(records: readonly { id: string }[]): string[] {
  return records.map((r) => r.id).sort();
}
