/**
 * @tessera/store-redis: the Redis EphemeralStore for scale-out mode (jti denylist, token
 * buckets, failure counters, revocation pub/sub) and a guard revocation source that reads
 * revocations straight from Redis.
 */

export type { RedisConnectionOptions, RedisLogger } from './connection.js';
export { RedisUnavailableError } from './errors.js';
export type { RedisRevocationSource, RedisRevocationSourceOptions } from './redis-revocation-source.js';
export { createRedisRevocationSource } from './redis-revocation-source.js';
export type { RedisStoreOptions, UnavailablePolicy } from './redis-store.js';
export { createRedisStore, RedisStore } from './redis-store.js';
