/** Time helpers. Tessera counts in whole seconds since the epoch on the wire and in storage. */

/** A clock returning whole seconds since the epoch. Tests pass a frozen one. */
export type Clock = () => number;

export const systemClock: Clock = () => Math.floor(Date.now() / 1000);

/** A controllable clock for tests and simulations. */
export function createManualClock(startSec: number = systemClock()): Clock & {
  set(sec: number): void;
  advance(sec: number): void;
} {
  let now = startSec;
  const clock = (() => now) as Clock & { set(sec: number): void; advance(sec: number): void };
  clock.set = (sec) => {
    now = sec;
  };
  clock.advance = (sec) => {
    now += sec;
  };
  return clock;
}

/** A JWT NumericDate as Tessera accepts it: a non-negative safe integer of seconds. */
export function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
