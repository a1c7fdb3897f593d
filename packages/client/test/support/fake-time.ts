/** A manual local clock with timers, for the client's `clock` and `timers` options. */

import type { AuthTimers } from '../../src/index.js';

export interface FakeTime {
  now(): number;
  readonly timers: AuthTimers;
  /** Delays of every setTimeout call so far, ms. */
  readonly scheduled: number[];
  /** Pending timers, as delays from now. */
  pending(): number[];
  /** Moves the clock forward by `ms`, firing due timers in order. */
  advance(ms: number): void;
  /** Moves the clock forward without firing anything: a tab asleep, whose timers did not run. */
  jump(ms: number): void;
}

export function createFakeTime(startMs: number): FakeTime {
  let now = startMs;
  let nextId = 1;
  const timers = new Map<number, { due: number; callback: () => void }>();
  const scheduled: number[] = [];
  return {
    now: () => now,
    scheduled,
    timers: {
      setTimeout(callback, delayMs) {
        const id = nextId++;
        scheduled.push(delayMs);
        timers.set(id, { due: now + Math.max(0, delayMs), callback });
        return id;
      },
      clearTimeout(handle) {
        timers.delete(handle as number);
      },
    },
    pending: () => [...timers.values()].map((t) => t.due - now).sort((a, b) => a - b),
    advance(ms) {
      const target = now + ms;
      for (;;) {
        let nextKey: number | undefined;
        let next: { due: number; callback: () => void } | undefined;
        for (const [key, timer] of timers) {
          if (timer.due <= target && (next === undefined || timer.due < next.due)) {
            next = timer;
            nextKey = key;
          }
        }
        if (next === undefined || nextKey === undefined) break;
        timers.delete(nextKey);
        now = Math.max(now, next.due);
        next.callback();
      }
      now = target;
    },
    jump(ms) {
      now += ms;
    },
  };
}
