/**
 * The EphemeralStore conformance suite: the jti denylist, token buckets and revocation fan-out.
 * Times are passed explicitly; delivery to subscribers may be asynchronous (a Redis adapter),
 * so the pub/sub tests wait for the events to arrive instead of assuming synchronous emit.
 */

import type { EphemeralStore, RevocationEvent } from '@tessera/server/contracts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HOUR, revocation, T0 } from './fixtures.js';

/** Makes one fresh, empty store; `cleanup` must also cope with a store the test closed. */
export type EphemeralStoreFactory = () => Promise<{ store: EphemeralStore; cleanup(): Promise<void> }>;

/** How long to wait for published events to reach subscribers, in milliseconds. */
const DELIVERY_TIMEOUT_MS = 5000;

export function runEphemeralStoreConformance(name: string, factory: EphemeralStoreFactory): void {
  describe(`EphemeralStore conformance: ${name}`, () => {
    let store: EphemeralStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      const made = await factory();
      store = made.store;
      cleanup = made.cleanup;
    });

    afterEach(async () => {
      const done = cleanup;
      cleanup = undefined;
      await done?.();
    });

    /** Takes `n` tokens at `now` and returns how many were allowed. */
    async function takeMany(key: string, n: number, capacity: number, refillPerSec: number, now: number) {
      let allowed = 0;
      for (let i = 0; i < n; i++) if ((await store.takeToken(key, capacity, refillPerSec, now)).allowed) allowed++;
      return allowed;
    }

    describe('lifecycle', () => {
      it('ping resolves on an open store', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('close resolves', async () => {
        await expect(store.close()).resolves.toBeUndefined();
      });
    });

    describe('jti denylist', () => {
      it('an unknown jti is not denied', async () => {
        await store.denyJti('jti-a', T0 + HOUR);
        expect(await store.isJtiDenied('jti-unknown', T0)).toBe(false);
      });

      it('a denied jti is denied until its expiresAt and not after', async () => {
        await store.denyJti('jti-a', T0 + 100);
        expect(await store.isJtiDenied('jti-a', T0)).toBe(true);
        expect(await store.isJtiDenied('jti-a', T0 + 99)).toBe(true);
        expect(await store.isJtiDenied('jti-a', T0 + 101)).toBe(false);
      });

      it('denying a jti again keeps the later of the two expiries', async () => {
        await store.denyJti('jti-a', T0 + 100);
        await store.denyJti('jti-a', T0 + 50);
        expect(await store.isJtiDenied('jti-a', T0 + 75)).toBe(true);
        await store.denyJti('jti-a', T0 + 200);
        expect(await store.isJtiDenied('jti-a', T0 + 150)).toBe(true);
        expect(await store.isJtiDenied('jti-a', T0 + 201)).toBe(false);
      });

      it('denying one jti does not deny another', async () => {
        await store.denyJti('jti-a', T0 + 100);
        await store.denyJti('jti-b', T0 + 10);
        expect(await store.isJtiDenied('jti-a', T0 + 50)).toBe(true);
        expect(await store.isJtiDenied('jti-b', T0 + 50)).toBe(false);
      });

      it('a jti denied with an expiry already in the past is not denied', async () => {
        await store.denyJti('jti-a', T0 - 1);
        expect(await store.isJtiDenied('jti-a', T0)).toBe(false);
      });
    });

    describe('takeToken', () => {
      it('a fresh bucket allows exactly capacity takes at one instant, then denies', async () => {
        expect(await takeMany('k', 3, 3, 1, T0)).toBe(3);
        const denied = await store.takeToken('k', 3, 1, T0);
        expect(denied.allowed).toBe(false);
      });

      it('concurrent takes on one bucket (one batch, or racing calls) allow exactly capacity', async () => {
        const results = await Promise.all(Array.from({ length: 12 }, () => store.takeToken('race', 5, 1, T0)));
        expect(results.filter((r) => r.allowed)).toHaveLength(5);
        expect(results.filter((r) => !r.allowed).every((r) => r.retryAfterSec >= 1)).toBe(true);
        const others = await Promise.all(Array.from({ length: 3 }, (_, i) => store.takeToken(`other-${i}`, 1, 1, T0)));
        expect(others.every((r) => r.allowed)).toBe(true);
      });

      it('a denial reports a whole retryAfterSec of at least 1, and waiting that long is enough', async () => {
        expect((await store.takeToken('k', 1, 0.25, T0)).allowed).toBe(true);
        const denied = await store.takeToken('k', 1, 0.25, T0);
        expect(denied.allowed).toBe(false);
        expect(Number.isInteger(denied.retryAfterSec)).toBe(true);
        expect(denied.retryAfterSec).toBeGreaterThanOrEqual(1);
        expect((await store.takeToken('k', 1, 0.25, T0 + denied.retryAfterSec)).allowed).toBe(true);
      });

      it('retryAfterSec is at least 1 even when the refill is faster than one token per second', async () => {
        expect((await store.takeToken('k', 1, 4, T0)).allowed).toBe(true);
        const denied = await store.takeToken('k', 1, 4, T0);
        expect(denied.allowed).toBe(false);
        expect(denied.retryAfterSec).toBeGreaterThanOrEqual(1);
        expect((await store.takeToken('k', 1, 4, T0 + 1)).allowed).toBe(true);
      });

      it('tokens refill at refillPerSec and never beyond capacity', async () => {
        expect(await takeMany('k', 2, 2, 1, T0)).toBe(2);
        expect(await takeMany('k', 2, 2, 1, T0 + 1)).toBe(1);
        expect(await takeMany('k', 3, 2, 1, T0 + 1000)).toBe(2);
      });

      it('fractional refill accumulates across denied attempts: 0.25/s gives a token after 4 s', async () => {
        expect((await store.takeToken('k', 1, 0.25, T0)).allowed).toBe(true);
        for (const dt of [1, 2, 3]) expect((await store.takeToken('k', 1, 0.25, T0 + dt)).allowed).toBe(false);
        expect((await store.takeToken('k', 1, 0.25, T0 + 4)).allowed).toBe(true);
        expect((await store.takeToken('k', 1, 0.25, T0 + 4)).allowed).toBe(false);
      });

      it('a fractional remainder carries over after an allowed take', async () => {
        expect(await takeMany('k', 4, 4, 0.5, T0)).toBe(4);
        // 3 s at 0.5/s = 1.5 tokens: one take, half a token left over.
        expect(await takeMany('k', 2, 4, 0.5, T0 + 3)).toBe(1);
        // One more second adds the other half.
        expect(await takeMany('k', 2, 4, 0.5, T0 + 4)).toBe(1);
      });

      it('separate keys have independent buckets', async () => {
        expect(await takeMany('login:ip:192.0.2.1', 3, 2, 0.1, T0)).toBe(2);
        expect(await takeMany('login:ip:192.0.2.2', 3, 2, 0.1, T0)).toBe(2);
        expect(await takeMany('login:user:u-1', 1, 2, 0.1, T0)).toBe(1);
      });
    });

    describe('publish/subscribe', () => {
      const events: RevocationEvent[] = [1, 2, 3, 4].map((id) => ({ id, ...revocation(`s-${id}`, { at: T0 + id }) }));
      const [e1, e2, e3, e4] = events as [RevocationEvent, RevocationEvent, RevocationEvent, RevocationEvent];

      it('publish delivers every event to every subscriber, in publish order', async () => {
        const a: RevocationEvent[] = [];
        const b: RevocationEvent[] = [];
        store.subscribe((event) => a.push(event));
        store.subscribe((event) => b.push(event));
        for (const event of [e1, e2, e3]) await store.publish(event);
        await vi.waitFor(
          () => {
            expect(a).toHaveLength(3);
            expect(b).toHaveLength(3);
          },
          { timeout: DELIVERY_TIMEOUT_MS, interval: 5 },
        );
        expect(a).toEqual([e1, e2, e3]);
        expect(b).toEqual([e1, e2, e3]);
      });

      it('unsubscribe stops delivery to that subscriber only', async () => {
        const a: RevocationEvent[] = [];
        const b: RevocationEvent[] = [];
        const unsubscribeA = store.subscribe((event) => a.push(event));
        store.subscribe((event) => b.push(event));
        await store.publish(e1);
        await vi.waitFor(() => expect([a.length, b.length]).toEqual([1, 1]), {
          timeout: DELIVERY_TIMEOUT_MS,
          interval: 5,
        });

        unsubscribeA();
        await store.publish(e2);
        await store.publish(e3);
        await store.publish(e4);
        // Delivery is ordered, so once b has e4, a would have had e2..e4 by now if still subscribed.
        await vi.waitFor(() => expect(b).toHaveLength(4), { timeout: DELIVERY_TIMEOUT_MS, interval: 5 });
        expect(b).toEqual([e1, e2, e3, e4]);
        expect(a).toEqual([e1]);
      });

      it('publish resolves when nobody is subscribed', async () => {
        await expect(store.publish(e1)).resolves.toBeUndefined();
      });
    });

    describe('failure counters', () => {
      it('recordFailure counts up per key and getFailures reads the count without changing it', async () => {
        expect(await store.recordFailure('k', T0, 3600)).toEqual({ count: 1, lastAt: T0 });
        expect(await store.recordFailure('k', T0 + 5, 3600)).toEqual({ count: 2, lastAt: T0 + 5 });
        expect(await store.getFailures('k', T0 + 6, 3600)).toEqual({ count: 2, lastAt: T0 + 5 });
        expect(await store.getFailures('other', T0 + 6, 3600)).toEqual({ count: 0, lastAt: 0 });
      });

      it('a count older than ttlSec since its last failure starts over', async () => {
        await store.recordFailure('k', T0, 60);
        await store.recordFailure('k', T0 + 30, 60);
        expect(await store.getFailures('k', T0 + 91, 60)).toEqual({ count: 0, lastAt: 0 });
        expect(await store.recordFailure('k', T0 + 91, 60)).toEqual({ count: 1, lastAt: T0 + 91 });
      });

      it('clearFailures resets one key only', async () => {
        await store.recordFailure('a', T0, 3600);
        await store.recordFailure('b', T0, 3600);
        await store.clearFailures('a');
        expect((await store.getFailures('a', T0, 3600)).count).toBe(0);
        expect((await store.getFailures('b', T0, 3600)).count).toBe(1);
      });
    });
  });
}
