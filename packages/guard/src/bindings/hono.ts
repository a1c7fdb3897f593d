/**
 * Hono binding, against minimal structural types: no runtime dependency on hono. Sets
 * `c.set('auth', claims)`; failures return the RFC 6750 response.
 */

import type { AccessTokenClaims } from '@tessera/core';
import type { AuthenticateOptions, CompiledRoute, GuardCore } from '../guard.js';
import type { RequestLike } from '../request.js';

export interface HonoLikeContext {
  readonly req: {
    readonly raw: { readonly headers: Headers; readonly method: string };
    parseBody(): Promise<unknown>;
  };
  set(key: 'auth', value: AccessTokenClaims): void;
  get(key: 'auth'): AccessTokenClaims | undefined;
}

export type HonoLikeMiddleware = (c: HonoLikeContext, next: () => Promise<void>) => Promise<Response | undefined>;

export interface HonoBinding {
  /** `app.use('/api/*', guard.hono.authenticate())` or per route. */
  authenticate(options?: AuthenticateOptions): HonoLikeMiddleware;
  /** Requires scopes; reuses `c.get('auth')` when an earlier guard middleware authenticated. */
  requireScopes(...scopes: string[]): HonoLikeMiddleware;
}

function respond(core: GuardCore, error: unknown): Response {
  if (!(error instanceof Error) || !('oauthError' in error)) throw error;
  const response = core.toResponse(error);
  return new Response(JSON.stringify(response.body), { status: response.status, headers: response.headers });
}

function isForm(headers: Headers): boolean {
  return /^application\/x-www-form-urlencoded\s*(;|$)/i.test(headers.get('content-type') ?? '');
}

function run(core: GuardCore, route: CompiledRoute): HonoLikeMiddleware {
  return function tesseraGuard(c, next) {
    const raw = c.req.raw;
    if (core.allowFormBody && isForm(raw.headers) && raw.method !== 'GET') {
      return c.req.parseBody().then((body) => finish(c, next, { headers: raw.headers, method: raw.method, body }));
    }
    return finish(c, next, raw);
  };

  function finish(c: HonoLikeContext, next: () => Promise<void>, request: RequestLike): Promise<Response | undefined> {
    let result: AccessTokenClaims | Promise<AccessTokenClaims>;
    try {
      result = core.check(request, route);
    } catch (error) {
      return Promise.resolve(respond(core, error));
    }
    if (result instanceof Promise) {
      return result.then(
        (claims) => {
          c.set('auth', claims);
          return next() as Promise<undefined>;
        },
        (error: unknown) => respond(core, error),
      );
    }
    c.set('auth', result);
    return next() as Promise<undefined>;
  }
}

export function createHonoBinding(core: GuardCore): HonoBinding {
  return Object.freeze({
    authenticate: (options?: AuthenticateOptions) => run(core, core.compile(options)),
    requireScopes: (...scopes: string[]): HonoLikeMiddleware => {
      const route = core.compile({ scopes }, 'requireScopes');
      const full = run(core, route);
      return (c, next) => {
        const claims = c.get('auth');
        if (claims === undefined) return full(c, next);
        try {
          core.checkScopes(claims, route);
        } catch (error) {
          return Promise.resolve(respond(core, error));
        }
        return next() as Promise<undefined>;
      };
    },
  });
}
