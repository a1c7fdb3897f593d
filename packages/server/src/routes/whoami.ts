/** GET /auth/whoami (Bearer): the bootstrap endpoint. Checked against all four revocation levers. */

import { AuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { authenticate } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';

export function whoamiRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/auth/whoami', async function whoami(request, reply) {
    const claims = await authenticate(ctx, request);
    const user = await ctx.durable.findUserById(claims.sub);
    if (user === undefined) throw new AuthError('ERR_TOKEN_REVOKED');
    return reply.send({
      user: { id: user.id, email: user.email, status: user.status, created_at: user.createdAt },
      claims,
    });
  });
}
