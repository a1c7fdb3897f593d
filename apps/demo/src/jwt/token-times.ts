/** The time claims of a token (`iat`, `nbf`, `exp`, `auth_time`) as dates and "in 4 min" / "3 h ago", and its expiry state. */

import type { JsonObject } from './decode-jwt.js';

export const TIME_CLAIMS = ['iat', 'nbf', 'exp', 'auth_time'] as const;
export type TimeClaim = (typeof TIME_CLAIMS)[number];

export interface TimeEntry {
  readonly claim: TimeClaim;
  /** The raw value (seconds since the epoch), or what was there instead. */
  readonly value: unknown;
  /** True when the value is a usable NumericDate. */
  readonly valid: boolean;
  /** ISO 8601 (UTC), or empty when invalid. */
  readonly iso: string;
  /** Seconds from now (negative: in the past). */
  readonly deltaSec: number;
  /** "in 4 min", "3 h ago", or why it is unusable. */
  readonly relative: string;
}

export type ExpiryState = 'valid' | 'expired' | 'not-yet-valid' | 'no-expiry' | 'invalid-time';

export interface ExpiryStatus {
  readonly state: ExpiryState;
  /** "expires in 4 min", "expired 3 h ago", "not valid for another 2 min", "never expires (no exp)". */
  readonly text: string;
}

/** The largest NumericDate accepted: year 9999 (larger values are not real dates). */
const MAX_NUMERIC_DATE = 253_402_300_799;

export function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_NUMERIC_DATE;
}

const UNITS: readonly [number, string][] = [
  [365 * 86_400, 'y'],
  [30 * 86_400, 'mo'],
  [86_400, 'd'],
  [3_600, 'h'],
  [60, 'min'],
  [1, 's'],
];

/** A duration as its largest unit, rounded down: 59 s, 4 min, 3 h, 2 d. */
export function formatDuration(seconds: number): string {
  const abs = Math.abs(Math.round(seconds));
  for (const [size, unit] of UNITS) {
    if (abs >= size) return `${Math.floor(abs / size)} ${unit}`;
  }
  return '0 s';
}

/** "in 4 min", "3 h ago", or "now" within a second. */
export function formatRelative(deltaSec: number): string {
  if (Math.abs(deltaSec) < 1) return 'now';
  return deltaSec > 0 ? `in ${formatDuration(deltaSec)}` : `${formatDuration(deltaSec)} ago`;
}

export function describeTimes(claims: JsonObject, nowSec: number): TimeEntry[] {
  const entries: TimeEntry[] = [];
  for (const claim of TIME_CLAIMS) {
    if (!(claim in claims)) continue;
    const value = claims[claim];
    if (!isNumericDate(value)) {
      entries.push({
        claim,
        value,
        valid: false,
        iso: '',
        deltaSec: 0,
        relative: 'not a NumericDate (seconds since 1970)',
      });
      continue;
    }
    const deltaSec = value - nowSec;
    entries.push({
      claim,
      value,
      valid: true,
      iso: new Date(value * 1000).toISOString(),
      deltaSec,
      relative: formatRelative(deltaSec),
    });
  }
  return entries;
}

export function expiryStatus(claims: JsonObject, nowSec: number): ExpiryStatus {
  const { exp, nbf } = claims;
  if (exp !== undefined && !isNumericDate(exp)) return { state: 'invalid-time', text: 'exp is not a valid time' };
  if (nbf !== undefined && !isNumericDate(nbf)) return { state: 'invalid-time', text: 'nbf is not a valid time' };
  if (isNumericDate(nbf) && nbf > nowSec) {
    return { state: 'not-yet-valid', text: `not valid for another ${formatDuration(nbf - nowSec)}` };
  }
  if (exp === undefined) return { state: 'no-expiry', text: 'never expires (no exp)' };
  if (exp <= nowSec) return { state: 'expired', text: `expired ${formatDuration(nowSec - exp)} ago` };
  return { state: 'valid', text: `expires in ${formatDuration(exp - nowSec)}` };
}
