/** POST /auth/password (Bearer): change the password; every other session of the user ends. */

import type { FastifyInstance } from 'fastify';
import { authenticate, clientInfo } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';
import { newPasswordSchema } from './schemas.js';

export function passwordRoute(app: FastifyInstance, ctx: RouteContext): void {
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
      await ctx.auth.changePassword(
        claims.sub,
        claims.sid,
        request.body.current_password,
        request.body.new_password,
        clientInfo(request),
      );
      return reply.code(204).send();
    },
  );
}
