/**
 * The HTTP calls to the auth server's own endpoints and the reading of their answers. Cookie
 * endpoints get `credentials: 'include'`, the CSRF header and a JSON body; errors become
 * `AuthClientError` with the server's `code`.
 */

import { type AccessToken, createAccessToken, parseTokenBody } from './access-token.js';
import { parseRetryAfter } from './backoff.js';
import { AuthClientError } from './errors.js';
import type { EngineSettings } from './options.js';
import type { Credentials } from './types.js';

/** An auth request that has not answered after this long counts as a network error, ms. */
export const AUTH_REQUEST_TIMEOUT_MS = 15_000;
const MAX_ERROR_BODY = 8192;

export interface AuthApiContext {
  readonly settings: EngineSettings;
  readonly fetch: typeof fetch;
  readonly now: () => number;
}

export type RefreshOutcome =
  | { readonly kind: 'ok'; readonly token: AccessToken }
  /** The session is over (`invalid_grant`): expired, revoked, unknown, missing or reused. */
  | { readonly kind: 'invalid-grant'; readonly error: AuthClientError }
  /** Worth retrying later: no answer, 5xx, or 429. */
  | { readonly kind: 'retry'; readonly error: AuthClientError; readonly retryAfterMs?: number }
  /** A refusal that retrying cannot fix (CSRF, bad configuration, malformed answer). */
  | { readonly kind: 'fatal'; readonly error: AuthClientError };

export function authUrl(settings: EngineSettings, path: string): string {
  return `${settings.issuer}${path}`;
}

function timeoutSignal(): AbortSignal | undefined {
  return typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(AUTH_REQUEST_TIMEOUT_MS) : undefined;
}

/** Request options for a cookie endpoint: JSON body, CSRF header, cookies included, never cached or redirected. */
export function cookieRequest(settings: EngineSettings, body: unknown, bearer?: string): RequestInit {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': 'application/json',
    [settings.csrfHeader]: '1',
  };
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  const signal = timeoutSignal();
  return {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    credentials: 'include',
    cache: 'no-store',
    redirect: 'error',
    ...(signal === undefined ? {} : { signal }),
  };
}

async function send(ctx: AuthApiContext, path: string, init: RequestInit): Promise<Response> {
  try {
    return await ctx.fetch(authUrl(ctx.settings, path), init);
  } catch (cause) {
    throw new AuthClientError('ERR_NETWORK', undefined, { cause });
  }
}

async function readJson(response: Response): Promise<unknown> {
  try {
    const text = await response.text();
    return text.length > 0 && text.length <= 1_000_000 ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The server's `{ error, error_description, code }` as an `AuthClientError` (bounded, never trusted blindly). */
export async function readServerError(response: Response): Promise<AuthClientError> {
  let body: Record<string, unknown> = {};
  try {
    const text = (await response.text()).slice(0, MAX_ERROR_BODY);
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's error page): the status alone has to do.
  }
  const code =
    typeof body.code === 'string' && /^ERR_[A-Z0-9_]{1,60}$/.test(body.code)
      ? body.code
      : response.status >= 500 || response.status === 429
        ? 'ERR_NETWORK'
        : 'ERR_BAD_RESPONSE';
  const oauthError = typeof body.error === 'string' && /^[a-z_]{1,60}$/.test(body.error) ? body.error : undefined;
  const description =
    typeof body.error_description === 'string' ? body.error_description.slice(0, 300) : `HTTP ${response.status}`;
  return new AuthClientError(code, description, {
    status: response.status,
    ...(oauthError === undefined ? {} : { oauthError }),
  });
}

async function readToken(ctx: AuthApiContext, response: Response, sentAt: number): Promise<AccessToken> {
  const receivedAt = ctx.now();
  const body = parseTokenBody(await readJson(response));
  if (body === undefined)
    throw new AuthClientError('ERR_BAD_RESPONSE', 'The token response is malformed', { status: response.status });
  return createAccessToken(body, { sentAt, receivedAt, date: response.headers.get('date') });
}

export async function requestLogin(ctx: AuthApiContext, credentials: Credentials): Promise<AccessToken> {
  const sentAt = ctx.now();
  const response = await send(
    ctx,
    '/auth/login',
    cookieRequest(ctx.settings, { email: credentials.email, password: credentials.password }),
  );
  if (response.status !== 200) throw await readServerError(response);
  return readToken(ctx, response, sentAt);
}

export async function requestRegister(ctx: AuthApiContext, credentials: Credentials): Promise<void> {
  const init = cookieRequest(ctx.settings, { email: credentials.email, password: credentials.password });
  // Registration sets no cookie and reads none.
  const response = await send(ctx, '/auth/register', { ...init, credentials: 'omit' });
  if (!response.ok) throw await readServerError(response);
  await response.body?.cancel();
}

export async function requestRefresh(ctx: AuthApiContext): Promise<RefreshOutcome> {
  const sentAt = ctx.now();
  let response: Response;
  try {
    response = await send(ctx, '/auth/refresh', cookieRequest(ctx.settings, {}));
  } catch (error) {
    return { kind: 'retry', error: error as AuthClientError };
  }
  if (response.status === 200) {
    try {
      return { kind: 'ok', token: await readToken(ctx, response, sentAt) };
    } catch (error) {
      return { kind: 'fatal', error: error as AuthClientError };
    }
  }
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), ctx.now());
  const error = await readServerError(response);
  if (error.oauthError === 'invalid_grant' || (response.status === 401 && error.code.startsWith('ERR_REFRESH_')))
    return { kind: 'invalid-grant', error };
  if (response.status === 429 || response.status >= 500)
    return { kind: 'retry', error, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  return { kind: 'fatal', error };
}

/** `/auth/logout`: the bearer (when still valid) lets the server denylist its `jti` too. */
export async function requestLogout(ctx: AuthApiContext, bearer: string | undefined): Promise<void> {
  const response = await send(ctx, '/auth/logout', cookieRequest(ctx.settings, {}, bearer));
  if (!response.ok) throw await readServerError(response);
  await response.body?.cancel();
}

export function isWhoAmI(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const user = v.user as Record<string, unknown> | undefined;
  return (
    typeof user === 'object' &&
    user !== null &&
    typeof user.id === 'string' &&
    typeof user.email === 'string' &&
    typeof user.status === 'string' &&
    typeof v.claims === 'object' &&
    v.claims !== null
  );
}

export { readJson };
