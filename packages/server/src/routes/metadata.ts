/**
 * GET /.well-known/oauth-authorization-server (RFC 8414) and /.well-known/openid-configuration:
 * only what is really supported. Later issues add more grants.
 */

import type { FastifyInstance } from 'fastify';
import { CLIENT_AUTH_METHODS } from '../http/client-auth.js';
import type { RouteContext } from '../http/context.js';

export function metadataRoute(app: FastifyInstance, ctx: RouteContext): void {
  const issuer = ctx.config.issuer;
  const document = Object.freeze({
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    token_endpoint: `${issuer}/oauth/token`,
    grant_types_supported: ['refresh_token'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['none'],
    // RFC 7009 and RFC 7662, for registered confidential clients (`tessera clients add`).
    revocation_endpoint: `${issuer}/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    introspection_endpoint: `${issuer}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    scopes_supported: ctx.config.defaultScope.split(' '),
    access_token_signing_alg_values_supported: [ctx.config.signingAlg],
    tessera_endpoints: {
      register_endpoint: ctx.config.registrationOpen ? `${issuer}/auth/register` : undefined,
      login_endpoint: `${issuer}/auth/login`,
      refresh_endpoint: `${issuer}/auth/refresh`,
      logout_endpoint: `${issuer}/auth/logout`,
      logout_all_endpoint: `${issuer}/auth/logout-all`,
      whoami_endpoint: `${issuer}/auth/whoami`,
      sessions_endpoint: `${issuer}/auth/sessions`,
    },
  });
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(path, async function metadata(_request, reply) {
      reply.header('cache-control', 'public, max-age=3600');
      return reply.send(document);
    });
  }
}
