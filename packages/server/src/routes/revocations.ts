/**
 * GET /auth/revocations: the pushed-revocation feed for guards (resource servers), for
 * registered confidential clients holding the `revocations` scope (HTTP Basic).
 *
 * Two representations of the ordered revocation log:
 * - JSON (`Accept: application/json`, `?format=json`, or any Accept without
 *   `text/event-stream`): a snapshot of every event still relevant,
 *   `{events: [{id, kind, value, at, expires_at}], last_id, relevance_sec, heartbeat_sec, has_more}`.
 *   At most {@link SNAPSHOT_MAX_EVENTS} events per response; `has_more: true` means "ask again
 *   with `?after=<last_id>`".
 * - SSE (`Accept: text/event-stream`, or `?format=sse`): `retry: 1000`, then a replay of every
 *   relevant event after `Last-Event-ID` (or `?after=`), then live events as they are published
 *   (`id: <id>`, `event: revocation`, `data: <json>`), with `event: heartbeat` /
 *   `data: {"at": <now>}` (no id) right after the replay and every `revocationHeartbeatSec`.
 *
 * No gaps, no duplicates: the stream subscribes before it reads the log and buffers what is
 * published meanwhile; every event is sent at most once (ids already sent are remembered).
 * Before every heartbeat the stream also reads the log after the highest id it read, so
 * revocations that were written by another process on the same store (the CLI, a second
 * instance) and therefore never published here still arrive, at the latest one heartbeat later.
 * A heartbeat thus means "everything in the log up to now has been sent".
 */

import { AuthError } from '@tessera/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RevocationEvent } from '../contracts.js';
import { authenticateClient, sendClientEndpointError } from '../http/client-auth.js';
import type { RouteContext } from '../http/context.js';
import { ClientRegistry } from '../services/clients.js';

/** Events per store read. */
export const REVOCATION_PAGE = 500;
/** The most events in one JSON snapshot response. */
export const SNAPSHOT_MAX_EVENTS = 10_000;
/** Ids remembered per stream for de-duplication (FIFO). */
const SENT_IDS_KEPT = 10_000;
/** A stream whose client does not read is cut off past this much unsent output (it reconnects and resumes). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface RevocationEventJson {
  readonly id: number;
  readonly kind: RevocationEvent['kind'];
  readonly value: string;
  readonly at: number;
  readonly expires_at: number;
}

export interface RevocationSnapshot {
  readonly events: readonly RevocationEventJson[];
  /** The highest id in `events`, or the `after` asked for when there are none. */
  readonly last_id: number;
  /** How long an event matters after `at`, seconds. */
  readonly relevance_sec: number;
  /** Heartbeat interval of the event stream, seconds. */
  readonly heartbeat_sec: number;
  /** True when the response was capped: ask again with `?after=<last_id>`. */
  readonly has_more: boolean;
}

export function revocationEventJson(event: RevocationEvent): RevocationEventJson {
  return { id: event.id, kind: event.kind, value: event.value, at: event.at, expires_at: event.expiresAt };
}

interface Query {
  readonly format?: string;
  readonly after?: string;
}

/** A non-negative safe integer from a header or query value; undefined when absent. */
function parseId(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value.trim())) {
    throw new AuthError('ERR_VALIDATION', { claim: name, detail: `${name} must be a non-negative integer` });
  }
  return Number(value.trim());
}

function wantsStream(request: FastifyRequest<{ Querystring: Query }>): boolean {
  const format = request.query.format;
  if (format === 'json') return false;
  if (format === 'sse' || format === 'event-stream') return true;
  if (format !== undefined) {
    throw new AuthError('ERR_VALIDATION', { claim: 'format', detail: 'format must be json or sse' });
  }
  const accept = String(request.headers.accept ?? '').toLowerCase();
  return accept.includes('text/event-stream');
}

async function snapshot(ctx: RouteContext, after: number): Promise<RevocationSnapshot> {
  const now = ctx.clock();
  const events: RevocationEventJson[] = [];
  let cursor = after;
  let hasMore = false;
  for (;;) {
    const limit = Math.min(REVOCATION_PAGE, SNAPSHOT_MAX_EVENTS - events.length);
    const page = await ctx.durable.listRevocations(cursor, limit, now);
    for (const event of page) events.push(revocationEventJson(event));
    if (page.length > 0) cursor = (page[page.length - 1] as RevocationEvent).id;
    if (page.length < limit) break;
    if (events.length >= SNAPSHOT_MAX_EVENTS) {
      // Capped: more only if the log really holds another relevant event.
      hasMore = (await ctx.durable.listRevocations(cursor, 1, now)).length > 0;
      break;
    }
  }
  return {
    events,
    last_id: cursor,
    relevance_sec: ctx.revocation.relevanceSec,
    heartbeat_sec: ctx.config.revocationHeartbeatSec,
    has_more: hasMore,
  };
}

/** One open event stream. */
class RevocationStream {
  readonly #ctx: RouteContext;
  readonly #request: FastifyRequest;
  readonly #res: FastifyReply['raw'];
  readonly #onEnd: (stream: RevocationStream) => void;
  /** Ids already sent (insertion order = FIFO eviction). */
  readonly #sent = new Set<number>();
  /** Highest id read from the log so far: where the next log read starts. */
  #cursor: number;
  /** Events published while the log is being read (replay or poll); flushed afterwards. */
  #buffer: RevocationEvent[] | undefined = [];
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;
  #polling = false;

  constructor(
    ctx: RouteContext,
    request: FastifyRequest,
    reply: FastifyReply,
    after: number,
    onEnd: (s: RevocationStream) => void,
  ) {
    this.#ctx = ctx;
    this.#request = request;
    this.#res = reply.raw;
    this.#cursor = after;
    this.#onEnd = onEnd;
  }

  get ended(): boolean {
    return this.#ended;
  }

  async start(): Promise<void> {
    const res = this.#res;
    // The client went away (or the response ended): release everything.
    res.on('close', () => this.end());
    // Subscribe first, so nothing published while the log is read is lost.
    this.#unsubscribe = this.#ctx.ephemeral.subscribe((event) => this.#onLive(event));
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    res.flushHeaders();
    this.#write('retry: 1000\n\n');
    await this.#catchUp();
    if (this.#ended) return;
    const intervalMs = this.#ctx.config.revocationHeartbeatSec * 1000;
    this.#timer = setInterval(() => {
      this.#catchUp().catch((error: unknown) => this.#fail(error));
    }, intervalMs);
    this.#timer.unref();
  }

  /** Reads the log after the cursor, sends what was not sent, flushes the buffer, then a heartbeat. */
  async #catchUp(): Promise<void> {
    if (this.#ended || this.#polling) return;
    this.#polling = true;
    this.#buffer ??= [];
    try {
      const now = this.#ctx.clock();
      for (;;) {
        const page = await this.#ctx.durable.listRevocations(this.#cursor, REVOCATION_PAGE, now);
        if (this.#ended) return;
        for (const event of page) this.#send(event);
        if (page.length > 0) this.#cursor = (page[page.length - 1] as RevocationEvent).id;
        if (page.length < REVOCATION_PAGE) break;
        await this.#drained();
      }
      const buffered = this.#buffer;
      this.#buffer = undefined;
      for (const event of buffered) this.#send(event);
      this.#write(`event: heartbeat\ndata: ${JSON.stringify({ at: this.#ctx.clock() })}\n\n`);
    } finally {
      this.#buffer = undefined;
      this.#polling = false;
    }
  }

  #onLive(event: RevocationEvent): void {
    if (this.#ended) return;
    if (this.#buffer !== undefined) this.#buffer.push(event);
    else this.#send(event);
  }

  #send(event: RevocationEvent): void {
    if (this.#sent.has(event.id)) return;
    this.#sent.add(event.id);
    if (this.#sent.size > SENT_IDS_KEPT) {
      const oldest = this.#sent.values().next().value as number;
      this.#sent.delete(oldest);
    }
    this.#write(`id: ${event.id}\nevent: revocation\ndata: ${JSON.stringify(revocationEventJson(event))}\n\n`);
  }

  #write(chunk: string): void {
    if (this.#ended) return;
    this.#res.write(chunk);
    if (this.#res.writableLength > MAX_BUFFERED_BYTES) {
      this.#request.log.warn({ buffered: this.#res.writableLength }, 'revocation stream client too slow; closing');
      this.#res.destroy();
      this.end();
    }
  }

  /** Waits for the socket to drain during a long replay. */
  async #drained(): Promise<void> {
    if (this.#ended || !this.#res.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#res.off('drain', done);
        this.#res.off('close', done);
        resolve();
      };
      this.#res.on('drain', done);
      this.#res.on('close', done);
    });
  }

  #fail(error: unknown): void {
    this.#request.log.error({ err: error }, 'revocation stream failed; closing');
    this.end();
  }

  /** Releases the subscription and the timer, and ends the response. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#buffer = undefined;
    if (!this.#res.writableEnded && !this.#res.destroyed) {
      // A stream's connection is never reused: end the socket too, so a server that is closing
      // does not wait for it to go idle.
      const socket = this.#res.socket;
      this.#res.end();
      socket?.end();
      // A peer that never acknowledges must not hold the socket (and a closing server) either.
      setTimeout(() => socket?.destroy(), 1000).unref();
    }
    this.#onEnd(this);
  }
}

export function revocationsRoute(app: FastifyInstance, ctx: RouteContext): void {
  const registry = new ClientRegistry(ctx.durable, ctx.clock);
  const streams = new Set<RevocationStream>();
  // preClose, not onClose: open streams are in-flight requests that would keep the HTTP server's
  // close (and so app.close()) waiting forever.
  app.addHook('preClose', async () => {
    for (const stream of [...streams]) stream.end();
  });
  app.get<{ Querystring: Query }>('/auth/revocations', async function revocations(request, reply) {
    let after: number;
    let stream: boolean;
    try {
      await authenticateClient(ctx, registry, request, {}, 'revocations');
      stream = wantsStream(request);
      const header = request.headers['last-event-id'];
      after =
        parseId(Array.isArray(header) ? header[0] : header, 'Last-Event-ID') ??
        parseId(request.query.after, 'after') ??
        0;
    } catch (error) {
      if (error instanceof AuthError) return sendClientEndpointError(request, reply, error);
      throw error;
    }
    if (!stream) return reply.send(await snapshot(ctx, after));

    reply.hijack();
    const feed = new RevocationStream(ctx, request, reply, after, (s) => streams.delete(s));
    streams.add(feed);
    try {
      await feed.start();
    } catch (error) {
      request.log.error({ err: error }, 'revocation stream failed to start');
      if (!reply.raw.headersSent) reply.raw.writeHead(503, { 'content-type': 'application/json' });
      feed.end();
    }
  });
}
