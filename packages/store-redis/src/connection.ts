/**
 * Opening ioredis connections that fail fast and heal themselves. While Redis is away a
 * command must not wait in a queue (it would hang the request, then run late, e.g. take a
 * rate-limit token minutes after the request that wanted it was answered): the offline queue
 * is off, in-flight commands are failed on disconnect instead of being resent, and every
 * command has a timeout. Reconnects run in the background with a capped backoff, so the
 * process recovers on its own when Redis returns.
 */

import { Redis, type RedisOptions } from 'ioredis';
import { unavailableError } from './errors.js';

/** Where and how to connect; shared by the store and the revocation source. */
export interface RedisConnectionOptions {
  /** A `redis://` or `rediss://` URL. One of `url` or `redis` is required. */
  readonly url?: string;
  /**
   * ioredis options (host, port, password, tls, sentinels...). The fail-fast settings
   * (`enableOfflineQueue`, `maxRetriesPerRequest`, `commandTimeout`) are Tessera's and
   * override these; `keyPrefix` is refused (use Tessera's `keyPrefix`, which also names the
   * pub/sub channel).
   */
  readonly redis?: RedisOptions;
  /**
   * Every key and the revocation channel start with this. Default `'tessera:'`. Letters,
   * digits and `:_-.` only, 1-64 characters, so it is safe inside a SCAN pattern.
   */
  readonly keyPrefix?: string;
  /** Longest wait for one command or for a connection being (re)established, ms. Default 1000. */
  readonly commandTimeoutMs?: number;
  /** Longest pause between reconnect attempts, ms. Default 1000. */
  readonly reconnectMaxMs?: number;
  /** Connection losses and recoveries are logged here (pino-style). Default: none. */
  readonly logger?: RedisLogger;
}

/** pino-style: a Fastify or pino logger fits. */
export interface RedisLogger {
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
}

export interface ResolvedConnection {
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly reconnectMaxMs: number;
  /** Opens one connection; `blocking` connections get no per-command timeout (BLOCK waits). */
  open(name: string, blocking?: boolean): Redis;
}

const PREFIX = /^[A-Za-z0-9:_\-.]{1,64}$/;

function checkMs(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${field} must be an integer number of milliseconds between ${min} and ${max}`);
  }
  return value;
}

/** Validates the options (a `TypeError` names the bad field) and returns a connection factory. */
export function resolveConnection(options: RedisConnectionOptions): ResolvedConnection {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { url, redis } = options;
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url))) {
    throw new TypeError('url must be a redis:// or rediss:// URL');
  }
  if (redis !== undefined && (redis === null || typeof redis !== 'object')) {
    throw new TypeError('redis must be an ioredis options object');
  }
  if (url === undefined && redis === undefined) throw new TypeError('url or redis is required');
  if (redis?.keyPrefix !== undefined) {
    throw new TypeError('redis.keyPrefix is not supported: use keyPrefix, which also prefixes the channel');
  }
  const keyPrefix = options.keyPrefix ?? 'tessera:';
  if (typeof keyPrefix !== 'string' || !PREFIX.test(keyPrefix)) {
    throw new TypeError('keyPrefix must be 1-64 characters of letters, digits and :_-.');
  }
  const commandTimeoutMs = checkMs(options.commandTimeoutMs ?? 1000, 'commandTimeoutMs', 50, 60_000);
  const reconnectMaxMs = checkMs(options.reconnectMaxMs ?? 1000, 'reconnectMaxMs', 10, 60_000);

  const logger = options.logger;
  const open = (name: string, blocking = false): Redis => {
    const settings: RedisOptions = {
      ...redis,
      connectionName: redis?.connectionName ?? name,
      connectTimeout: redis?.connectTimeout ?? Math.max(commandTimeoutMs, 1000),
      enableOfflineQueue: false,
      // In-flight commands fail on disconnect instead of running again after the reconnect.
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(reconnectMaxMs, 25 * 2 ** Math.min(times, 10)),
      ...(blocking ? {} : { commandTimeout: commandTimeoutMs }),
    };
    const client = url === undefined ? new Redis(settings) : new Redis(url, settings);
    // One warning per outage, not one per reconnect attempt; without a listener ioredis would
    // print every connection error to the console.
    let down = false;
    client.on('error', (error: Error) => {
      if (down) return;
      down = true;
      logger?.warn({ connection: name, err: error.message }, 'redis connection lost; reconnecting');
    });
    client.on('ready', () => {
      if (!down) return;
      down = false;
      logger?.info({ connection: name }, 'redis connection restored');
    });
    return client;
  };
  return { keyPrefix, commandTimeoutMs, reconnectMaxMs, open };
}

/** One shared wait per connection, so a burst of requests at start adds one listener set, not one each. */
const pendingReady = new WeakMap<Redis, Promise<void>>();

/**
 * Resolves once `client` can take commands. A connection still being established is waited
 * for (up to `timeoutMs`); one that is known to be down (reconnecting) fails at once, so a
 * request never queues behind an outage.
 */
export function whenReady(client: Redis, operation: string, timeoutMs: number): Promise<void> {
  const status = client.status;
  if (status === 'ready') return Promise.resolve();
  if (status === 'end' || status === 'close' || status === 'reconnecting') {
    return Promise.reject(unavailableError(operation, new Error(`connection is ${status}`)));
  }
  if (status === 'wait') client.connect().catch(() => {});
  let wait = pendingReady.get(client);
  if (wait === undefined) {
    wait = waitForReady(client, timeoutMs).finally(() => pendingReady.delete(client));
    pendingReady.set(client, wait);
  }
  return wait.catch((error: unknown) => {
    throw unavailableError(operation, error);
  });
}

function waitForReady(client: Redis, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('connection failed'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`not connected after ${timeoutMs} ms`));
    }, timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('close', onEnd);
      client.off('end', onEnd);
    }
    client.once('ready', onReady);
    client.once('close', onEnd);
    client.once('end', onEnd);
  });
}
