/**
 * Express (and plain Node `http`) binding, against minimal structural types: no runtime
 * dependency on express. Sets `req.auth` to the verified claims; errors are written as the
 * RFC 6750 response; anything unexpected goes to `next(error)`.
 */

import type { AccessTokenClaims } from '@tessera/core';
import type { AuthenticateOptions, CompiledRoute, GuardCore } from '../guard.js';
import type { RequestLike } from '../request.js';

export interface ExpressLikeRequest extends RequestLike {
  auth?: AccessTokenClaims;
}

export interface ExpressLikeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export type ExpressLikeMiddleware = (
  req: ExpressLikeRequest,
  res: ExpressLikeResponse,
  next: (error?: unknown) => void,
) => void;

export interface ExpressBinding {
  /** `app.use(guard.express.authenticate())` or per route. */
  authenticate(options?: AuthenticateOptions): ExpressLikeMiddleware;
  /** Requires scopes; reuses `req.auth` when an earlier guard middleware authenticated. */
  requireScopes(...scopes: string[]): ExpressLikeMiddleware;
}

function reject(core: GuardCore, res: ExpressLikeResponse, next: (error?: unknown) => void, error: unknown): void {
  if (!(error instanceof Error) || !('oauthError' in error)) {
    next(error);
    return;
  }
  const response = core.toResponse(error);
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.end(JSON.stringify(response.body));
}

function run(core: GuardCore, route: CompiledRoute): ExpressLikeMiddleware {
  return function tesseraGuard(req, res, next) {
    let result: AccessTokenClaims | Promise<AccessTokenClaims>;
    try {
      result = core.check(req, route);
    } catch (error) {
      reject(core, res, next, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (claims) => {
          req.auth = claims;
          next();
        },
        (error: unknown) => reject(core, res, next, error),
      );
      return;
    }
    req.auth = result;
    next();
  };
}

export function createExpressBinding(core: GuardCore): ExpressBinding {
  return Object.freeze({
    authenticate: (options?: AuthenticateOptions) => run(core, core.compile(options)),
    requireScopes: (...scopes: string[]): ExpressLikeMiddleware => {
      const route = core.compile({ scopes }, 'requireScopes');
      const full = run(core, route);
      return (req, res, next) => {
        if (req.auth === undefined) return full(req, res, next);
        try {
          core.checkScopes(req.auth, route);
        } catch (error) {
          reject(core, res, next, error);
          return;
        }
        next();
      };
    },
  });
}
