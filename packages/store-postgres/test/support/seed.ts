/** Small record builders for the PostgreSQL-specific tests (the conformance suite has its own). */

import { createHash } from 'node:crypto';
import type { RotateInput, SessionRecord, UserRecord } from '@tessera/server/contracts';
import type { PostgresStore } from '@tessera/store-postgres';

export const T0 = 1_900_000_000;

export function sha256Hex(label: string): string {
  return createHash('sha256').update(`tessera pg ${label}`).digest('hex');
}

export function userRecord(id: string): UserRecord {
  return {
    id,
    email: `${id}@example.test`,
    passwordHash: `$argon2id$v=19$m=8192,t=1,p=1$${id}`,
    status: 'active',
    createdAt: T0,
    updatedAt: T0,
    tokensValidAfter: 0,
  };
}

export function sessionRecord(id: string, userId: string): SessionRecord {
  return {
    id,
    userId,
    clientId: 'web',
    scope: 'openid',
    authTime: T0,
    createdAt: T0,
    lastUsedAt: T0,
    idleExpiresAt: T0 + 1800,
    absoluteExpiresAt: T0 + 30 * 86_400,
    revokedAt: null,
    revokedReason: null,
    userAgent: null,
    ip: null,
  };
}

/** A user with one session; returns the first refresh token's hash. */
export async function seedSession(store: PostgresStore, id: string): Promise<string> {
  await store.createUser(userRecord('u-1'));
  const hash = sha256Hex(`first ${id}`);
  await store.createSession(sessionRecord(id, 'u-1'), { hash, expiresAt: T0 + 1800 });
  return hash;
}

export function rotateInput(presentedHash: string, label: string, overrides: Partial<RotateInput> = {}): RotateInput {
  const next = { hash: sha256Hex(`next ${label}`), expiresAt: T0 + 1800 };
  return {
    presentedHash,
    next,
    graceResponse: `sealed-grant-${label}`,
    now: T0 + 60,
    graceSec: 10,
    idleSec: 1800,
    ip: '203.0.113.10',
    userAgent: `agent ${label}`,
    ...overrides,
  };
}
