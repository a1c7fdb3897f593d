/** POST /auth/login: password login; the access token in the body, the refresh token in the cookie. */

import type { FastifyInstance } from 'fastify';
import { clientInfo } from '../http/bearer.js';
import type { RouteContext } from '../http/context.js';
import { credentialsBody } from './schemas.js';
import { sendCookieGrant } from './token-response.js';

export function loginRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: { email: string; password: string } }>(
    '/auth/login',
    { schema: { body: credentialsBody } },
    async function login(request, reply) {
      const grant = await ctx.auth.login(request.body.email, request.body.password, clientInfo(request));
      return sendCookieGrant(reply, ctx.config, grant, ctx.clock());
    },
  );
}
