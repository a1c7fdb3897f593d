/**
 * The SDK's one error class. `code` is the server's stable `ERR_*` code when the auth server
 * answered with one, or one of the client's own codes below; callers switch on `code`, never on
 * the message text.
 */

/** Codes the client raises itself (the server's own `ERR_*` codes pass through unchanged). */
export const CLIENT_ERROR_CODES = {
  /** The request never got an HTTP answer (offline, DNS, TLS, timeout) or the server kept failing (5xx, 429). */
  ERR_NETWORK: 'The auth server could not be reached',
  /** The call needs a session and there is none. */
  ERR_NOT_SIGNED_IN: 'Not signed in',
  /** `close()` was called on this client. */
  ERR_CLIENT_CLOSED: 'The auth client is closed',
  /** The auth server answered with something that is not a Tessera response. */
  ERR_BAD_RESPONSE: 'Unexpected response from the auth server',
  /** A `client.fetch` request with the token was redirected onto a token endpoint; the answer was withheld. */
  ERR_REDIRECTED_TO_TOKEN_ENDPOINT: 'The request was redirected to a token endpoint',
  /** Worker mode: the worker could not be started or stopped answering. */
  ERR_WORKER: 'The auth worker failed',
} as const;

export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;

/** A client code, or any `ERR_*` code from the server's error table (e.g. `ERR_INVALID_CREDENTIALS`). */
export type AuthClientErrorCode = ClientErrorCode | (string & {});

export interface AuthClientErrorOptions {
  /** HTTP status of the server's answer, when there was one. */
  readonly status?: number;
  /** The OAuth `error` field of the server's answer (`invalid_grant`, `invalid_request`...). */
  readonly oauthError?: string;
  readonly cause?: unknown;
}

export class AuthClientError extends Error {
  override readonly name = 'AuthClientError';
  readonly code: AuthClientErrorCode;
  readonly status?: number;
  readonly oauthError?: string;

  constructor(code: AuthClientErrorCode, message?: string, options: AuthClientErrorOptions = {}) {
    super(message ?? (CLIENT_ERROR_CODES as Record<string, string>)[code] ?? code, { cause: options.cause });
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.oauthError !== undefined) this.oauthError = options.oauthError;
  }
}

export function isAuthClientError(error: unknown, code?: AuthClientErrorCode): error is AuthClientError {
  return error instanceof AuthClientError && (code === undefined || error.code === code);
}
