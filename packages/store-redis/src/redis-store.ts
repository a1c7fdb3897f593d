/**
 * The Redis EphemeralStore for scale-out: several auth server instances share one jti
 * denylist, one set of token buckets and failure counters, and one revocation channel.
 *
 * Keys (all under `keyPrefix`): `jti:<jti>` (string: expiresAt), `rl:<key>` (hash: tokens,
 * at), `fail:<key>` (hash: count, at), `revocations` (stream: recent events, for revocation
 * sources that must not miss any). The pub/sub channel is `<keyPrefix>revocations`.
 *
 * When Redis is unreachable every method rejects within about `commandTimeoutMs` with the
 * `ERR_SERVICE_UNAVAILABLE` AuthError (a 503), with one configurable exception: rate limits,
 * see `rateLimitWhenUnavailable`. A denylist check never answers "not denied" because it could
 * not ask. See docs/storage.md, "Redis".
 */

import { AuthError } from '@tessera/core';
import type { EphemeralStore, FailureCount, RevocationEvent } from '@tessera/server/contracts';
import type { Redis } from 'ioredis';
import { type RedisConnectionOptions, type ResolvedConnection, resolveConnection, whenReady } from './connection.js';
import { toStoreError, unavailableError } from './errors.js';
import { checkRevocation, decodeRevocation, encodeRevocation } from './revocation-codec.js';
import { DENY_JTI, type LuaScript, PUBLISH_REVOCATION, RECORD_FAILURE, runScript, TAKE_TOKEN } from './scripts.js';

/** What a rate-limit check does while Redis is unreachable. */
export type UnavailablePolicy = 'closed' | 'open';

export interface RedisStoreOptions extends RedisConnectionOptions {
  /**
   * Rate limits while Redis is unreachable: `'closed'` rejects with the 503 error, `'open'`
   * allows the request (and logs a warning). A function decides per bucket key (the server's
   * keys are `rl:<limit>:<subject>`, limits `login_ip`, `login_account`, `register_ip`,
   * `refresh_ip`). Default `'closed'` for every key.
   */
  readonly rateLimitWhenUnavailable?: UnavailablePolicy | ((key: string) => UnavailablePolicy);
  /**
   * How long published events stay in the revocation stream, seconds; revocation sources that
   * were disconnected for less than this catch up without a gap. Default 7200 (twice the
   * longest access token life); at least the server's revocation relevance.
   */
  readonly streamRetentionSec?: number;
  /** Upper bound on the revocation stream's length, entries (approximate). Default 100,000. */
  readonly streamMaxLength?: number;
}

/** Longest accepted key or jti, characters: these come from requests and tokens. */
const MAX_KEY_LENGTH = 512;

function checkKey(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_KEY_LENGTH) {
    throw new TypeError(`${field} must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`);
  }
  return value;
}

function checkNumber(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TypeError(`${field} must be a finite number >= ${min}`);
  }
  return value;
}

function checkInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${field} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** Memory hygiene for keys whose meaning ends by the caller's clock; a day past the state's own life. */
const EXPIRY_SLACK_SEC = 86_400;

export class RedisStore implements EphemeralStore {
  readonly keyPrefix: string;
  /** The command connection. */
  readonly client: Redis;
  readonly #connection: ResolvedConnection;
  readonly #channel: string;
  readonly #streamKey: string;
  readonly #retentionMs: number;
  readonly #maxLength: number;
  readonly #rateLimitPolicy: (key: string) => UnavailablePolicy;
  readonly #listeners = new Set<(event: RevocationEvent) => void>();
  readonly #logger: RedisConnectionOptions['logger'];
  /** The pub/sub connection, opened by the first `subscribe`. */
  #subscriber: Redis | undefined;
  /** Settles when the first SUBSCRIBE was acknowledged; publish waits for it (see publish). */
  #subscribed: Promise<void> | undefined;
  #closed = false;

  constructor(options: RedisStoreOptions) {
    this.#connection = resolveConnection(options);
    this.keyPrefix = this.#connection.keyPrefix;
    this.#channel = `${this.keyPrefix}revocations`;
    this.#streamKey = `${this.keyPrefix}revocations`;
    this.#retentionMs = checkInteger(options.streamRetentionSec ?? 7200, 'streamRetentionSec', 60, 30 * 86_400) * 1000;
    this.#maxLength = checkInteger(options.streamMaxLength ?? 100_000, 'streamMaxLength', 100, 10_000_000);
    const policy = options.rateLimitWhenUnavailable ?? 'closed';
    if (typeof policy === 'function') {
      this.#rateLimitPolicy = (key) => (policy(key) === 'open' ? 'open' : 'closed');
    } else if (policy === 'open' || policy === 'closed') {
      this.#rateLimitPolicy = () => policy;
    } else {
      throw new TypeError("rateLimitWhenUnavailable must be 'open', 'closed' or a function of the key");
    }
    this.#logger = options.logger;
    this.client = this.#connection.open('tessera-store');
  }

  /** Runs one command once the connection is ready; failures become store errors. */
  async #run<T>(operation: string, command: (client: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) throw unavailableError(operation, new Error('store is closed'));
    try {
      await whenReady(this.client, operation, this.#connection.commandTimeoutMs);
      return await command(this.client);
    } catch (error) {
      throw toStoreError(operation, error);
    }
  }

  #script(operation: string, script: LuaScript, keys: readonly string[], args: readonly (string | number)[]) {
    return this.#run(operation, (client) => runScript(client, script, keys, args));
  }

  async ping(): Promise<void> {
    await this.#run('ping', (client) => client.ping());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    await Promise.all([quit(this.client), subscriber === undefined ? undefined : quit(subscriber)]);
  }

  async denyJti(jti: string, expiresAt: number): Promise<void> {
    checkKey(jti, 'jti');
    checkInteger(expiresAt, 'expiresAt', 0, Number.MAX_SAFE_INTEGER);
    await this.#script('denyJti', DENY_JTI, [`${this.keyPrefix}jti:${jti}`], [expiresAt]);
  }

  /** Fails closed: an unreachable Redis is an error (503), never "not denied". */
  async isJtiDenied(jti: string, now: number): Promise<boolean> {
    checkKey(jti, 'jti');
    const value = await this.#run('isJtiDenied', (client) => client.get(`${this.keyPrefix}jti:${jti}`));
    return value !== null && Number(value) > now;
  }

  async takeToken(
    key: string,
    capacity: number,
    refillPerSec: number,
    now: number,
  ): Promise<{ allowed: boolean; retryAfterSec: number }> {
    checkKey(key, 'key');
    checkNumber(capacity, 'capacity', 1);
    checkNumber(refillPerSec, 'refillPerSec', 0);
    checkNumber(now, 'now', 0);
    // After this long the bucket would be full again, so forgetting it changes nothing.
    const ttlSec = Math.ceil(refillPerSec > 0 ? capacity / refillPerSec : EXPIRY_SLACK_SEC) + 60;
    let reply: unknown;
    try {
      reply = await this.#script(
        'takeToken',
        TAKE_TOKEN,
        [`${this.keyPrefix}rl:${key}`],
        [capacity, refillPerSec, now, ttlSec],
      );
    } catch (error) {
      if (
        error instanceof AuthError &&
        error.code === 'ERR_SERVICE_UNAVAILABLE' &&
        this.#rateLimitPolicy(key) === 'open'
      ) {
        this.#logger?.warn({ key, detail: error.detail }, 'rate limit not enforced: redis unavailable (fail-open)');
        return { allowed: true, retryAfterSec: 0 };
      }
      throw error;
    }
    const [allowed, retryAfterSec] = reply as [number, number];
    return { allowed: allowed === 1, retryAfterSec };
  }

  async recordFailure(key: string, now: number, ttlSec: number): Promise<FailureCount> {
    checkKey(key, 'key');
    checkInteger(now, 'now', 0, Number.MAX_SAFE_INTEGER);
    checkInteger(ttlSec, 'ttlSec', 1, 365 * 86_400);
    const count = await this.#script(
      'recordFailure',
      RECORD_FAILURE,
      [`${this.keyPrefix}fail:${key}`],
      [now, ttlSec, ttlSec + EXPIRY_SLACK_SEC],
    );
    return { count: Number(count), lastAt: now };
  }

  async getFailures(key: string, now: number, ttlSec: number): Promise<FailureCount> {
    checkKey(key, 'key');
    const [count, at] = await this.#run('getFailures', (client) =>
      client.hmget(`${this.keyPrefix}fail:${key}`, 'count', 'at'),
    );
    if (count === null || count === undefined || at === null || at === undefined) return { count: 0, lastAt: 0 };
    const lastAt = Number(at);
    if (now - lastAt > ttlSec) return { count: 0, lastAt: 0 };
    return { count: Number(count), lastAt };
  }

  async clearFailures(key: string): Promise<void> {
    checkKey(key, 'key');
    await this.#run('clearFailures', (client) => client.del(`${this.keyPrefix}fail:${key}`));
  }

  /**
   * Appends the event to the revocation stream and publishes it, atomically. A failure is
   * thrown (503): the event is already in the durable log, which stays the source of truth.
   * While this store's own subscription is still being set up, publishing waits for it (at
   * most `commandTimeoutMs`) so this instance's subscribers do not miss what it publishes.
   */
  async publish(event: RevocationEvent): Promise<void> {
    checkRevocation(event);
    const subscribed = this.#subscribed;
    if (subscribed !== undefined) await withTimeout(subscribed, this.#connection.commandTimeoutMs);
    await this.#script(
      'publish',
      PUBLISH_REVOCATION,
      [this.#streamKey],
      [this.#channel, encodeRevocation(event), this.#maxLength, this.#retentionMs],
    );
  }

  /**
   * Delivers every event published on the channel (by any instance) to `listener`, in
   * publish order. The subscription lives on its own connection, which ioredis resubscribes
   * after a reconnect; events published while it was down are not replayed here (the durable
   * log and the revocation stream are where consumers catch up).
   */
  subscribe(listener: (event: RevocationEvent) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    if (this.#closed) throw unavailableError('subscribe', new Error('store is closed'));
    this.#listeners.add(listener);
    if (this.#subscriber === undefined) this.#openSubscriber();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Resolves once the pub/sub subscription is live (at once when nothing subscribed), so a
   * caller can be sure events published elsewhere from then on reach its listeners.
   */
  whenSubscribed(): Promise<void> {
    return this.#subscribed ?? Promise.resolve();
  }

  #openSubscriber(): void {
    const subscriber = this.#connection.open('tessera-subscriber', true);
    this.#subscriber = subscriber;
    subscriber.on('message', (channel: string, payload: string) => {
      if (channel !== this.#channel) return;
      const event = decodeRevocation(payload);
      if (event === undefined) {
        this.#logger?.warn({ channel }, 'malformed revocation message ignored');
        return;
      }
      for (const listener of [...this.#listeners]) {
        try {
          listener(event);
        } catch (error) {
          process.emitWarning(
            `a revocation subscriber threw: ${error instanceof Error ? error.message : String(error)}`,
            'TesseraWarning',
          );
        }
      }
    });
    this.#subscribed = this.#subscribeUntilDone(subscriber);
  }

  /** SUBSCRIBE, retried until it succeeds or the store closes (ioredis resubscribes after that). */
  async #subscribeUntilDone(subscriber: Redis): Promise<void> {
    while (!this.#closed && this.#subscriber === subscriber) {
      try {
        await whenReady(subscriber, 'subscribe', this.#connection.commandTimeoutMs);
        await subscriber.subscribe(this.#channel);
        return;
      } catch {
        await new Promise<void>((resolve) => {
          if (subscriber.status === 'ready') return setTimeout(resolve, 100).unref();
          const timer = setTimeout(done, this.#connection.reconnectMaxMs);
          timer.unref();
          function done() {
            clearTimeout(timer);
            subscriber.off('ready', done);
            resolve();
          }
          subscriber.once('ready', done);
        });
      }
    }
  }
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

/** QUIT when connected (lets pending replies arrive); otherwise just drop the socket. */
async function quit(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through to disconnect
    }
  }
  client.disconnect();
}

export function createRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}
