/**
 * Row-to-record mapping shared by the SQL store adapters: both use the same snake_case columns
 * (see the SQLite and PostgreSQL migrations), with times as whole seconds that arrive as JS
 * numbers. Audit rows differ (`data` is JSON text in SQLite, JSONB in PostgreSQL) and stay with
 * each adapter.
 */

import type {
  ClientRecord,
  NewAuditEvent,
  RefreshContext,
  RevocationEvent,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from './contracts.js';

export type Row = Record<string, unknown>;

export const nullable = <T>(value: unknown): T | null => (value ?? null) as T | null;

export function toUser(r: Row): UserRecord {
  return {
    id: r.id as string,
    email: r.email as string,
    passwordHash: r.password_hash as string,
    status: r.status as UserRecord['status'],
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
    tokensValidAfter: r.tokens_valid_after as number,
  };
}

export function toSession(r: Row): SessionRecord {
  return {
    id: r.id as string,
    userId: r.user_id as string,
    clientId: r.client_id as string,
    scope: r.scope as string,
    authTime: r.auth_time as number,
    createdAt: r.created_at as number,
    lastUsedAt: r.last_used_at as number,
    idleExpiresAt: r.idle_expires_at as number,
    absoluteExpiresAt: r.absolute_expires_at as number,
    revokedAt: nullable<number>(r.revoked_at),
    revokedReason: nullable<string>(r.revoked_reason),
    userAgent: nullable<string>(r.user_agent),
    ip: nullable<string>(r.ip),
  };
}

/** A session row joined with `token_rotated_at` and `user_status` (null when no such user). */
export function toRefreshContext(r: Row): RefreshContext {
  return {
    session: toSession(r),
    userStatus: nullable<UserRecord['status']>(r.user_status),
    rotatedAt: nullable<number>(r.token_rotated_at),
  };
}

/**
 * An audit event as the seven values of an `audit_events` insert, in column order: at, type,
 * user_id, session_id, ip, user_agent, data (JSON text).
 */
export function auditValues(event: NewAuditEvent): unknown[] {
  return [event.at, event.type, event.userId, event.sessionId, event.ip, event.userAgent, JSON.stringify(event.data)];
}

export function toSigningKey(r: Row): SigningKeyRecord {
  return {
    kid: r.kid as string,
    alg: r.alg as string,
    state: r.state as SigningKeyRecord['state'],
    privateJwkEncrypted: r.private_jwk_encrypted as string,
    publicJwk: r.public_jwk as string,
    createdAt: r.created_at as number,
    activatedAt: nullable<number>(r.activated_at),
    retiredAt: nullable<number>(r.retired_at),
    expiresAt: nullable<number>(r.expires_at),
  };
}

export function toClient(r: Row): ClientRecord {
  return {
    id: r.id as string,
    name: r.name as string,
    secretHash: r.secret_hash as string,
    createdAt: r.created_at as number,
    scopes: r.scopes as string,
  };
}

export function toRevocation(r: Row): RevocationEvent {
  return {
    id: r.id as number,
    kind: r.kind as RevocationEvent['kind'],
    value: r.value as string,
    at: r.at as number,
    expiresAt: r.expires_at as number,
  };
}
