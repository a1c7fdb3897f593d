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
  app.post<{ Body: { email: string; password: string } }>(
    '/auth/login',
    { schema: { body: credentialsBody }, onRequest: fetchMetadataGuard(ctx) },
    async function login(request, reply) {
      const client = clientInfo(request);
      const email = normaliseEmail(request.body.email);
      await enforceRateLimit(ctx, request, 'login_ip', client.ip ?? '-', ctx.config.rateLimit.loginPerIp);
      await enforceRateLimit(ctx, request, 'login_account', email, ctx.config.rateLimit.loginPerAccount);
      const now = ctx.clock();
      const { waitSec } = await throttle.check(email, client.ip, now);
      if (waitSec > 0) {
        await ctx.audit.record('rate_limit.hit', { ...client, data: { limit: 'login_delay' } });
        throw new RateLimitError(waitSec, 'progressive login delay');
      }
      try {
        const grant = await ctx.auth.login(request.body.email, request.body.password, client);
        await throttle.recordSuccess(email, client.ip);
        return sendCookieGrant(reply, ctx.config, grant, ctx.clock());
      } catch (error) {
        if (isAuthError(error, 'ERR_INVALID_CREDENTIALS')) await throttle.recordFailure(email, client.ip, now);
        throw error;
      }
    },
  );
}
