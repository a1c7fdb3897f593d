/**
 * POST /auth/login: password login; the access token in the body, the refresh token in the
 * cookie. Rate-limited per IP and per email, then progressively delayed after failures (see
 * LoginThrottle); every refusal looks the same for known and unknown addresses.
 */

import { isAuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { clientInfo } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';
import { fetchMetadataGuard } from '../http/csrf.js';
import { enforceRateLimit, RateLimitError } from '../http/rate-limit.js';
import { normaliseEmail } from '../services/auth-service.js';
import { LoginThrottle } from '../services/login-throttle.js';
import { credentialsBody } from './schemas.js';
import { sendCookieGrant } from './token-response.js';

export function loginRoute(app: FastifyInstance, ctx: RouteContext): void {
  const throttle = new LoginThrottle(ctx.ephemeral, ctx.config.lockout);
  const serial = createKeyedSerializer();
  app.post<{ Body: { email: string; password: string } }>(
    '/auth/login',
    { schema: { body: credentialsBody }, onRequest: fetchMetadataGuard(ctx) },
    async function login(request, reply) {
      const client = clientInfo(request);
      const email = normaliseEmail(request.body.email);
      await enforceRateLimit(ctx, request, 'login_ip', client.ip ?? '-', ctx.config.rateLimit.loginPerIp);
      // The delay check and the reservation of this attempt run one at a time per address, so a
      // burst of concurrent guesses cannot all pass the check before any of them is counted.
      // The password check itself runs outside, so concurrent logins still use every core.
      const now = ctx.clock();
      await serial(email, async () => {
        const verdict = await throttle.check(email, client.ip, now);
        // Only an IP that has already failed for this address spends the account-wide budget, so
        // guesses from elsewhere can never exhaust it for the owner's own IP.
        if (verdict.pairFailures > 0) {
          await enforceRateLimit(ctx, request, 'login_account', email, ctx.config.rateLimit.loginPerAccount);
        }
        if (verdict.waitSec > 0) {
          await ctx.audit.record('rate_limit.hit', { ...client, data: { limit: 'login_delay' } });
          throw new RateLimitError(verdict.waitSec, 'progressive login delay');
        }
        // The attempt counts as a failure until it succeeds: other requests and instances see it.
        await throttle.recordFailure(email, client.ip, now);
      });
      try {
        const grant = await ctx.auth.login(request.body.email, request.body.password, client);
        await throttle.recordSuccess(email, client.ip);
        return sendCookieGrant(reply, ctx.config, grant, ctx.clock());
      } catch (error) {
        // A correct password for a disabled account is not a guess.
        if (isAuthError(error, 'ERR_ACCOUNT_DISABLED')) await throttle.recordSuccess(email, client.ip);
        throw error;
      }
    },
  );
}

/** Runs tasks with the same key one after another (in this process); different keys run freely. */
function createKeyedSerializer(): <T>(key: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}
