/** RevocationState: the part every revocation source shares (the SSE feed, the Redis source). */

import { describe, expect, it } from 'vitest';
import { RevocationState } from '../src/revocation-state.js';

const claims = (over: Partial<{ jti: string; sid: string; sub: string; iat: number }> = {}) => ({
  jti: 'j-1',
  sid: 's-1',
  sub: 'u-1',
  iat: 1_000,
  ...over,
});

describe('RevocationState', () => {
  it('applies events, tells every listener once, and survives a listener that throws', () => {
    const warnings: string[] = [];
    const state = new RevocationState(() => 1_000, 60, { warn: (_d, m) => warnings.push(m) });
    const seen: string[] = [];
    state.onRevocation(() => {
      throw new Error('boom');
    });
    const off = state.onRevocation((e) => seen.push(e.value));
    expect(state.apply({ id: 1, kind: 'sid', value: 's-1', at: 1_000, expiresAt: 2_000 })).toBe(true);
    expect(state.isRevoked(claims())).toBe(true);
    expect(state.isRevoked(claims({ sid: 's-2', jti: 'j-2' }))).toBe(false);
    expect(seen).toEqual(['s-1']);
    expect(warnings).toEqual(['a revocation listener threw']);
    off();
    state.apply({ id: 2, kind: 'jti', value: 'j-9', at: 1_000, expiresAt: 2_000 });
    expect(seen).toEqual(['s-1']);
  });

  it('a malformed event changes nothing and tells nobody', () => {
    const state = new RevocationState(() => 1_000, 60);
    const seen: unknown[] = [];
    state.onRevocation((e) => seen.push(e));
    expect(state.apply({ id: 1, kind: 'sub', value: 'u-1@not-a-number', at: 1_000, expiresAt: 2_000 })).toBe(false);
    expect(seen).toEqual([]);
    expect(state.size).toBe(0);
  });

  it('a listener may unsubscribe itself while being told', () => {
    const state = new RevocationState(() => 1_000, 60);
    const seen: string[] = [];
    const off = state.onRevocation(() => {
      seen.push('once');
      off();
    });
    state.onRevocation(() => seen.push('always'));
    state.apply({ id: 1, kind: 'jti', value: 'a', at: 1_000, expiresAt: 2_000 });
    state.apply({ id: 2, kind: 'jti', value: 'b', at: 1_000, expiresAt: 2_000 });
    expect(seen).toEqual(['once', 'always', 'always']);
  });

  it('entries live until expiresAt + retainSec; touch prunes what is past it', () => {
    let now = 1_000;
    const state = new RevocationState(() => now, 60);
    state.apply({ id: 1, kind: 'jti', value: 'j-1', at: 1_000, expiresAt: 1_100 });
    now = 1_160;
    expect(state.isRevoked(claims())).toBe(true);
    now = 1_161;
    expect(state.isRevoked(claims())).toBe(false);
    expect(state.size).toBe(1);
    state.touch();
    expect(state.size).toBe(0);
  });

  it('staleness is infinite before the first contact and small after it', () => {
    const state = new RevocationState(() => 1_000, 60);
    expect(state.stalenessSec()).toBe(Number.POSITIVE_INFINITY);
    state.touch();
    expect(state.stalenessSec()).toBeLessThan(1);
  });

  it('ready resolves on markReady; close before it rejects ready and drops the listeners', async () => {
    const a = new RevocationState(() => 1_000, 60);
    a.markReady();
    await expect(a.ready).resolves.toBeUndefined();

    const b = new RevocationState(() => 1_000, 60);
    const seen: unknown[] = [];
    b.onRevocation((e) => seen.push(e));
    b.close('source closed');
    await expect(b.ready).rejects.toThrow('source closed');
    b.apply({ id: 1, kind: 'jti', value: 'j', at: 1_000, expiresAt: 2_000 });
    expect(seen).toEqual([]);
  });
});
