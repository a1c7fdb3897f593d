/**
 * Progressive login delays (see LockoutConfig). Keyed by the normalised email whether or not an
 * account exists, so a delay reveals nothing about which addresses are registered. Two counters:
 * per (account, IP), doubling up to `maxDelaySec`; per account over all IPs, doubling up to the
 * short `accountMaxDelaySec`, applied only to IPs that have failed for that account themselves,
 * so an attacker can never lock a victim out. A successful login clears both.
 */

import type { LockoutConfig } from '../config.js';
import type { EphemeralStore, FailureCount } from '../contracts.js';

export interface ThrottleVerdict {
  /** Seconds to wait before another attempt is allowed; 0 when allowed now. */
  readonly waitSec: number;
  /** Failures of this (account, IP) pair; account-wide limits apply only when it is above 0. */
  readonly pairFailures: number;
}

function delayFor(failures: FailureCount, free: number, baseSec: number, maxSec: number, now: number): number {
  const over = failures.count - free;
  if (over < 0) return 0;
  const delay = Math.min(maxSec, baseSec * 2 ** Math.min(over, 30));
  return Math.max(0, failures.lastAt + delay - now);
}

export class LoginThrottle {
  constructor(
    readonly store: EphemeralStore,
    readonly config: LockoutConfig,
  ) {}

  #keys(email: string, ip: string | null): [string, string] {
    return [`lo:pair:${email}|${ip ?? '-'}`, `lo:acct:${email}`];
  }

  async check(email: string, ip: string | null, now: number): Promise<ThrottleVerdict> {
    const [pairKey, accountKey] = this.#keys(email, ip);
    const c = this.config;
    const [pair, account] = await Promise.all([
      this.store.getFailures(pairKey, now, c.windowSec),
      this.store.getFailures(accountKey, now, c.windowSec),
    ]);
    // The account-wide delay only applies to an IP that has failed for this account itself: an
    // attacker's guesses from elsewhere must never stand between the victim and her password.
    const accountWait =
      pair.count > 0 ? delayFor(account, c.accountFreeAttempts, c.baseDelaySec, c.accountMaxDelaySec, now) : 0;
    return {
      waitSec: Math.max(delayFor(pair, c.freeAttempts, c.baseDelaySec, c.maxDelaySec, now), accountWait),
      pairFailures: pair.count,
    };
  }

  async recordFailure(email: string, ip: string | null, now: number): Promise<void> {
    const [pairKey, accountKey] = this.#keys(email, ip);
    await Promise.all([
      this.store.recordFailure(pairKey, now, this.config.windowSec),
      this.store.recordFailure(accountKey, now, this.config.windowSec),
    ]);
  }

  async recordSuccess(email: string, ip: string | null): Promise<void> {
    const [pairKey, accountKey] = this.#keys(email, ip);
    await Promise.all([this.store.clearFailures(pairKey), this.store.clearFailures(accountKey)]);
  }
}
