/**
 * One refresh at a time for the whole browser: the Web Lock named after the channel where the
 * platform has `navigator.locks` (released by the browser when a tab closes or crashes), else the
 * BroadcastChannel fallback lock, else (no cross-tab primitive at all) a lock for this client only.
 */

import { createBroadcastLock } from './broadcast-lock.js';
import { AuthClientError } from './errors.js';
import type { TabChannel } from './tab-channel.js';

export interface TabLock {
  /** Runs `task` while holding the lock. Rejects with `ERR_CLIENT_CLOSED` after `close()`. */
  run<T>(task: () => Promise<T>): Promise<T>;
  close(): void;
}

/** The part of `LockManager` the SDK uses. */
export interface LockManagerLike {
  request<T>(
    name: string,
    options: { mode: 'exclusive'; signal?: AbortSignal },
    callback: () => Promise<T>,
  ): Promise<T>;
}

export function createTabLock(
  name: string,
  locks: LockManagerLike | undefined,
  channel: TabChannel | undefined,
): TabLock {
  if (locks !== undefined) return createWebLock(name, locks);
  if (channel !== undefined) return createBroadcastLock(channel);
  return createLocalLock();
}

function createWebLock(name: string, locks: LockManagerLike): TabLock {
  const controller = new AbortController();
  return {
    async run(task) {
      if (controller.signal.aborted) throw new AuthClientError('ERR_CLIENT_CLOSED');
      try {
        return await locks.request(name, { mode: 'exclusive', signal: controller.signal }, task);
      } catch (error) {
        if (controller.signal.aborted) throw new AuthClientError('ERR_CLIENT_CLOSED', undefined, { cause: error });
        throw error;
      }
    },
    close() {
      controller.abort();
    },
  };
}

/** Serialises the tasks of this client only. */
export function createLocalLock(): TabLock {
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;
  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(new AuthClientError('ERR_CLIENT_CLOSED'));
      const result = tail.then(() => {
        if (closed) throw new AuthClientError('ERR_CLIENT_CLOSED');
        return task();
      });
      tail = result.then(
        () => undefined,
        () => undefined,
      );
      return result;
    },
    close() {
      closed = true;
    },
  };
}
