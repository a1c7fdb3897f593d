/**
 * The BroadcastChannel the tabs (or workers) of one app talk over. Every message is checked for
 * its shape here: anything on the same origin can post to a channel. What a message may then do
 * is decided by its receiver (a shared token: `acceptSharedToken`; a lock lease: clamped by the
 * fallback lock). One channel carries both the session notices and, where Web Locks are
 * missing, the fallback lock's messages, so a token notice is always seen before the lock release
 * that follows it.
 */

import { MAX_TOKEN_LIFETIME_MS } from './access-token.js';

export type SignOutReason = 'logout' | 'logout-everywhere' | 'session-expired' | 'reuse-detected';

export type TabMessage =
  /** Memory mode only: a fresh access token for the other tabs to adopt. */
  | {
      readonly t: 'token';
      readonly token: string;
      readonly expiresAt: number;
      readonly lifetimeMs: number;
      readonly scope: string;
    }
  /** Worker mode: someone signed in; others refresh through the shared cookie themselves. */
  | { readonly t: 'signed-in' }
  /** Worker mode: someone refreshed (no token in it). */
  | { readonly t: 'refreshed'; readonly expiresAt: number }
  | { readonly t: 'signed-out'; readonly reason: SignOutReason; readonly code?: string }
  /** Fallback lock. */
  | { readonly t: 'lock-claim'; readonly id: string; readonly at: number; readonly n: number }
  | { readonly t: 'lock-held'; readonly id: string; readonly until: number }
  | { readonly t: 'lock-release'; readonly id: string };

const VERSION = 1;
const REASONS: ReadonlySet<string> = new Set(['logout', 'logout-everywhere', 'session-expired', 'reuse-detected']);

function isShortString(value: unknown, max = 200): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** The message, or undefined when `data` is not one of ours. */
export function parseTabMessage(data: unknown): TabMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const m = data as Record<string, unknown>;
  if (m.v !== VERSION) return undefined;
  switch (m.t) {
    case 'token':
      if (!isShortString(m.token, 16_384) || !/^[\x21-\x7e]+$/.test(m.token)) return undefined;
      if (!isTime(m.expiresAt) || !isTime(m.lifetimeMs) || m.lifetimeMs === 0 || m.lifetimeMs > MAX_TOKEN_LIFETIME_MS)
        return undefined;
      if (typeof m.scope !== 'string' || m.scope.length > 4096) return undefined;
      return { t: 'token', token: m.token, expiresAt: m.expiresAt, lifetimeMs: m.lifetimeMs, scope: m.scope };
    case 'signed-in':
      return { t: 'signed-in' };
    case 'refreshed':
      return isTime(m.expiresAt) ? { t: 'refreshed', expiresAt: m.expiresAt } : undefined;
    case 'signed-out': {
      if (typeof m.reason !== 'string' || !REASONS.has(m.reason)) return undefined;
      const reason = m.reason as SignOutReason;
      return isShortString(m.code, 64) ? { t: 'signed-out', reason, code: m.code } : { t: 'signed-out', reason };
    }
    case 'lock-claim':
      return isShortString(m.id, 64) && isTime(m.at) && typeof m.n === 'number' && Number.isFinite(m.n)
        ? { t: 'lock-claim', id: m.id, at: m.at, n: m.n }
        : undefined;
    case 'lock-held':
      return isShortString(m.id, 64) && isTime(m.until) ? { t: 'lock-held', id: m.id, until: m.until } : undefined;
    case 'lock-release':
      return isShortString(m.id, 64) ? { t: 'lock-release', id: m.id } : undefined;
    default:
      return undefined;
  }
}

export type TabMessageHandler = (message: TabMessage) => void;

export interface TabChannel {
  post(message: TabMessage): void;
  subscribe(handler: TabMessageHandler): () => void;
  close(): void;
}

export type BroadcastChannelConstructor = new (name: string) => BroadcastChannel;

export function openTabChannel(Channel: BroadcastChannelConstructor, name: string): TabChannel {
  const channel = new Channel(name);
  const handlers = new Set<TabMessageHandler>();
  let closed = false;
  channel.onmessage = (event: MessageEvent) => {
    const message = parseTabMessage(event.data);
    if (message === undefined) return;
    for (const handler of [...handlers]) handler(message);
  };
  return {
    post(message) {
      if (closed) return;
      try {
        channel.postMessage({ v: VERSION, ...message });
      } catch {
        // A closing page may refuse; the other tabs learn the same on their next refresh.
      }
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    close() {
      closed = true;
      handlers.clear();
      channel.onmessage = null;
      channel.close();
    },
  };
}
