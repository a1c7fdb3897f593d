import { runEphemeralStoreConformance } from '@tessera/store-testing';
import { it } from 'vitest';
import { RedisStore } from '../src/index.js';
import { checkRedis, deletePrefix, REDIS_URL, randomPrefix } from './support/redis.js';

if (await checkRedis()) {
  runEphemeralStoreConformance('RedisStore', async () => {
    const keyPrefix = randomPrefix();
    const store = new RedisStore({ url: REDIS_URL, keyPrefix });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await deletePrefix(keyPrefix);
      },
    };
  });
} else {
  it.skip('EphemeralStore conformance: RedisStore (Redis unreachable)', () => {});
}
