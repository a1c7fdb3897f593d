/**
 * The one error table. Every failure anywhere in Tessera is an {@link AuthError} whose `code`
 * comes from {@link ERROR_TABLE}; the HTTP layer maps a code to its status and OAuth error
 * through this table only, and a test fails when a code lacks a mapping.
 *
 * Descriptions are safe to show to clients: they never contain the token, a secret or a
 * claim value. Internal detail for logs goes into `AuthError.detail`, which is also kept free
 * of token material.
 */

export interface ErrorSpec {
  /** HTTP status used when this error reaches the HTTP edge. */
  readonly status: number;
  /** RFC 6749 / RFC 6750 / RFC 7009 error code used at the HTTP edge. */
  readonly oauthError: string;
  /** Public, stable, non-sensitive description. */
  readonly description: string;
}

export const ERROR_TABLE = {
  // --- token structure (strict parser) ---
  ERR_TOKEN_MALFORMED: {
    status: 400,
    oauthError: 'invalid_request',
    description: 'The token is not a well-formed compact JWS',
  },
  ERR_TOKEN_TOO_LARGE: {
    status: 400,
    oauthError: 'invalid_request',
    description: 'The token exceeds the size limit',
  },
  ERR_HEADER_PARAM_NOT_ALLOWED: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'The token header contains a parameter that is not accepted',
  },
  ERR_TYP_INVALID: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'The token type (typ) is not accepted',
  },
  // --- algorithms, keys and signatures ---
  ERR_ALG_NOT_ALLOWED: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'The token algorithm is not allowed',
  },
  ERR_KEY_NOT_FOUND: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'No key matches the token',
  },
  ERR_SIGNATURE_INVALID: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'The token signature is invalid',
  },
  // --- claims ---
  ERR_TOKEN_EXPIRED: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'The token has expired',
  },
  ERR_TOKEN_NOT_YET_VALID: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'The token is not valid yet',
  },
  ERR_TOKEN_TOO_OLD: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'The token was issued too long ago',
  },
  ERR_CLAIM_MISSING: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'A required claim is missing',
  },
  ERR_CLAIM_INVALID: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'A claim has an invalid value',
  },
  ERR_CLAIM_NOT_ALLOWED: {
    status: 500,
    oauthError: 'server_error',
    description: 'A claim may not be placed in an access token',
  },
  // --- request validation and HTTP (auth server) ---
  ERR_VALIDATION: {
    status: 400,
    oauthError: 'invalid_request',
    description: 'The request is invalid',
  },
  ERR_BODY_TOO_LARGE: {
    status: 413,
    oauthError: 'invalid_request',
    description: 'The request body is too large',
  },
  ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    oauthError: 'invalid_request',
    description: 'The request content type is not supported',
  },
  ERR_NOT_FOUND: {
    status: 404,
    oauthError: 'invalid_request',
    description: 'Not found',
  },
  ERR_UNSUPPORTED_GRANT_TYPE: {
    status: 400,
    oauthError: 'unsupported_grant_type',
    description: 'The grant type is not supported',
  },
  ERR_INTERNAL: {
    status: 500,
    oauthError: 'server_error',
    description: 'Internal server error',
  },
  ERR_SERVICE_UNAVAILABLE: {
    status: 503,
    oauthError: 'temporarily_unavailable',
    description: 'The service is temporarily unavailable',
  },
  ERR_RATE_LIMITED: {
    status: 429,
    oauthError: 'slow_down',
    description: 'Too many requests',
  },
  ERR_CSRF: {
    status: 403,
    oauthError: 'access_denied',
    description: 'Cross-site request refused',
  },
  ERR_INVALID_CLIENT: {
    status: 401,
    oauthError: 'invalid_client',
    description: 'Client authentication failed',
  },
  ERR_UNAUTHORIZED_CLIENT: {
    status: 403,
    oauthError: 'unauthorized_client',
    description: 'The client is not authorized for this request',
  },
  // --- accounts and login ---
  ERR_INVALID_CREDENTIALS: {
    status: 401,
    oauthError: 'invalid_grant',
    description: 'The email or password is incorrect',
  },
  ERR_ACCOUNT_DISABLED: {
    status: 403,
    oauthError: 'access_denied',
    description: 'The account is disabled',
  },
  ERR_REGISTRATION_CLOSED: {
    status: 403,
    oauthError: 'access_denied',
    description: 'Registration is closed',
  },
  ERR_PASSWORD_POLICY: {
    status: 400,
    oauthError: 'invalid_request',
    description: 'The password does not meet the policy',
  },
  // --- refresh tokens ---
  ERR_REFRESH_MISSING: {
    status: 401,
    oauthError: 'invalid_grant',
    description: 'No refresh token was presented',
  },
  ERR_REFRESH_INVALID: {
    status: 401,
    oauthError: 'invalid_grant',
    description: 'The refresh token is invalid',
  },
  ERR_REFRESH_EXPIRED: {
    status: 401,
    oauthError: 'invalid_grant',
    description: 'The session has expired',
  },
  ERR_REFRESH_REVOKED: {
    status: 401,
    oauthError: 'invalid_grant',
    description: 'The session has been revoked',
  },
  ERR_REFRESH_REUSED: {
    status: 401,
    oauthError: 'invalid_grant',
    description: 'The refresh token was already used; the session has been revoked',
  },
  // --- bearer access ---
  ERR_UNAUTHENTICATED: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'Authentication is required',
  },
  ERR_TOKEN_REVOKED: {
    status: 401,
    oauthError: 'invalid_token',
    description: 'The token has been revoked',
  },
  ERR_REVOCATION_STALE: {
    status: 503,
    oauthError: 'temporarily_unavailable',
    description: 'Revocation status is not current; the request is refused until it is',
  },
  ERR_INSUFFICIENT_SCOPE: {
    status: 403,
    oauthError: 'insufficient_scope',
    description: 'The token lacks the required scope',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export const ERROR_CODES = Object.freeze(Object.keys(ERROR_TABLE)) as readonly ErrorCode[];

export interface AuthErrorOptions {
  /** The claim or header member concerned, when there is one (a name, never a value). */
  readonly claim?: string;
  /** Internal detail for logs. Must never contain token material or secrets. */
  readonly detail?: string;
  readonly cause?: unknown;
}

/** The only error type Tessera throws for a request-level failure. Switch on `code`. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly oauthError: string;
  readonly claim: string | undefined;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, options: AuthErrorOptions = {}) {
    const spec: ErrorSpec = ERROR_TABLE[code];
    super(
      options.claim === undefined ? spec.description : `${spec.description}: ${options.claim}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.status = spec.status;
    this.oauthError = spec.oauthError;
    this.claim = options.claim;
    this.detail = options.detail;
  }

  /** The public JSON body used at the HTTP edge. */
  toJSON(): { error: string; error_description: string; code: ErrorCode } {
    return { error: this.oauthError, error_description: this.message, code: this.code };
  }
}

/** True for an {@link AuthError}, optionally of one code. */
export function isAuthError(value: unknown, code?: ErrorCode): value is AuthError {
  return value instanceof AuthError && (code === undefined || value.code === code);
}
