/**
 * Page side of worker mode: the same `AuthClient`, as a proxy to the dedicated worker that holds
 * the token and makes the API requests. The page keeps only a mirror of the non-secret state.
 */

import type { EngineSnapshot } from './auth-engine.js';
import { assertReplayableBody, isTokenEndpoint, resolveRequestUrl } from './authorized-request.js';
import { AuthClientError } from './errors.js';
import { watchPageLifecycle } from './memory-client.js';
import type { ResolvedOptions } from './options.js';
import type { AuthClient, AuthEvent, AuthEventListener, Credentials, SessionInfo, WhoAmI } from './types.js';
import {
  type CallOp,
  deserializeError,
  deserializeResponse,
  type PageMessage,
  type SerializedRequest,
  type SerializedResponse,
  serializeRequest,
  type WorkerMessage,
} from './worker-protocol.js';

/** A `Worker`, or one end of a MessageChannel (tests). */
export interface WorkerEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message' | 'error' | 'messageerror', listener: (event: Event) => void): void;
  removeEventListener(type: 'message' | 'error' | 'messageerror', listener: (event: Event) => void): void;
  start?(): void;
  terminate?(): void;
  close?(): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** The worker script next to this module; written as one expression so bundlers (Vite) see and bundle it. */
function spawnWorker(workerUrl: string | URL | undefined): WorkerEndpoint {
  if (typeof Worker === 'undefined') throw new TypeError("options.mode 'worker' needs a browser with Web Workers");
  if (workerUrl !== undefined) return new Worker(workerUrl, { type: 'module' });
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
}

export function createWorkerClient(options: ResolvedOptions, endpoint?: WorkerEndpoint): AuthClient {
  const { settings } = options;
  const worker = endpoint ?? spawnWorker(options.workerUrl);
  const apiOrigins = new Set(settings.apiOrigins);
  const listeners = new Set<AuthEventListener>();
  const pending = new Map<number, Pending>();
  let snapshot: EngineSnapshot = { state: 'unknown' };
  let nextId = 1;
  let failure: AuthClientError | undefined;
  let closed = false;

  const emit = (event: AuthEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        (globalThis as { reportError?: (e: unknown) => void }).reportError?.(error);
      }
    }
  };

  const failAll = (error: AuthClientError) => {
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };

  const onMessage = (event: Event) => {
    const message = (event as MessageEvent).data as WorkerMessage | null;
    if (closed || typeof message !== 'object' || message === null) return;
    if (typeof message.snapshot === 'object' && message.snapshot !== null) snapshot = message.snapshot;
    if (message.t === 'event') emit(message.event);
    else if (message.t === 'result') {
      const call = pending.get(message.id);
      if (call === undefined) return;
      pending.delete(message.id);
      if (message.ok) call.resolve(message.value);
      else call.reject(deserializeError(message.error));
    }
  };
  const onError = (event: Event) => {
    if (event.type === 'error') event.preventDefault?.();
    failure = new AuthClientError('ERR_WORKER', 'The auth worker failed to load or crashed');
    failAll(failure);
  };
  worker.addEventListener('message', onMessage);
  worker.addEventListener('error', onError);
  worker.addEventListener('messageerror', onError);
  worker.start?.();
  worker.postMessage({ t: 'init', settings } satisfies PageMessage);

  const unwatch = watchPageLifecycle((reason) => {
    if (!closed) worker.postMessage({ t: 'wake', reason } satisfies PageMessage);
  });

  function call(op: CallOp, extra: Record<string, unknown> = {}, transfer: Transferable[] = [], signal?: AbortSignal) {
    if (closed) return Promise.reject(new AuthClientError('ERR_CLIENT_CLOSED'));
    if (failure !== undefined) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<unknown>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        worker.postMessage({ t: 'abort', id } satisfies PageMessage);
        pending.delete(id);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      pending.set(id, {
        resolve(value) {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject(error) {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      worker.postMessage({ t: 'call', id, op, ...extra }, transfer);
    });
  }

  const validCredentials = (credentials: Credentials, method: string) => {
    if (typeof credentials !== 'object' || credentials === null)
      throw new TypeError(`${method}: credentials must be an object with email and password`);
    // The worker validates the fields; only plain data can cross.
    return { email: credentials.email, password: credentials.password };
  };

  return {
    mode: 'worker',
    get state() {
      return snapshot.state;
    },
    async login(credentials) {
      await call('login', { credentials: validCredentials(credentials, 'login') });
    },
    async register(credentials) {
      await call('register', { credentials: validCredentials(credentials, 'register') });
    },
    async logout() {
      await call('logout');
    },
    async logoutEverywhere() {
      await call('logoutEverywhere');
    },
    async restore() {
      return (await call('restore')) === true;
    },
    async getUser() {
      return (await call('getUser')) as WhoAmI;
    },
    async fetch(input, init) {
      if (closed) throw new AuthClientError('ERR_CLIENT_CLOSED');
      if (init !== undefined && (typeof init !== 'object' || init === null))
        throw new TypeError('fetch: init must be an object');
      const url = resolveRequestUrl(input, (globalThis as { location?: { href: string } }).location?.href);
      // Only the API's requests go through the worker; the rest are the page's own business.
      if (!apiOrigins.has(url.origin)) return globalThis.fetch(input, init);
      if (isTokenEndpoint(url, settings.issuer))
        throw new TypeError('fetch: the token endpoints are not for fetch(); use login() and restore()');
      assertReplayableBody(init);
      const request =
        input instanceof Request ? new Request(input.clone(), init) : new Request(url.href, init ?? undefined);
      const serialized: SerializedRequest = await serializeRequest(request);
      const transfer = serialized.body === undefined ? [] : [serialized.body];
      const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
      const response = (await call(
        'fetch',
        { request: serialized },
        transfer,
        signal ?? undefined,
      )) as SerializedResponse;
      return deserializeResponse(response);
    },
    session(): SessionInfo | undefined {
      return snapshot.session;
    },
    onChange(listener) {
      if (typeof listener !== 'function') throw new TypeError('onChange: listener must be a function');
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close() {
      if (closed) return;
      try {
        worker.postMessage({ t: 'close' } satisfies PageMessage);
      } catch {
        // Already gone.
      }
      closed = true;
      unwatch();
      failAll(new AuthClientError('ERR_CLIENT_CLOSED'));
      listeners.clear();
      snapshot = { state: 'unknown' };
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
      worker.removeEventListener('messageerror', onError);
      worker.terminate?.();
      worker.close?.();
    },
  };
}
