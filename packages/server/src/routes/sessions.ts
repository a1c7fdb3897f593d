/** GET /auth/sessions and DELETE /auth/sessions/:id (Bearer): a user's own sessions. */

import { AuthError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { authenticate, clientInfo } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';

const SESSION_ID = /^ses_[A-Za-z0-9_-]{22}$/;

export function sessionsRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/auth/sessions', async function listSessions(request, reply) {
    const claims = await authenticate(ctx, request);
    const sessions = await ctx.durable.listSessions(claims.sub, { includeEnded: false, now: ctx.clock() });
    return reply.send({
      sessions: sessions.map((s) => ({
        id: s.id,
        created_at: s.createdAt,
        last_used_at: s.lastUsedAt,
        expires_at: Math.min(s.idleExpiresAt, s.absoluteExpiresAt),
        user_agent: s.userAgent,
        ip: s.ip,
        current: s.id === claims.sid,
      })),
    });
  });

  app.delete<{ Params: { id: string } }>('/auth/sessions/:id', async function endSession(request, reply) {
    const claims = await authenticate(ctx, request);
    const id = request.params.id;
    if (!SESSION_ID.test(id)) throw new AuthError('ERR_NOT_FOUND');
    const session = await ctx.durable.findSession(id);
    // Someone else's session is indistinguishable from a missing one.
    if (session === undefined || session.userId !== claims.sub) throw new AuthError('ERR_NOT_FOUND');
    await ctx.auth.endSession(id, claims.sub, 'user_ended', clientInfo(request));
    return reply.code(204).send();
  });
}
