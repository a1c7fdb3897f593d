/**
 * A guard {@link RevocationSource} that reads revocations straight from Redis, for resource
 * servers that sit next to the auth servers' Redis and need no HTTP feed.
 *
 * Design: the store's `publish` appends every event to a capped Redis Stream (and publishes
 * it on the channel, for the auth servers). This source consumes the stream only, with XREAD:
 * first from the beginning (everything still retained: the snapshot), then `XREAD BLOCK` from
 * the last entry id it has seen. A reconnect simply continues from that id, so there is no
 * window between "catch up" and "go live" and no pub/sub message to lose: the stream is both.
 * Every XREAD answer, including an empty one after the block time, is contact with Redis and
 * resets `stalenessSec`, so a guard with `onStale: 'fail-closed'` stops accepting tokens when
 * Redis has been unreachable for longer than its `maxStalenessSec`.
 */

import { type RevocableClaims, type RevocationEvent, type RevocationSource, RevocationState } from '@tessera/guard';
import type { Redis } from 'ioredis';
import { type RedisConnectionOptions, resolveConnection } from './connection.js';
import { decodeRevocation } from './revocation-codec.js';

export interface RedisRevocationSourceOptions extends RedisConnectionOptions {
  /** Whole seconds since the epoch, for dropping expired entries. Default: the system clock. */
  readonly clock?: () => number;
  /**
   * Keep an entry this long after its `expiresAt`, seconds, so a verifier accepting tokens a
   * little past `exp` (clock tolerance) still sees it. Default 60.
   */
  readonly retainAfterExpirySec?: number;
  /**
   * How long one XREAD waits for new entries, ms; also how often an idle source hears from
   * Redis, so keep it well under the guard's `maxStalenessSec`. Default 5000.
   */
  readonly blockMs?: number;
  /** Entries per XREAD. Default 500. */
  readonly batchSize?: number;
}

export interface RedisRevocationSource extends RevocationSource {
  /** Resolves once everything retained in the stream has been read; rejects if closed first. */
  readonly ready: Promise<void>;
  /** The id of the last stream entry read: where the next read (and a reconnect) resumes. */
  readonly lastStreamId: string;
}

class DeadlineError extends Error {}

function checkInt(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${field} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** The entries of one XREAD reply on one stream: `[[key, [[id, [field, value, ...]], ...]]]`. */
function entriesOf(reply: unknown): [string, string | undefined][] {
  if (!Array.isArray(reply)) return [];
  const out: [string, string | undefined][] = [];
  for (const stream of reply) {
    const entries = Array.isArray(stream) ? stream[1] : undefined;
    if (!Array.isArray(entries)) continue;
    for (const entry of entries) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
      const fields = Array.isArray(entry[1]) ? (entry[1] as unknown[]) : [];
      let payload: string | undefined;
      for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'event') payload = String(fields[i + 1]);
      out.push([entry[0], payload]);
    }
  }
  return out;
}

export function createRedisRevocationSource(options: RedisRevocationSourceOptions): RedisRevocationSource {
  const connection = resolveConnection(options);
  const clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
  if (typeof clock !== 'function') throw new TypeError('clock must be a function');
  const retainSec = checkInt(options.retainAfterExpirySec ?? 60, 'retainAfterExpirySec', 0, 86_400);
  const blockMs = checkInt(options.blockMs ?? 5000, 'blockMs', 10, 60_000);
  const batchSize = checkInt(options.batchSize ?? 500, 'batchSize', 1, 100_000);
  const logger = options.logger;
  const streamKey = `${connection.keyPrefix}revocations`;
  const client: Redis = connection.open('tessera-revocation-source', true);

  const state = new RevocationState(clock, retainSec, logger);
  let lastStreamId = '0-0';
  let closed = false;
  let wake: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closed) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        client.off('ready', done);
        wake = undefined;
        resolve();
      }
      // A restored connection ends the wait early.
      client.once('ready', done);
      wake = done;
    });

  const receive = (id: string, payload: string | undefined) => {
    lastStreamId = id;
    const event = payload === undefined ? undefined : decodeRevocation(payload);
    if (event === undefined || !state.apply(event))
      logger?.warn({ streamId: id }, 'malformed revocation entry ignored');
  };

  /** One XREAD with a deadline; a connection that does not answer in time is dropped and reopened. */
  async function read(block: boolean): Promise<unknown> {
    const args: (string | number)[] = ['COUNT', batchSize];
    if (block) args.push('BLOCK', blockMs);
    args.push('STREAMS', streamKey, lastStreamId);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DeadlineError('XREAD did not answer in time')),
        (block ? blockMs : 0) + connection.commandTimeoutMs,
      );
    });
    try {
      return await Promise.race([client.call('XREAD', ...args), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function run(): Promise<void> {
    let caughtUp = false;
    let failures = 0;
    while (!closed) {
      if (client.status !== 'ready') {
        await sleep(connection.reconnectMaxMs);
        continue;
      }
      try {
        const entries = entriesOf(await read(caughtUp));
        state.touch();
        failures = 0;
        for (const [id, payload] of entries) receive(id, payload);
        if (!caughtUp && entries.length < batchSize) {
          caughtUp = true;
          state.markReady();
        }
      } catch (error) {
        if (closed) return;
        logger?.warn(
          { err: error instanceof Error ? error.message : String(error), lastStreamId },
          'revocation stream read failed; retrying',
        );
        if (error instanceof DeadlineError) client.disconnect(true);
        failures += 1;
        await sleep(Math.min(connection.reconnectMaxMs, 25 * 2 ** Math.min(failures, 10)));
      }
    }
  }

  run().catch((error: unknown) => {
    logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'revocation source stopped');
  });

  return {
    ready: state.ready,
    get lastStreamId() {
      return lastStreamId;
    },
    isRevoked: (claims: RevocableClaims, kid?: string) => state.isRevoked(claims, kid),
    stalenessSec: () => state.stalenessSec(),
    onRevocation: (listener: (event: RevocationEvent) => void) => state.onRevocation(listener),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      state.close('revocation source closed');
      wake?.();
      client.disconnect();
    },
  };
}
