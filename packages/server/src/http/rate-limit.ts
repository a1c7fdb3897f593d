/**
 * Token-bucket rate limits kept in the EphemeralStore, so several instances share them. A
 * refusal is 429 `ERR_RATE_LIMITED` with `Retry-After`, audited as `rate_limit.hit`.
 */

import { AuthError } from '@tessera/core';
import type { FastifyRequest } from 'fastify';
import type { RateLimitRule } from '../config.js';
import { clientInfo } from './bearer.js';
import type { RouteContext } from './context.js';

/** An AuthError that carries the seconds to wait (sent as `Retry-After`). */
export class RateLimitError extends AuthError {
  readonly retryAfterSec: number;
  constructor(retryAfterSec: number, detail: string) {
    super('ERR_RATE_LIMITED', { detail });
    this.retryAfterSec = Math.max(1, Math.ceil(retryAfterSec));
  }
}

export async function enforceRateLimit(
  ctx: RouteContext,
  request: FastifyRequest,
  name: string,
  subject: string,
  rule: RateLimitRule,
): Promise<void> {
  if (!ctx.config.rateLimit.enabled) return;
  const result = await ctx.ephemeral.takeToken(`rl:${name}:${subject}`, rule.burst, rule.perMinute / 60, ctx.clock());
  if (result.allowed) return;
  await ctx.audit.record('rate_limit.hit', { ...clientInfo(request), data: { limit: name } });
  throw new RateLimitError(result.retryAfterSec, `rate limit ${name}`);
}
