/**
 * The auth server's pushed-revocation feed (`GET /auth/revocations`) as a {@link RevocationSource}.
 *
 * On start it loads the JSON snapshot of every still-relevant revocation (paging while the
 * server says `has_more`), then opens the SSE stream with `Last-Event-ID` = the snapshot's
 * `last_id`, so nothing revoked in between is missed. Every event and heartbeat counts as
 * contact (`stalenessSec`). When the stream drops it reconnects with exponential backoff and
 * jitter, resuming after the highest event id seen: the server replays what was missed. A
 * stream silent for longer than three heartbeats is treated as dropped (half-open connections).
 *
 * No dependency: `fetch` with a streaming body and a small SSE parser.
 */

import type { RevocableClaims, RevocationEvent, RevocationKind, RevocationSource } from './revocation-source.js';
import { RevocationState } from './revocation-state.js';

/** pino-style: a Fastify or pino logger fits. */
export interface RevocationFeedLogger {
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
}

export interface RevocationFeedOptions {
  /** The auth server's base URL (`https://auth.example.com`) or the full `/auth/revocations` URL. */
  readonly url: string;
  /** A confidential client holding the `revocations` scope. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
  readonly logger?: RevocationFeedLogger;
  /** First reconnect delay, ms. Default 250. */
  readonly reconnectMinMs?: number;
  /** Longest reconnect delay, ms. Default 10,000. */
  readonly reconnectMaxMs?: number;
  /**
   * Whole seconds since the epoch, for dropping expired entries. Default: the system clock.
   */
  readonly clock?: () => number;
  /**
   * Keep an entry this long after its `expiresAt`, seconds, so that a verifier accepting tokens
   * a little past `exp` (clock tolerance, skew between hosts) still sees it. Default 60.
   */
  readonly retainAfterExpirySec?: number;
  /**
   * A stream silent this long is considered dead and reconnected, ms. Default three heartbeat
   * intervals (as announced by the snapshot's `heartbeat_sec`) plus one second.
   */
  readonly idleTimeoutMs?: number;
}

export interface RevocationFeed extends RevocationSource {
  /** Resolves once the first snapshot is loaded; rejects if the feed is closed before that. */
  readonly ready: Promise<void>;
  /** The highest event id seen (snapshot or stream): where a reconnect resumes. */
  readonly lastEventId: number;
}

interface WireEvent {
  id: number;
  kind: RevocationKind;
  value: string;
  at: number;
  expires_at: number;
}

interface Snapshot {
  events: WireEvent[];
  last_id: number;
  relevance_sec?: number;
  heartbeat_sec?: number;
  has_more?: boolean;
}

const KINDS: readonly RevocationKind[] = ['jti', 'sid', 'sub', 'user_disabled', 'kid'];
const PATH = '/auth/revocations';

class FeedHttpError extends Error {
  constructor(readonly status: number) {
    super(`revocation feed answered HTTP ${status}`);
  }
}

function feedUrl(url: string): URL {
  const parsed = new URL(url);
  if (!parsed.pathname.replace(/\/+$/, '').endsWith(PATH)) {
    parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}${PATH}`;
  }
  return parsed;
}

function toEvent(wire: unknown): RevocationEvent | undefined {
  if (wire === null || typeof wire !== 'object') return undefined;
  const w = wire as Partial<WireEvent>;
  if (
    !Number.isSafeInteger(w.id) ||
    typeof w.value !== 'string' ||
    !KINDS.includes(w.kind as RevocationKind) ||
    typeof w.at !== 'number' ||
    typeof w.expires_at !== 'number'
  ) {
    return undefined;
  }
  return {
    id: w.id as number,
    kind: w.kind as RevocationKind,
    value: w.value,
    at: w.at,
    expiresAt: w.expires_at,
  };
}

/** Incremental `text/event-stream` parsing (the WHATWG rules that matter here). */
export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | undefined;
  readonly #onEvent: (message: { event: string; data: string; id: string | undefined }) => void;

  constructor(onEvent: (message: { event: string; data: string; id: string | undefined }) => void) {
    this.#onEvent = onEvent;
  }

  push(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (match === null) break;
      // A lone `\r` at the very end may be the first half of `\r\n`: wait for more.
      if (match[0] === '\r' && match.index === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0 || this.#event !== '') {
        this.#onEvent({
          event: this.#event === '' ? 'message' : this.#event,
          data: this.#data.join('\n'),
          id: this.#id,
        });
      }
      this.#data = [];
      this.#event = '';
      this.#id = undefined;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }
}

export function createRevocationFeed(options: RevocationFeedOptions): RevocationFeed {
  const url = feedUrl(options.url);
  const doFetch = options.fetch ?? globalThis.fetch;
  const clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
  const retainSec = options.retainAfterExpirySec ?? 60;
  const minMs = Math.max(1, options.reconnectMinMs ?? 250);
  const maxMs = Math.max(minMs, options.reconnectMaxMs ?? 10_000);
  const logger = options.logger;
  const authorization = `Basic ${Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64')}`;

  const state = new RevocationState(clock, retainSec, logger);
  const controller = new AbortController();
  let lastEventId = 0;
  let heartbeatSec: number | undefined;
  let closed = false;

  const touch = () => state.touch();

  const receive = (event: RevocationEvent) => {
    if (!state.apply(event)) {
      logger?.warn({ id: event.id, kind: event.kind }, 'malformed revocation event ignored');
      return;
    }
    if (event.id > lastEventId) lastEventId = event.id;
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closed) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        controller.signal.removeEventListener('abort', done);
        resolve();
      }
      controller.signal.addEventListener('abort', done, { once: true });
    });

  async function loadSnapshot(): Promise<void> {
    let after = lastEventId;
    for (;;) {
      const pageUrl = new URL(url);
      pageUrl.searchParams.set('format', 'json');
      if (after > 0) pageUrl.searchParams.set('after', String(after));
      const res = await doFetch(pageUrl, {
        headers: { accept: 'application/json', authorization },
        signal: controller.signal,
      });
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        throw new FeedHttpError(res.status);
      }
      const body = (await res.json()) as Snapshot;
      if (!Array.isArray(body.events) || !Number.isSafeInteger(body.last_id)) {
        throw new Error('revocation snapshot is malformed');
      }
      for (const wire of body.events) {
        const event = toEvent(wire);
        if (event === undefined) logger?.warn({}, 'malformed revocation event ignored');
        else receive(event);
      }
      if (body.last_id > lastEventId) lastEventId = body.last_id;
      if (typeof body.heartbeat_sec === 'number') heartbeatSec = body.heartbeat_sec;
      touch();
      if (body.has_more !== true || body.last_id <= after) return;
      after = body.last_id;
    }
  }

  /** One SSE connection, until it ends; returns whether it got as far as receiving something. */
  async function stream(): Promise<boolean> {
    const attempt = new AbortController();
    const abort = () => attempt.abort();
    controller.signal.addEventListener('abort', abort, { once: true });
    const idleMs = options.idleTimeoutMs ?? (heartbeatSec ?? 20) * 3000 + 1000;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      if (idle !== undefined) clearTimeout(idle);
      idle = setTimeout(() => {
        logger?.warn({ idleMs }, 'revocation stream silent; reconnecting');
        attempt.abort();
      }, idleMs);
      idle.unref?.();
    };
    let received = false;
    try {
      armIdle();
      const streamUrl = new URL(url);
      streamUrl.searchParams.set('format', 'sse');
      const res = await doFetch(streamUrl, {
        headers: {
          accept: 'text/event-stream',
          authorization,
          'last-event-id': String(lastEventId),
        },
        signal: attempt.signal,
      });
      if (!res.ok || res.body === null) {
        await res.body?.cancel().catch(() => {});
        throw new FeedHttpError(res.status);
      }
      const parser = new SseParser((message) => {
        received = true;
        touch();
        armIdle();
        if (message.event === 'revocation') {
          let parsed: unknown;
          try {
            parsed = JSON.parse(message.data);
          } catch {
            parsed = undefined;
          }
          const event = toEvent(parsed);
          if (event === undefined) logger?.warn({}, 'malformed revocation event ignored');
          else receive(event);
        }
      });
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.push(decoder.decode(value, { stream: true }));
      }
      logger?.info({ lastEventId }, 'revocation stream ended; reconnecting');
    } catch (error) {
      if (!closed) {
        logger?.warn(
          { err: error instanceof Error ? error.message : String(error), lastEventId },
          'revocation stream failed; reconnecting',
        );
      }
    } finally {
      if (idle !== undefined) clearTimeout(idle);
      controller.signal.removeEventListener('abort', abort);
      attempt.abort();
    }
    return received;
  }

  async function run(): Promise<void> {
    let failures = 0;
    const backoff = async () => {
      const base = Math.min(maxMs, minMs * 2 ** failures);
      failures += 1;
      // Equal jitter: between half and the whole delay, so restarted guards do not reconnect in step.
      await sleep(base / 2 + (Math.random() * base) / 2);
    };
    while (!closed) {
      try {
        await loadSnapshot();
        break;
      } catch (error) {
        if (closed) return;
        logger?.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'revocation snapshot failed; retrying',
        );
        await backoff();
      }
    }
    if (closed) return;
    state.markReady();
    failures = 0;
    while (!closed) {
      const received = await stream();
      if (closed) return;
      if (received) failures = 0;
      await backoff();
    }
  }

  run().catch((error: unknown) => {
    logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'revocation feed stopped');
  });

  return {
    ready: state.ready,
    get lastEventId() {
      return lastEventId;
    },
    isRevoked: (claims: RevocableClaims, kid?: string) => state.isRevoked(claims, kid),
    stalenessSec: () => state.stalenessSec(),
    onRevocation: (listener: (event: RevocationEvent) => void) => state.onRevocation(listener),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      controller.abort();
      state.close('revocation feed closed');
    },
  };
}
