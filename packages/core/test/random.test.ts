import { takeRandomBytes } from '@tessera/core';
import { describe, expect, it } from 'vitest';

describe('takeRandomBytes', () => {
  it('returns exactly n bytes and never hands out the same bytes twice across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const bytes = takeRandomBytes(16);
      expect(bytes.length).toBe(16);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(2000);
  });

  it('a returned view does not change when later calls replace the pool', () => {
    const first = takeRandomBytes(32);
    const copy = Buffer.from(first);
    for (let i = 0; i < 300; i++) takeRandomBytes(32);
    expect(first.equals(copy)).toBe(true);
  });

  it('serves large requests directly and refuses invalid sizes with TypeError', () => {
    expect(takeRandomBytes(1000).length).toBe(1000);
    expect(takeRandomBytes(0).length).toBe(0);
    expect(() => takeRandomBytes(-1)).toThrow(TypeError);
    expect(() => takeRandomBytes(1.5)).toThrow(TypeError);
  });

  it('is not degenerate: bytes are spread over all 256 values', () => {
    const counts = new Array(256).fill(0);
    for (const b of takeRandomBytes(256)) counts[b]++;
    for (let i = 0; i < 40; i++) for (const b of takeRandomBytes(256)) counts[b]++;
    expect(counts.filter((c) => c === 0).length).toBe(0);
  });
});
