/**
 * The access token as the SDK holds it: the opaque value plus its expiry on the LOCAL clock.
 * The expiry comes from `expires_in` measured from when the request was sent, so a local clock
 * that is minutes off changes nothing; the server's `Date` header and the token's `exp` only ever
 * shorten it (a grace-window replay answers with the `expires_in` of a token minted seconds ago).
 */

import type { SessionInfo } from './types.js';

export interface AccessToken {
  readonly value: string;
  /** Milliseconds since the epoch, local clock. */
  readonly expiresAt: number;
  /** The lifetime the server granted (`expires_in`), milliseconds; bounds the refresh leeway. */
  readonly lifetimeMs: number;
  readonly scope: string;
  readonly sid?: string;
  readonly sub?: string;
}

/** The fields of RFC 6749 section 5.1 the SDK reads. */
export interface TokenBody {
  readonly accessToken: string;
  readonly expiresInSec: number;
  readonly scope: string;
}

/** How far the `Date`/`exp` estimate may shorten `expires_in`: more than a replay can explain means a wrong clock. */
const MAX_DATE_CORRECTION_MS = 30_000;
const MAX_TOKEN_LENGTH = 16_384;

export function parseTokenBody(body: unknown): TokenBody | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.access_token !== 'string' || b.access_token === '' || b.access_token.length > MAX_TOKEN_LENGTH)
    return undefined;
  if (!/^[\x21-\x7e]+$/.test(b.access_token)) return undefined;
  if (typeof b.token_type !== 'string' || b.token_type.toLowerCase() !== 'bearer') return undefined;
  if (typeof b.expires_in !== 'number' || !Number.isFinite(b.expires_in) || b.expires_in <= 0) return undefined;
  const scope = typeof b.scope === 'string' ? b.scope : '';
  return { accessToken: b.access_token, expiresInSec: b.expires_in, scope };
}

/** The unverified claims of a JWT, for display only (`sid`, `sub`, `exp`); undefined when not a JWT. */
export function readUnverifiedClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined || payload.length > MAX_TOKEN_LENGTH) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export interface ResponseTiming {
  /** Local clock when the request was sent, ms. */
  readonly sentAt: number;
  /** Local clock when the response arrived, ms. */
  readonly receivedAt: number;
  /** The response's `Date` header, when readable (cross-origin responses hide it unless exposed). */
  readonly date?: string | null;
}

export function createAccessToken(body: TokenBody, timing: ResponseTiming): AccessToken {
  const lifetimeMs = body.expiresInSec * 1000;
  let expiresAt = timing.sentAt + lifetimeMs;
  const claims = readUnverifiedClaims(body.accessToken);
  const serverDate = timing.date ? Date.parse(timing.date) : Number.NaN;
  if (typeof claims?.exp === 'number' && Number.isFinite(serverDate)) {
    // `Date` has whole-second resolution: the server's clock was somewhere in [date, date + 1 s).
    const byExp = timing.receivedAt + (claims.exp * 1000 - (serverDate + 1000));
    if (byExp < expiresAt && byExp >= expiresAt - MAX_DATE_CORRECTION_MS) expiresAt = byExp;
  }
  return withClaims({ value: body.accessToken, expiresAt, lifetimeMs, scope: body.scope }, claims);
}

/** Rebuilds a token received from another tab (memory mode). */
export function restoreAccessToken(value: string, expiresAt: number, lifetimeMs: number, scope: string): AccessToken {
  return withClaims({ value, expiresAt, lifetimeMs, scope }, readUnverifiedClaims(value));
}

function withClaims(token: AccessToken, claims: Record<string, unknown> | undefined): AccessToken {
  const sid = typeof claims?.sid === 'string' ? claims.sid : undefined;
  const sub = typeof claims?.sub === 'string' ? claims.sub : undefined;
  return { ...token, ...(sid === undefined ? {} : { sid }), ...(sub === undefined ? {} : { sub }) };
}

/** The local time at which to refresh: `leewaySec` before expiry, but never earlier than half the lifetime. */
export function refreshDueAt(token: AccessToken, leewaySec: number): number {
  return token.expiresAt - Math.min(leewaySec * 1000, token.lifetimeMs / 2);
}

export function describeSession(token: AccessToken): SessionInfo {
  return {
    expiresAt: token.expiresAt,
    scope: token.scope,
    ...(token.sid === undefined ? {} : { sid: token.sid }),
    ...(token.sub === undefined ? {} : { sub: token.sub }),
  };
}
