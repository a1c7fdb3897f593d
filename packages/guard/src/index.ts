/** @tessera/guard: access-token authentication for resource servers (RFC 6750), remote JWKS, pushed revocation. */

import type { AccessTokenClaims, AccessTokenVerifier, VerifiedTokenCache } from '@tessera/core';
import { createExpressBinding, type ExpressBinding } from './bindings/express.js';
import { createFastifyBinding, type FastifyBinding } from './bindings/fastify.js';
import { createHonoBinding, type HonoBinding } from './bindings/hono.js';
import { type AuthenticateOptions, buildGuard, type GuardOptions, type GuardStats } from './guard.js';
import type { RequestLike } from './request.js';
import type { GuardResponse } from './response.js';

export type {
  ExpressBinding,
  ExpressLikeMiddleware,
  ExpressLikeRequest,
  ExpressLikeResponse,
} from './bindings/express.js';
export type {
  FastifyBinding,
  FastifyLikeHook,
  FastifyLikeInstance,
  FastifyLikePlugin,
  FastifyLikeReply,
  FastifyLikeRequest,
  FastifyPluginOptions,
} from './bindings/fastify.js';
export type { HonoBinding, HonoLikeContext, HonoLikeMiddleware } from './bindings/hono.js';
export type {
  AuthenticateOptions,
  GuardOptions,
  GuardStats,
  RemoteJwksSettings,
  RevocationOptions,
  StalePolicy,
} from './guard.js';
export type { GuardLogger } from './jwks.js';
export { cacheControlMaxAge } from './jwks.js';
export type { HeaderGetter, HeadersLike, RequestLike } from './request.js';
export type { GuardErrorOptions, GuardResponse, ToResponseOptions } from './response.js';
export { DEFAULT_REALM, GuardError, toResponse } from './response.js';
export type { RevocationFeed, RevocationFeedLogger, RevocationFeedOptions } from './revocation-feed.js';
export { createRevocationFeed } from './revocation-feed.js';
export { RevocationSet } from './revocation-set.js';
export type { RevocableClaims, RevocationEvent, RevocationKind, RevocationSource } from './revocation-source.js';
export type { RevocationStateLogger } from './revocation-state.js';
export { RevocationState } from './revocation-state.js';
export { hasScopes } from './scopes.js';

export interface Guard {
  /** Authenticates a Request-like object. Resolves to the verified claims; rejects with an `AuthError`. */
  authenticate(request: RequestLike, options?: AuthenticateOptions): Promise<AccessTokenClaims>;
  /**
   * The same, synchronous on a verified-token cache hit (claims returned, `AuthError` thrown),
   * a promise on a miss. For hot paths that want no promise per request.
   */
  check(request: RequestLike, options?: AuthenticateOptions): AccessTokenClaims | Promise<AccessTokenClaims>;
  /** The RFC 6750 response for an error: `{ status, headers, body }`, with this guard's realm. */
  toResponse(error: unknown): GuardResponse;
  readonly fastify: FastifyBinding;
  readonly express: ExpressBinding;
  readonly hono: HonoBinding;
  /** Counters (a fresh snapshot per read). */
  readonly stats: GuardStats;
  /** The verified-token cache, when enabled. */
  readonly cache: VerifiedTokenCache | undefined;
  readonly verifier: AccessTokenVerifier;
  /** Loads the remote JWKS now (resolves at once for local keys); rejects when it cannot be fetched. */
  ready(): Promise<void>;
  /** Stops background JWKS refreshes and unsubscribes from the revocation source (which the caller closes). */
  close(): void;
}

/** Builds a guard; options are validated here and a `TypeError` names a bad field. */
export function createGuard(options: GuardOptions): Guard {
  const internals = buildGuard(options);
  const { core } = internals;
  const routes = new WeakMap<AuthenticateOptions, ReturnType<typeof core.compile>>();
  function routeOf(opts: AuthenticateOptions | undefined) {
    if (opts === undefined || opts === null || typeof opts !== 'object') return core.compile(opts);
    let route = routes.get(opts);
    if (route === undefined) {
      route = core.compile(opts);
      routes.set(opts, route);
    }
    return route;
  }
  const guard: Guard = {
    authenticate(request, opts) {
      try {
        const result = core.check(request, routeOf(opts));
        return result instanceof Promise ? result : Promise.resolve(result);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    check: (request, opts) => core.check(request, routeOf(opts)),
    toResponse: core.toResponse,
    fastify: createFastifyBinding(core),
    express: createExpressBinding(core),
    hono: createHonoBinding(core),
    get stats() {
      return internals.stats();
    },
    cache: internals.cache as VerifiedTokenCache | undefined,
    verifier: internals.verifier,
    ready: () => (internals.jwks === undefined ? Promise.resolve() : internals.jwks.ready()),
    close: internals.close,
  };
  return Object.freeze(guard);
}
