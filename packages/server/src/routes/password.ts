/** POST /auth/password (Bearer): change the password; every other session of the user ends. */

import { isAuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { authenticate, clientInfo } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';
import { RateLimitError } from '../http/rate-limit.js';
import { LoginThrottle } from '../services/login-throttle.js';
import { newPasswordSchema } from './schemas.js';

export function passwordRoute(app: FastifyInstance, ctx: RouteContext): void {
  const throttle = new LoginThrottle(ctx.ephemeral, ctx.config.lockout);
  app.post<{ Body: { current_password: string; new_password: string } }>(
    '/auth/password',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['current_password', 'new_password'],
          properties: {
            current_password: { type: 'string', minLength: 1, maxLength: 1024 },
            new_password: newPasswordSchema,
          },
        },
      },
    },
    async function changePassword(request, reply) {
      const claims = await authenticate(ctx, request);
      const client = clientInfo(request);
      // A stolen access token must not become an unlimited password oracle: wrong current
      // passwords are delayed exactly like failed logins, keyed by the user.
      const key = `user:${claims.sub}`;
      const now = ctx.clock();
      const { waitSec } = await throttle.check(key, client.ip, now);
      if (waitSec > 0) {
        await ctx.audit.record('rate_limit.hit', { ...client, userId: claims.sub, data: { limit: 'password_delay' } });
        throw new RateLimitError(waitSec, 'progressive password-change delay');
      }
      try {
        await ctx.auth.changePassword(
          claims.sub,
          claims.sid,
          request.body.current_password,
          request.body.new_password,
          client,
        );
      } catch (error) {
        if (isAuthError(error, 'ERR_INVALID_CREDENTIALS')) await throttle.recordFailure(key, client.ip, now);
        throw error;
      }
      await throttle.recordSuccess(key, client.ip);
      return reply.code(204).send();
    },
  );
}
