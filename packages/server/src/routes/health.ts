/** GET /healthz (the process answers) and GET /readyz (store reachable and signing keys loaded). */

import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../http/context.js';

export function healthRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/healthz', async function healthz(_request, reply) {
    return reply.send({ status: 'ok' });
  });
  app.get('/readyz', async function readyz(request, reply) {
    const checks: Record<string, 'ok' | 'failed'> = {
      durable: 'ok',
      ephemeral: 'ok',
      keys: ctx.keys.ready ? 'ok' : 'failed',
    };
    await ctx.durable.ping().catch((error: unknown) => {
      request.log.warn({ err: error }, 'durable store not ready');
      checks.durable = 'failed';
    });
    await ctx.ephemeral.ping().catch((error: unknown) => {
      request.log.warn({ err: error }, 'ephemeral store not ready');
      checks.ephemeral = 'failed';
    });
    const ready = Object.values(checks).every((c) => c === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
}
