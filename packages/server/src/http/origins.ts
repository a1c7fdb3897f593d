/** The origins allowed to call the auth server from a browser: the issuer's own plus the configured ones. */

import type { AuthServerConfig } from '../config.js';

export function allowedOriginSet(config: AuthServerConfig): ReadonlySet<string> {
  return new Set([new URL(config.issuer).origin, ...config.allowedOrigins]);
}
