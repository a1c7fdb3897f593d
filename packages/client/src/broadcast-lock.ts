/**
 * The cross-tab lock for browsers without Web Locks, over the shared BroadcastChannel.
 *
 * A tab claims the lock, listens for a short window, and holds it if nobody older claimed it
 * meanwhile and nobody answered that they hold it. The holder keeps a short lease alive with
 * heartbeats, so a tab that closes or freezes while holding blocks the others for at most one
 * lease, never forever. This is best effort (two claims racing faster than the window can both
 * win); the auth server's refresh grace window makes such a double refresh harmless: both get
 * the same answer, no reuse is detected.
 */

import { AuthClientError } from './errors.js';
import type { TabChannel, TabMessage } from './tab-channel.js';
import { createLocalLock, type TabLock } from './tab-lock.js';

export interface BroadcastLockTiming {
  /** How long a claim listens for competing claims, ms. Default 40. */
  readonly claimWindowMs?: number;
  /** How long a holder's claim stays valid without a heartbeat, ms. Default 5000. */
  readonly leaseMs?: number;
}

function randomId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function createBroadcastLock(channel: TabChannel, timing: BroadcastLockTiming = {}): TabLock {
  const claimWindowMs = timing.claimWindowMs ?? 40;
  const leaseMs = timing.leaseMs ?? 5000;
  const heartbeatMs = Math.max(1, Math.floor(leaseMs / 3));
  /** Delivery delay a holder's lease end may carry beyond `leaseMs` from now. */
  const leaseSlackMs = Math.min(1000, Math.ceil(leaseMs / 4));
  const id = randomId();
  const local = createLocalLock();
  /** Other holders we heard of: id -> lease end (Date.now clock; every tab shares the machine's clock). */
  const holders = new Map<string, number>();
  const waiters = new Set<() => void>();
  let claim: { at: number; n: number } | undefined;
  let lostClaim = false;
  let holding = false;
  let leaseUntil = 0;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const precedes = (other: { at: number; n: number; id: string }, mine: { at: number; n: number }) =>
    other.at < mine.at || (other.at === mine.at && (other.n < mine.n || (other.n === mine.n && other.id < id)));

  const wakeAll = () => {
    for (const wake of [...waiters]) wake();
  };

  const unsubscribe = channel.subscribe(function onLockMessage(message: TabMessage) {
    switch (message.t) {
      case 'lock-claim':
        if (holding) channel.post({ t: 'lock-held', id, until: leaseUntil });
        else if (claim !== undefined && precedes(message, claim)) lostClaim = true;
        break;
      case 'lock-held':
        // A real holder's lease ends at most one lease from now (heartbeats renew it): a longer
        // `until` is not believed, so no single message can block the lock for longer than that.
        holders.set(message.id, Math.min(message.until, Date.now() + leaseMs + leaseSlackMs));
        if (claim !== undefined) lostClaim = true;
        break;
      case 'lock-release':
        holders.delete(message.id);
        wakeAll();
        break;
      default:
        break;
    }
  });

  /** Resolves after `ms` or as soon as a holder releases, whichever comes first. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      waiters.add(done);
    });

  async function acquire(): Promise<void> {
    for (;;) {
      if (closed) throw new AuthClientError('ERR_CLIENT_CLOSED');
      const now = Date.now();
      let busyUntil = 0;
      for (const [holder, until] of holders) {
        if (until <= now) holders.delete(holder);
        else busyUntil = Math.max(busyUntil, until);
      }
      if (busyUntil > 0) {
        await pause(busyUntil - now);
        continue;
      }
      claim = { at: now, n: Math.random() };
      lostClaim = false;
      channel.post({ t: 'lock-claim', id, at: claim.at, n: claim.n });
      await new Promise((resolve) => setTimeout(resolve, claimWindowMs));
      claim = undefined;
      if (closed) throw new AuthClientError('ERR_CLIENT_CLOSED');
      if (lostClaim) {
        await pause(10 + Math.random() * 50);
        continue;
      }
      holding = true;
      leaseUntil = Date.now() + leaseMs;
      channel.post({ t: 'lock-held', id, until: leaseUntil });
      heartbeat = setInterval(() => {
        leaseUntil = Date.now() + leaseMs;
        channel.post({ t: 'lock-held', id, until: leaseUntil });
      }, heartbeatMs);
      return;
    }
  }

  function release(): void {
    if (!holding) return;
    holding = false;
    clearInterval(heartbeat);
    heartbeat = undefined;
    channel.post({ t: 'lock-release', id });
  }

  return {
    run(task) {
      return local.run(async () => {
        await acquire();
        try {
          return await task();
        } finally {
          release();
        }
      });
    },
    close() {
      closed = true;
      release();
      unsubscribe();
      local.close();
      wakeAll();
    },
  };
}
