/**
 * Fastify binding, written against minimal structural types (no runtime dependency on
 * fastify). The plugin decorates `request.auth` (null until authenticated) and, by default,
 * authenticates every route in the instance; a route opts out with `config: { auth: false }` or
 * sets its own options with `config: { auth: { scopes, onStale, maxStalenessSec } }`.
 */

import type { AccessTokenClaims } from '@tessera/core';
import type { AuthenticateOptions, CompiledRoute, GuardCore } from '../guard.js';
import type { RequestLike } from '../request.js';

export interface FastifyLikeRequest extends RequestLike {
  auth?: AccessTokenClaims | null;
  readonly routeOptions?: { readonly config?: unknown };
}

export interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  headers(values: Record<string, string>): FastifyLikeReply;
  send(payload: unknown): unknown;
}

export type FastifyLikeHook = (
  request: FastifyLikeRequest,
  reply: FastifyLikeReply,
  done: (error?: Error) => void,
) => void;

export interface FastifyLikeInstance {
  decorateRequest(name: string, value: unknown): unknown;
  hasRequestDecorator(name: string): boolean;
  addHook(name: 'onRequest' | 'preHandler', hook: FastifyLikeHook): unknown;
}

export interface FastifyPluginOptions extends AuthenticateOptions {
  /** Authenticate every route (routes opt out with `config: { auth: false }`). Default true. */
  readonly authenticateAll?: boolean;
}

export type FastifyLikePlugin = ((
  instance: FastifyLikeInstance,
  options: FastifyPluginOptions,
  done: (error?: Error) => void,
) => void) & { [key: symbol]: unknown };

export interface FastifyBinding {
  /** `app.register(guard.fastify.plugin, { ...options })`: applies to the registering instance (not encapsulated). */
  readonly plugin: FastifyLikePlugin;
  /** A route hook: `{ onRequest: guard.fastify.authenticate({ scopes: ['read'] }) }`. */
  authenticate(options?: AuthenticateOptions): FastifyLikeHook;
  /** A route hook requiring scopes; reuses `request.auth` when the plugin already authenticated. */
  requireScopes(...scopes: string[]): FastifyLikeHook;
}

function reject(core: GuardCore, reply: FastifyLikeReply, done: (error?: Error) => void, error: unknown): void {
  if (!(error instanceof Error) || !('oauthError' in error)) {
    done(error instanceof Error ? error : new Error(String(error)));
    return;
  }
  const response = core.toResponse(error);
  reply
    .code(response.status)
    .headers(response.headers as Record<string, string>)
    .send(response.body);
}

function run(core: GuardCore, route: CompiledRoute): FastifyLikeHook {
  return function tesseraGuard(request, reply, done) {
    let result: AccessTokenClaims | Promise<AccessTokenClaims>;
    try {
      result = core.check(request, route);
    } catch (error) {
      reject(core, reply, done, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (claims) => {
          request.auth = claims;
          done();
        },
        (error: unknown) => reject(core, reply, done, error),
      );
      return;
    }
    request.auth = result;
    done();
  };
}

function hookName(core: GuardCore): 'onRequest' | 'preHandler' {
  // The form-body method needs the parsed body, which exists only from preValidation on.
  return core.allowFormBody ? 'preHandler' : 'onRequest';
}

export function createFastifyBinding(core: GuardCore): FastifyBinding {
  const routes = new WeakMap<object, CompiledRoute | null>();

  const plugin = function tesseraGuardPlugin(instance, options, done) {
    try {
      const { authenticateAll, ...rest } = options ?? {};
      const base = core.compile(rest, 'plugin options');
      if (!instance.hasRequestDecorator('auth')) instance.decorateRequest('auth', null);
      if (authenticateAll !== false) {
        const baseHook = run(core, base);
        instance.addHook(hookName(core), (request, reply, hookDone) => {
          const config = request.routeOptions?.config as { auth?: false | AuthenticateOptions } | undefined;
          const auth = config?.auth;
          if (auth === undefined || config === undefined) return baseHook(request, reply, hookDone);
          let route = routes.get(config);
          if (route === undefined) {
            route =
              auth === false
                ? null
                : core.compile(
                    { ...rest, ...auth, scopes: [...(rest.scopes ?? []), ...(auth.scopes ?? [])] },
                    'config.auth',
                  );
            routes.set(config, route);
          }
          if (route === null) return hookDone();
          return run(core, route)(request, reply, hookDone);
        });
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  } as FastifyLikePlugin;
  // Like fastify-plugin: the decorator and hook apply to the registering instance.
  plugin[Symbol.for('skip-override')] = true;
  plugin[Symbol.for('fastify.display-name')] = '@tessera/guard';

  return Object.freeze({
    plugin,
    authenticate: (options?: AuthenticateOptions) => run(core, core.compile(options)),
    requireScopes: (...scopes: string[]): FastifyLikeHook => {
      const route = core.compile({ scopes }, 'requireScopes');
      const full = run(core, route);
      return (request, reply, done) => {
        const claims = request.auth;
        if (claims === undefined || claims === null) return full(request, reply, done);
        try {
          core.checkScopes(claims, route);
        } catch (error) {
          return reject(core, reply, done, error);
        }
        done();
      };
    },
  });
}
