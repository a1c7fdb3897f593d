/** Memory mode: the engine runs in the page and the access token lives in a private field of it. */

import { AuthEngine, type EngineEnvironment } from './auth-engine.js';
import type { ResolvedOptions } from './options.js';
import type { BroadcastChannelConstructor } from './tab-channel.js';
import type { LockManagerLike } from './tab-lock.js';
import type { AuthClient, AuthTimers } from './types.js';

const globalTimers: AuthTimers = {
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, delayMs),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The browser (or worker) globals the engine uses, each optional. */
export function platformEnvironment(overrides: Partial<EngineEnvironment> = {}): EngineEnvironment {
  const g = globalThis as {
    navigator?: { locks?: LockManagerLike };
    BroadcastChannel?: BroadcastChannelConstructor;
    location?: { href: string };
  };
  const locks = g.navigator?.locks;
  const nativeFetch = globalThis.fetch;
  return {
    // Called through a wrapper: a detached `fetch` throws "Illegal invocation" in browsers.
    fetch: (input, init) => nativeFetch(input, init),
    now: () => Date.now(),
    timers: globalTimers,
    random: Math.random,
    ...(locks === undefined ? {} : { locks }),
    ...(g.BroadcastChannel === undefined ? {} : { BroadcastChannel: g.BroadcastChannel }),
    baseUrl: () => g.location?.href,
    ...overrides,
  };
}

/** Re-checks the token when the tab becomes visible again or the network returns. */
export function watchPageLifecycle(onWake: (reason: 'visible' | 'online') => void): () => void {
  const doc = (globalThis as { document?: Document }).document;
  const target = globalThis as {
    addEventListener?: typeof addEventListener;
    removeEventListener?: typeof removeEventListener;
  };
  const onVisibility = () => {
    if (doc?.visibilityState === 'visible') onWake('visible');
  };
  const onOnline = () => onWake('online');
  doc?.addEventListener('visibilitychange', onVisibility);
  target.addEventListener?.('online', onOnline);
  return () => {
    doc?.removeEventListener('visibilitychange', onVisibility);
    target.removeEventListener?.('online', onOnline);
  };
}

export function createMemoryClient(options: ResolvedOptions): AuthClient {
  const custom = options.fetch;
  const engine = new AuthEngine(
    options.settings,
    platformEnvironment({
      ...(custom === undefined ? {} : { fetch: (input: RequestInfo | URL, init?: RequestInit) => custom(input, init) }),
      ...(options.clock === undefined ? {} : { now: options.clock }),
      ...(options.timers === undefined ? {} : { timers: options.timers }),
    }),
    { shareTokens: true },
  );
  const unwatch = watchPageLifecycle((reason) => engine.wake(reason));
  return {
    mode: 'memory',
    get state() {
      return engine.state;
    },
    login: (credentials) => engine.login(credentials),
    register: (credentials) => engine.register(credentials),
    logout: () => engine.logout(),
    logoutEverywhere: () => engine.logoutEverywhere(),
    restore: () => engine.restore(),
    getUser: () => engine.getUser(),
    fetch: (input, init) => engine.fetch(input, init),
    session: () => engine.session(),
    onChange: (listener) => engine.onChange(listener),
    close() {
      unwatch();
      engine.close();
    },
  };
}
