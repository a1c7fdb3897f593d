/**
 * Worker side of worker mode: runs the engine and answers the page's calls. The token stays in
 * here; the page gets results, events and session snapshots, never the token.
 */

import { AuthEngine, type EngineEnvironment } from './auth-engine.js';
import { AuthClientError } from './errors.js';
import { platformEnvironment } from './memory-client.js';
import { isEngineSettings } from './options.js';
import {
  type PageMessage,
  requestInitOf,
  type SerializedRequest,
  serializeError,
  serializeResponse,
  type WorkerMessage,
} from './worker-protocol.js';

/** A dedicated worker's global scope, or one end of a MessageChannel (tests). */
export interface WorkerHostEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  start?(): void;
  close?(): void;
}

export interface WorkerHostOptions {
  /** Replaces parts of the worker's platform environment (tests: a cookie-jar fetch). */
  readonly environment?: Partial<EngineEnvironment>;
}

export interface WorkerHost {
  close(): void;
}

function isSerializedRequest(value: unknown): value is SerializedRequest {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.url === 'string' &&
    typeof r.method === 'string' &&
    Array.isArray(r.headers) &&
    r.headers.every(
      (h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string',
    ) &&
    (r.body === undefined || r.body instanceof ArrayBuffer)
  );
}

export function serveAuthWorker(endpoint: WorkerHostEndpoint, options: WorkerHostOptions = {}): WorkerHost {
  let engine: AuthEngine | undefined;
  let closed = false;
  const aborts = new Map<number, AbortController>();

  const post = (message: WorkerMessage, transfer: Transferable[] = []) => {
    if (!closed) endpoint.postMessage(message, transfer);
  };
  const snapshot = () => engine?.snapshot() ?? { state: 'unknown' as const };

  async function perform(message: Extract<PageMessage, { t: 'call' }>, active: AuthEngine): Promise<unknown> {
    switch (message.op) {
      case 'login':
        return active.login(message.credentials);
      case 'register':
        return active.register(message.credentials);
      case 'logout':
        return active.logout();
      case 'logoutEverywhere':
        return active.logoutEverywhere();
      case 'restore':
        return active.restore();
      case 'getUser':
        return active.getUser();
      case 'fetch': {
        if (!isSerializedRequest(message.request)) throw new TypeError('fetch: malformed request');
        const controller = new AbortController();
        aborts.set(message.id, controller);
        try {
          const response = await active.fetch(message.request.url, requestInitOf(message.request, controller.signal));
          return await serializeResponse(response);
        } finally {
          aborts.delete(message.id);
        }
      }
      default:
        throw new TypeError('unknown operation');
    }
  }

  async function call(message: Extract<PageMessage, { t: 'call' }>): Promise<void> {
    try {
      if (engine === undefined) throw new AuthClientError('ERR_WORKER', 'The worker was not initialised');
      const value = await perform(message, engine);
      const body = (value as { body?: unknown } | undefined)?.body;
      post(
        { t: 'result', id: message.id, ok: true, ...(value === undefined ? {} : { value }), snapshot: snapshot() },
        message.op === 'fetch' && body instanceof ArrayBuffer ? [body] : [],
      );
    } catch (error) {
      post({ t: 'result', id: message.id, ok: false, error: serializeError(error), snapshot: snapshot() });
    }
  }

  function onMessage(event: MessageEvent): void {
    const message = event.data as PageMessage | null;
    if (closed || typeof message !== 'object' || message === null) return;
    switch (message.t) {
      case 'init': {
        if (engine !== undefined || !isEngineSettings(message.settings)) return;
        engine = new AuthEngine(message.settings, platformEnvironment(options.environment), { shareTokens: false });
        engine.onChange((authEvent) => post({ t: 'event', event: authEvent, snapshot: snapshot() }));
        return;
      }
      case 'call':
        if (typeof message.id === 'number') void call(message);
        return;
      case 'abort':
        aborts.get(message.id)?.abort();
        return;
      case 'wake':
        if (message.reason === 'visible' || message.reason === 'online') engine?.wake(message.reason);
        return;
      case 'close':
        host.close();
        return;
      default:
        return;
    }
  }

  endpoint.addEventListener('message', onMessage);
  endpoint.start?.();
  const host: WorkerHost = {
    close() {
      if (closed) return;
      closed = true;
      for (const controller of aborts.values()) controller.abort();
      engine?.close();
      endpoint.removeEventListener('message', onMessage);
      endpoint.close?.();
    },
  };
  return host;
}
