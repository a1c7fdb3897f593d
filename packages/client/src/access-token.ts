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
  /** The token's own `exp` claim (server clock, seconds), when it is a JWT that has one. */
  readonly exp?: number;
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
/** The shortest `expires_in` accepted, seconds: anything shorter would have a tab refresh in a loop. */
export const MIN_EXPIRES_IN_SEC = 10;
/** The longest access-token lifetime a Tessera server grants (`accessTokenTtlSec` is at most 3600), ms. */
export const MAX_TOKEN_LIFETIME_MS = 3_600_000;
/** A shared token's local expiry may lie this far beyond `now + lifetime` (the tabs share one clock), ms. */
const SHARED_EXPIRY_ALLOWANCE_MS = 2_000;
/**
 * How far a shared token's clock offset (local expiry minus its `exp`) may differ from the current
 * token's: request latency plus the up-to-30 s `Date` correction either token may have had, ms.
 */
const SHARED_OFFSET_TOLERANCE_MS = 60_000;

export function parseTokenBody(body: unknown): TokenBody | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.access_token !== 'string' || b.access_token === '' || b.access_token.length > MAX_TOKEN_LENGTH)
    return undefined;
  if (!/^[\x21-\x7e]+$/.test(b.access_token)) return undefined;
  if (typeof b.token_type !== 'string' || b.token_type.toLowerCase() !== 'bearer') return undefined;
  if (!Number.isSafeInteger(b.expires_in) || (b.expires_in as number) < MIN_EXPIRES_IN_SEC) return undefined;
  const scope = typeof b.scope === 'string' ? b.scope : '';
  return { accessToken: b.access_token, expiresInSec: b.expires_in as number, scope };
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

/**
 * The claims of a compact JWT, strictly: three non-empty base64url segments and a payload that is
 * valid UTF-8 JSON of an object. Undefined for anything else. Unverified: the signature is the
 * API's business; this only tells whether a token is what it claims to be about itself.
 */
export function readStrictJwtClaims(token: string): Record<string, unknown> | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) return undefined;
  const payload = parts[1] as string;
  if (payload.length % 4 === 1) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A token another tab broadcast (memory mode), as received on the channel. */
export interface SharedToken {
  readonly token: string;
  readonly expiresAt: number;
  readonly lifetimeMs: number;
  readonly scope: string;
}

export interface SharedTokenContext {
  /** Local clock, ms. */
  readonly now: number;
  /** The configured issuer (`iss`, when the token has one, must be it). */
  readonly issuer: string;
  /** The token this client holds now, if any: a shared token must be about the same user. */
  readonly current?: AccessToken;
}

const isNumericDate = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;
const withoutTrailingSlash = (value: string) => value.replace(/\/+$/, '');

/**
 * A token broadcast by another tab, or undefined when it is not one this client could have got
 * from its own server. Any script on the origin can post on the channel, so nothing is taken on
 * trust: the lifetime is at most the server's maximum, the local expiry no later than a token
 * minted now would have, the token is a well-formed JWT whose own `exp - iat` covers the claimed
 * lifetime and whose `iss` (if any) is the issuer, and, when this client is signed in, it is
 * about the same `sub` and its `exp` sits where the current token's says the server clock is.
 */
export function acceptSharedToken(shared: SharedToken, context: SharedTokenContext): AccessToken | undefined {
  const { token, expiresAt, lifetimeMs, scope } = shared;
  const { now, current } = context;
  if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0 || lifetimeMs > MAX_TOKEN_LIFETIME_MS) return undefined;
  if (!Number.isFinite(expiresAt) || expiresAt <= now || expiresAt > now + lifetimeMs + SHARED_EXPIRY_ALLOWANCE_MS)
    return undefined;
  const claims = readStrictJwtClaims(token);
  if (claims === undefined) return undefined;
  const { exp, iat, sub, iss } = claims;
  if (!isNumericDate(exp) || !isNumericDate(iat) || exp <= iat) return undefined;
  const ownLifetimeMs = (exp - iat) * 1000;
  if (ownLifetimeMs > MAX_TOKEN_LIFETIME_MS || lifetimeMs > ownLifetimeMs + 1000) return undefined;
  if (typeof sub !== 'string' || sub.length === 0) return undefined;
  if (
    iss !== undefined &&
    (typeof iss !== 'string' || withoutTrailingSlash(iss) !== withoutTrailingSlash(context.issuer))
  )
    return undefined;
  if (current !== undefined) {
    if (current.sub !== sub) return undefined;
    if (current.exp !== undefined) {
      // Local expiry minus server exp is the local clock's offset from the server's: one machine, one offset.
      const offset = expiresAt - exp * 1000;
      const currentOffset = current.expiresAt - current.exp * 1000;
      if (Math.abs(offset - currentOffset) > SHARED_OFFSET_TOLERANCE_MS) return undefined;
    }
  }
  return withClaims({ value: token, expiresAt, lifetimeMs, scope }, claims);
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

function withClaims(token: AccessToken, claims: Record<string, unknown> | undefined): AccessToken {
  const sid = typeof claims?.sid === 'string' ? claims.sid : undefined;
  const sub = typeof claims?.sub === 'string' ? claims.sub : undefined;
  const claimedExp = claims?.exp;
  const exp = isNumericDate(claimedExp) ? claimedExp : undefined;
  return {
    ...token,
    ...(sid === undefined ? {} : { sid }),
    ...(sub === undefined ? {} : { sub }),
    ...(exp === undefined ? {} : { exp }),
  };
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
