import { describe, expect, it } from 'vitest';
import { describeTimes, expiryStatus, formatDuration, formatRelative } from '../../src/jwt/token-times.js';

const NOW = 1_900_000_000;

describe('formatRelative', () => {
  it('uses the largest whole unit, in the future and the past', () => {
    expect(formatRelative(4 * 60 + 59)).toBe('in 4 min');
    expect(formatRelative(-3 * 3600 - 10)).toBe('3 h ago');
    expect(formatRelative(45)).toBe('in 45 s');
    expect(formatRelative(2 * 86_400)).toBe('in 2 d');
    expect(formatRelative(0.2)).toBe('now');
    expect(formatDuration(400 * 86_400)).toBe('1 y');
  });
});

describe('describeTimes', () => {
  it('lists iat, nbf, exp and auth_time with ISO dates and relative times', () => {
    const entries = describeTimes({ iat: NOW - 60, nbf: NOW - 60, exp: NOW + 240, sub: 'x' }, NOW);
    expect(entries.map((e) => e.claim)).toEqual(['iat', 'nbf', 'exp']);
    expect(entries[2]).toMatchObject({ valid: true, deltaSec: 240, relative: 'in 4 min' });
    expect(entries[0]?.iso).toBe(new Date((NOW - 60) * 1000).toISOString());
    expect(entries[0]?.relative).toBe('1 min ago');
  });

  it('marks values that are not NumericDates instead of inventing a date', () => {
    const [exp, iat] = describeTimes({ exp: '1700000000', iat: Number.POSITIVE_INFINITY }, NOW).sort((a, b) =>
      a.claim.localeCompare(b.claim),
    );
    expect(exp).toMatchObject({ claim: 'exp', valid: false, iso: '' });
    expect(iat).toMatchObject({ claim: 'iat', valid: false });
  });
});

describe('expiryStatus', () => {
  it('tells valid, expired, not yet valid, no expiry and invalid apart', () => {
    expect(expiryStatus({ exp: NOW + 240 }, NOW)).toEqual({ state: 'valid', text: 'expires in 4 min' });
    expect(expiryStatus({ exp: NOW - 3 * 3600 }, NOW)).toEqual({ state: 'expired', text: 'expired 3 h ago' });
    expect(expiryStatus({ exp: NOW }, NOW).state).toBe('expired');
    expect(expiryStatus({ exp: NOW + 600, nbf: NOW + 120 }, NOW)).toEqual({
      state: 'not-yet-valid',
      text: 'not valid for another 2 min',
    });
    expect(expiryStatus({}, NOW).state).toBe('no-expiry');
    expect(expiryStatus({ exp: 'soon' }, NOW).state).toBe('invalid-time');
  });
});
