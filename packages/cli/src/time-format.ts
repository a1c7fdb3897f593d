/** Human times for NumericDate claims: ISO 8601 UTC and "expires in 9 min 12 s". */

import { isNumericDate } from '@tessera/core';

const UNITS = [
  ['d', 86_400],
  ['h', 3_600],
  ['min', 60],
  ['s', 1],
] as const;

/** `9 min 12 s`, `3 h`, `2 d 4 h`: the two largest units, dropping a zero second unit. */
export function formatDuration(seconds: number): string {
  let rest = Math.abs(Math.round(seconds));
  if (rest === 0) return '0 s';
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (parts.length > 0) {
      if (n > 0) parts.push(`${n} ${unit}`);
      break;
    }
    if (n > 0) {
      parts.push(`${n} ${unit}`);
      rest -= n * size;
    }
  }
  return parts.join(' ');
}

/** `2025-06-01T12:00:00Z`, or undefined when out of the Date range. */
export function isoUtc(seconds: number): string | undefined {
  const ms = seconds * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

export const TIME_CLAIMS = ['exp', 'iat', 'nbf', 'auth_time'] as const;
export type TimeClaim = (typeof TIME_CLAIMS)[number];

/** The relative phrase for a time claim, from the point of view of `nowSec`. */
export function describeTime(claim: TimeClaim, value: number, nowSec: number): string {
  const delta = value - nowSec;
  const d = formatDuration(delta);
  const future = delta > 0;
  switch (claim) {
    case 'exp':
      return future ? `expires in ${d}` : `expired ${d} ago`;
    case 'iat':
      return future ? `issued in ${d} (in the future)` : `issued ${d} ago`;
    case 'nbf':
      return future ? `not valid for another ${d}` : `valid since ${d} ago`;
    case 'auth_time':
      return future ? `authenticated in ${d} (in the future)` : `authenticated ${d} ago`;
  }
}

export interface HumanTime {
  readonly value: unknown;
  /** ISO 8601 UTC, when `value` is a NumericDate in range. */
  readonly iso?: string;
  /** E.g. "expires in 9 min 12 s", or why the value is not a time. */
  readonly relative: string;
}

/** Human readings of the time claims present in `payload`. */
export function humanTimes(payload: Record<string, unknown>, nowSec: number): Partial<Record<TimeClaim, HumanTime>> {
  const times: Partial<Record<TimeClaim, HumanTime>> = {};
  for (const claim of TIME_CLAIMS) {
    const value = payload[claim];
    if (value === undefined) continue;
    if (!isNumericDate(value)) {
      times[claim] = { value, relative: 'not a NumericDate (whole seconds since the epoch)' };
      continue;
    }
    const iso = isoUtc(value);
    times[claim] =
      iso === undefined
        ? { value, relative: 'out of the representable date range' }
        : { value, iso, relative: describeTime(claim, value, nowSec) };
  }
  return times;
}
