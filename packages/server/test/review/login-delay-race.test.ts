/**
 * Review: the progressive login delay is check-then-act. LoginThrottle.check reads the failure
 * counters, then argon2 runs (tens of ms on the threadpool), and only then recordFailure writes.
 * Concurrent attempts all read the same counters, so an attacker who waits out one delay and
 * then fires N guesses at once gets N password checks instead of one (bounded only by the
 * per-account bucket, which the delay was meant to go far below).
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, signUp, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('review: progressive login delay under concurrency', () => {
  it('once the delay is due, a burst of concurrent guesses gets one password check, not all of them', async () => {
    h = await startHarness({
      lockout: { freeAttempts: 5, baseDelaySec: 1, maxDelaySec: 900, accountFreeAttempts: 10_000 },
    });
    await signUp(h);
    const guess = (i: number) =>
      h.server.app.inject({
        method: 'POST',
        url: '/auth/login',
        remoteAddress: '203.0.113.66',
        payload: { email: 'alice@example.com', password: `wrong guess ${i}` },
      });
    // Ten sequential failures: the next attempt must wait 2^5 = 32 s.
    for (let i = 0; i < 10; i++) {
      await guess(i);
      h.clock.advance(1000);
    }
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => guess(100 + i)));
    const checked = burst.filter((r) => r.statusCode === 401).length;
    expect(checked).toBeLessThanOrEqual(1);
  });
});
