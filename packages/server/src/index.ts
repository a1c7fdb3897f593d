/** @tessera/server: the auth server (Fastify 5), its domain services and storage contracts. */

export type { AuthServer, CreateAuthServerOptions } from './app.js';
export { createAuthServer, SERVER_CLOCK_TOLERANCE_SEC } from './app.js';
export type {
  Argon2Config,
  AuthServerConfig,
  AuthServerConfigInput,
  CookieConfig,
  ResolveConfigResult,
} from './config.js';
export { configEnvName, resolveConfig } from './config.js';
export type * from './contracts.js';
export { refreshCookieName } from './http/cookies.js';
export type { CsrfLayer } from './http/csrf.js';
export { findCsrfViolation } from './http/csrf.js';
export { BEARER_REALM, bearerChallenge } from './http/errors.js';
export { AdminService } from './services/admin.js';
export type { AuditEventType } from './services/audit.js';
export { AUDIT_EVENT_TYPES } from './services/audit.js';
export type { ClientInfo, TokenGrant } from './services/auth-service.js';
export { AuthService, isValidEmail, normaliseEmail } from './services/auth-service.js';
export type { ClientScope, CreatedClient } from './services/clients.js';
export { CLIENT_SCOPES, ClientRegistry, hashClientSecret } from './services/clients.js';
export { loadMasterKey, parseMasterKey } from './services/master-key.js';
export { checkPasswordPolicy, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PasswordHasher } from './services/passwords.js';
export {
  createRefreshToken,
  hashRefreshToken,
  isRefreshTokenFormat,
  REFRESH_TOKEN_PREFIX,
} from './services/refresh-tokens.js';
export { RevocationService } from './services/revocation.js';
export type { KeyChange, SigningKeyPolicy } from './services/signing-keys.js';
export { SigningKeyManager } from './services/signing-keys.js';
