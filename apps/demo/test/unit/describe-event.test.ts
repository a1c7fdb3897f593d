import { describe, expect, it } from 'vitest';
import { describeEvent, formatRemaining, summariseUserAgent } from '../../src/demo/describe-event.js';

describe('describeEvent', () => {
  it('words every SDK event with its type, a tone and a detail', () => {
    expect(describeEvent({ type: 'signed-in', source: 'restore' })).toMatchObject({ type: 'signed-in', tone: 'ok' });
    expect(describeEvent({ type: 'signed-out', source: 'other-tab' }).detail).toContain('another tab');
    const refreshed = describeEvent({ type: 'refreshed', trigger: 'expired', expiresAt: Date.now() + 60_000 });
    expect(refreshed).toMatchObject({ type: 'refreshed', tone: 'ok' });
    expect(refreshed.detail).toContain('expired');
    expect(describeEvent({ type: 'refresh-failed', error: 'ERR_NETWORK', retryInMs: 1500 }).detail).toBe(
      'ERR_NETWORK; retrying in 1.5 s',
    );
    expect(describeEvent({ type: 'session-expired', code: 'ERR_REFRESH_REVOKED' })).toMatchObject({
      tone: 'bad',
      detail: expect.stringContaining('ERR_REFRESH_REVOKED'),
    });
    expect(describeEvent({ type: 'reuse-detected', code: 'ERR_REFRESH_REUSED' }).tone).toBe('bad');
  });
});

describe('formatRemaining', () => {
  it('counts down in m:ss and h:mm:ss, rounding up, never below zero', () => {
    expect(formatRemaining(599_001)).toBe('10:00');
    expect(formatRemaining(59_000)).toBe('0:59');
    expect(formatRemaining(3_725_000)).toBe('1:02:05');
    expect(formatRemaining(-5_000)).toBe('0:00');
  });
});

describe('summariseUserAgent', () => {
  it('names common browsers and systems', () => {
    expect(
      summariseUserAgent(
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
      ),
    ).toBe('Chrome on Linux');
    expect(
      summariseUserAgent(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1',
      ),
    ).toBe('Safari on iOS');
    expect(summariseUserAgent(null)).toBe('Unknown device');
  });
});
