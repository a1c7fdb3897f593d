/**
 * A Redis storage adapter for node-oidc-provider (its documented adapter interface: upsert,
 * find, findByUid, findByUserCode, consume, destroy, revokeByGrantId), written for bench:cluster
 * so the provider can be measured the way it is deployed when it scales out: every model in one
 * Redis, shared by any number of provider processes.
 *
 * Built to be fast, not slow on purpose: one round trip per call (a MULTI for writes), JSON
 * payloads, TTLs from the provider. Consumable models (refresh tokens, codes) are hashes with a
 * `payload` and a `consumed` field so `consume` is one HSET; the rest are plain strings. Tokens
 * of a grant are kept in a set so `revokeByGrantId` can delete them.
 */

import { Redis } from 'ioredis';

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);
const CONSUMABLE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** An adapter class bound to one Redis connection and key prefix. */
export function createRedisAdapter(url, prefix) {
  const redis = new Redis(url, { keyPrefix: prefix, enableAutoPipelining: true });
  const grantKey = (grantId) => `grant:${grantId}`;

  class RedisAdapter {
    constructor(name) {
      this.name = name;
      this.consumable = CONSUMABLE.has(name);
    }

    key(id) {
      return `${this.name}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const multi = redis.multi();
      if (this.consumable) {
        multi.del(key);
        multi.hset(key, 'payload', JSON.stringify(payload));
        if (expiresIn) multi.expire(key, expiresIn);
      } else if (expiresIn) {
        multi.set(key, JSON.stringify(payload), 'EX', expiresIn);
      } else {
        multi.set(key, JSON.stringify(payload));
      }
      if (GRANTABLE.has(this.name) && payload.grantId) {
        const g = grantKey(payload.grantId);
        multi.sadd(g, key);
        if (expiresIn) {
          // The grant's index lives as long as its longest-lived token.
          multi.expire(g, expiresIn, 'NX');
          multi.expire(g, expiresIn, 'GT');
        }
      }
      if (payload.uid) multi.set(`uid:${payload.uid}`, id, 'EX', expiresIn);
      if (payload.userCode) multi.set(`userCode:${payload.userCode}`, id, 'EX', expiresIn);
      await multi.exec();
    }

    async find(id) {
      if (this.consumable) {
        const data = await redis.hgetall(this.key(id));
        if (data.payload === undefined) return undefined;
        const out = JSON.parse(data.payload);
        if (data.consumed !== undefined) out.consumed = Number(data.consumed);
        return out;
      }
      const data = await redis.get(this.key(id));
      return data === null ? undefined : JSON.parse(data);
    }

    async findByUid(uid) {
      const id = await redis.get(`uid:${uid}`);
      return id === null ? undefined : this.find(id);
    }

    async findByUserCode(userCode) {
      const id = await redis.get(`userCode:${userCode}`);
      return id === null ? undefined : this.find(id);
    }

    async consume(id) {
      await redis.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
    }

    async destroy(id) {
      await redis.del(this.key(id));
    }

    async revokeByGrantId(grantId) {
      const g = grantKey(grantId);
      const keys = await redis.smembers(g);
      // The members are keys without ioredis's prefix, which `del` adds back.
      const multi = redis.multi();
      for (const k of keys) multi.del(k);
      multi.del(g);
      await multi.exec();
    }
  }

  return { RedisAdapter, close: () => redis.quit() };
}
