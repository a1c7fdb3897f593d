/** @tessera/client: the browser SDK. Access token in memory or a worker, refresh through the HttpOnly cookie. */

export { createAuthClient } from './create-auth-client.js';
export type { AuthClientErrorCode, AuthClientErrorOptions, ClientErrorCode } from './errors.js';
export { AuthClientError, CLIENT_ERROR_CODES, isAuthClientError } from './errors.js';
export type {
  AuthClient,
  AuthClientOptions,
  AuthEvent,
  AuthEventListener,
  AuthMode,
  AuthState,
  AuthTimers,
  Credentials,
  RefreshTrigger,
  RetryOptions,
  SessionInfo,
  WhoAmI,
} from './types.js';
