/**
 * The protected demo API under `/api/`, as a separate resource server would run it: every route
 * is authenticated by @tessera/guard (signature against the auth server's JWKS, issuer,
 * audience, and the pushed revocation feed when there is one), except `GET /api/status`.
 */

import { type AccessTokenClaims, AuthError } from '@tessera/core';
import type { Guard, RevocationFeed } from '@tessera/guard';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AccessTokenClaims | null;
  }
}

export interface DemoApiOptions {
  readonly guard: Guard;
  /** The revocation feed the guard consults, when pushed revocation is on. */
  readonly feed: RevocationFeed | undefined;
  /** Whole seconds since the epoch. */
  readonly clock: () => number;
}

/** The scope the "reports" route needs, which the default login scope does not include. */
export const REPORTS_SCOPE = 'reports:read';

function claimsOf(auth: AccessTokenClaims | null): AccessTokenClaims {
  // The guard runs before every handler here; a handler without claims is a wiring bug.
  if (auth === null) throw new Error('demo API handler reached without authentication');
  return auth;
}

export async function registerDemoApi(app: FastifyInstance, options: DemoApiOptions): Promise<void> {
  await app.register(
    async function demoApi(api) {
      // Every /api response is no-store, the JSON 404 for an unknown /api path included. The
      // not-found handler lives outside the guarded scope: an unknown path is a 404, not a 401.
      api.addHook('onSend', async function noStore(_request, reply) {
        reply.header('cache-control', 'no-store');
      });
      api.setNotFoundHandler(function apiNotFound(_request, reply) {
        const error = new AuthError('ERR_NOT_FOUND');
        return reply.code(error.status).send(error.toJSON());
      });
      await api.register(async function guardedApi(guarded) {
        await registerGuardedRoutes(guarded, options);
      });
    },
    { prefix: '/api' },
  );
}

/** The API's routes, in a scope authenticated by the guard (`GET /status` opts out). */
async function registerGuardedRoutes(api: FastifyInstance, options: DemoApiOptions): Promise<void> {
  const { guard, feed, clock } = options;
  await api.register(guard.fastify.plugin as unknown as FastifyPluginCallback);

  api.get('/status', { config: { auth: false } }, async function apiStatus() {
    const staleness = feed?.stalenessSec();
    return {
      revocation_feed:
        feed === undefined
          ? null
          : {
              last_event_id: feed.lastEventId,
              staleness_sec:
                staleness === undefined || !Number.isFinite(staleness) ? null : Math.round(staleness * 10) / 10,
            },
      served_at: clock(),
    };
  });

  api.get('/hello', async function hello(request) {
    const claims = claimsOf(request.auth);
    return {
      message: `Hello from the protected demo API, ${claims.sub}.`,
      sub: claims.sub,
      scope: claims.scope ?? '',
      exp: claims.exp,
      served_at: clock(),
    };
  });

  api.get(
    '/reports',
    { onRequest: guard.fastify.requireScopes(REPORTS_SCOPE) as never },
    async function reports(request) {
      const claims = claimsOf(request.auth);
      return { owner: claims.sub, reports: [{ id: 'rep_1', title: 'Quarterly sign-ins' }], served_at: clock() };
    },
  );
}
