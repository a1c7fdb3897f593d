/**
 * The Lua scripts that make each multi-step operation one atomic step on the Redis server, run
 * by SHA (EVALSHA) with a fallback to EVAL when the server does not have the script yet (after
 * a restart or a SCRIPT FLUSH). Times are the caller's seconds (`now`), never Redis TIME, so
 * the same clock decides here as everywhere else; key expiries are only memory hygiene and are
 * set so that a key vanishes no earlier than the state it holds stops mattering.
 */

import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function defineScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Runs `script` by SHA, loading it with EVAL when Redis answers NOSCRIPT. */
export async function runScript(
  client: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return await client.eval(script.source, keys.length, ...keys, ...args);
  }
}

/**
 * KEYS[1] the jti key; ARGV[1] expiresAt (seconds). Keeps the later of two expiries; the key
 * expires at that instant (EXAT), so Redis drops it by itself.
 */
export const DENY_JTI = defineScript(`
local old = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local exp = tonumber(ARGV[1])
if old >= exp then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[1])
return 1
`);

/**
 * Token bucket. KEYS[1] the bucket hash {tokens, at}; ARGV capacity, refillPerSec, now,
 * ttlSec. Returns {allowed (0/1), retryAfterSec}. Tokens are kept as a %.17g string so a
 * fractional remainder survives exactly.
 */
export const TAKE_TOKEN = defineScript(`
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local row = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = capacity
if row[1] and row[2] then
  local elapsed = now - tonumber(row[2])
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(capacity, tonumber(row[1]) + elapsed * refill)
end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
elseif refill > 0 then
  retry = math.max(1, math.ceil((1 - tokens) / refill))
else
  retry = 2147483647
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return {allowed, retry}
`);

/**
 * Failure counter. KEYS[1] the counter hash {count, at}; ARGV now, ttlSec, expireSec. A count
 * older than ttlSec since its last failure starts over. Returns the new count.
 */
export const RECORD_FAILURE = defineScript(`
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local row = redis.call('HMGET', KEYS[1], 'count', 'at')
local count = 1
if row[1] and row[2] and now - tonumber(row[2]) <= ttl then count = tonumber(row[1]) + 1 end
redis.call('HSET', KEYS[1], 'count', count, 'at', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return count
`);

/**
 * Publish. KEYS[1] the revocation stream; ARGV channel, payload, maxLen, retentionMs. Appends
 * the event to the capped stream (what revocation sources catch up from) and publishes it on
 * the channel, in one step so both see the same order. The stream trims entries older than
 * the retention (by Redis' own clock, which also stamps the entry ids) and expires as a whole
 * when nothing is published for that long.
 */
export const PUBLISH_REVOCATION = defineScript(`
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[2])
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local minId = nowMs - tonumber(ARGV[4])
if minId > 0 then redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%d', minId)) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return id
`);
