/**
 * What every {@link RevocationSource} keeps, whatever transport fills it (the auth server's SSE
 * feed here, a Redis stream in `@tessera/store-redis`): the revocation set with its retention,
 * the listeners, the time of last contact, and the `ready` promise. A transport only has to
 * call {@link RevocationState.apply} per event, {@link RevocationState.touch} per sign of life,
 * {@link RevocationState.markReady} once caught up, and {@link RevocationState.close}.
 */

import { RevocationSet } from './revocation-set.js';
import type { RevocableClaims, RevocationEvent } from './revocation-source.js';

export interface RevocationStateLogger {
  warn(data: object, message: string): void;
}

/** How often expired entries are dropped, seconds. */
const PRUNE_EVERY_SEC = 10;

export class RevocationState {
  readonly ready: Promise<void>;
  readonly #set = new RevocationSet();
  readonly #listeners = new Set<(event: RevocationEvent) => void>();
  readonly #clock: () => number;
  readonly #retainSec: number;
  readonly #logger: RevocationStateLogger | undefined;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #lastContactMs: number | undefined;
  #lastPruneSec = 0;

  /**
   * @param clock whole seconds since the epoch
   * @param retainSec how long an entry is kept after its `expiresAt` (verifier clock tolerance)
   */
  constructor(clock: () => number, retainSec: number, logger?: RevocationStateLogger) {
    this.#clock = clock;
    this.#retainSec = retainSec;
    this.#logger = logger;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Nobody has to await `ready`; a close before it must not be an unhandled rejection.
    this.ready.catch(() => {});
  }

  /** Applies one event and tells the listeners; false (and nothing told) when it is malformed. */
  apply(event: RevocationEvent): boolean {
    if (!this.#set.apply(event)) return false;
    // A copy: a listener may unsubscribe itself.
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#logger?.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'a revocation listener threw',
        );
      }
    }
    return true;
  }

  /** A sign of life from the transport (an event, a heartbeat, an empty read). Prunes now and then. */
  touch(): void {
    this.#lastContactMs = performance.now();
    const now = this.#clock();
    if (now - this.#lastPruneSec >= PRUNE_EVERY_SEC) {
      this.#lastPruneSec = now;
      this.#set.prune(now - this.#retainSec);
    }
  }

  /** The transport has caught up: `ready` resolves. */
  markReady(): void {
    this.#resolveReady();
  }

  isRevoked(claims: RevocableClaims, kid?: string): boolean {
    return this.#set.isRevoked(claims, kid, this.#clock() - this.#retainSec);
  }

  /** Seconds since the last contact; infinite before the first. */
  stalenessSec(): number {
    return this.#lastContactMs === undefined
      ? Number.POSITIVE_INFINITY
      : (performance.now() - this.#lastContactMs) / 1000;
  }

  onRevocation(listener: (event: RevocationEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Rejects `ready` if still pending (with `reason`) and drops every listener. */
  close(reason: string): void {
    this.#rejectReady(new Error(reason));
    this.#listeners.clear();
  }

  /** Entries held (for tests and metrics). */
  get size(): number {
    return this.#set.size;
  }
}
