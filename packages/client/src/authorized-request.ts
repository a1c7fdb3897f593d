/**
 * Building the requests `client.fetch` sends: which URL a request goes to, whether it may carry
 * the token, the Bearer header, and the replayable-body rule that makes the one retry possible.
 */

export const BODY_RULE =
  'init.body must be replayable for the retry after a refresh: a string, Blob, ArrayBuffer, typed array, URLSearchParams or FormData (not a ReadableStream)';

/** The absolute URL a fetch input targets; relative inputs resolve against `baseUrl` (`location.href`). */
export function resolveRequestUrl(input: unknown, baseUrl: string | undefined): URL {
  let raw: string;
  if (typeof Request !== 'undefined' && input instanceof Request) raw = input.url;
  else if (input instanceof URL) raw = input.href;
  else if (typeof input === 'string') raw = input;
  else throw new TypeError('fetch: input must be a string, URL or Request');
  try {
    return baseUrl === undefined ? new URL(raw) : new URL(raw, baseUrl);
  } catch (cause) {
    throw new TypeError(
      baseUrl === undefined
        ? 'fetch: input must be an absolute URL here (no location to resolve a relative one against)'
        : 'fetch: input is not a valid URL',
      { cause },
    );
  }
}

export function assertReplayableBody(init: RequestInit | undefined): void {
  const body = init?.body;
  if (body === undefined || body === null) return;
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream)
    throw new TypeError(`fetch: ${BODY_RULE}`);
}

/** The token endpoints answer with tokens: `client.fetch` never sends there (in worker mode that would hand the page a token). */
export function isTokenEndpoint(url: URL, issuer: string): boolean {
  const base = new URL(issuer);
  if (url.origin !== base.origin) return false;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return true;
  }
  path = path.replace(/\/{2,}/g, '/').toLowerCase();
  const prefix = base.pathname.replace(/\/+$/, '').toLowerCase();
  if (!path.startsWith(prefix)) return false;
  return /^\/(auth\/(login|refresh)|oauth\/token)\/?$/.test(path.slice(prefix.length));
}

/**
 * Whether a response to a request that carried the token came from a token endpoint after all:
 * `fetch` follows redirects, so a same-origin 307/308 from an API route onto `/auth/refresh`
 * would answer with a fresh token (in worker mode, to the page). An unparsable final URL counts.
 */
export function isTokenEndpointResponse(response: Response, issuer: string): boolean {
  if (response.url === '') return false;
  let url: URL;
  try {
    url = new URL(response.url);
  } catch {
    return true;
  }
  return isTokenEndpoint(url, issuer);
}

/** The fetch arguments with `Authorization: Bearer`, leaving the caller's input and init unused for a retry. */
export function withBearer(
  input: RequestInfo | URL,
  url: URL,
  init: RequestInit | undefined,
  token: string,
): [RequestInfo | URL, RequestInit | undefined] {
  if (typeof Request !== 'undefined' && input instanceof Request) {
    const request = new Request(input.clone(), init);
    request.headers.set('authorization', `Bearer ${token}`);
    return [request, undefined];
  }
  const headers = new Headers(init?.headers);
  headers.set('authorization', `Bearer ${token}`);
  return [url.href, { ...init, headers }];
}

/** RFC 6750 section 3.1: the token itself was refused (expired, revoked, bad signature). */
export function isInvalidTokenChallenge(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get('www-authenticate') ?? '';
  return /^\s*bearer\b/i.test(challenge) && /\berror\s*=\s*"?invalid_token"?/i.test(challenge);
}
