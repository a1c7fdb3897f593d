/**
 * A browser stand-in for Node's fetch: a cookie jar (Node's fetch has none) plus the headers a
 * browser adds by itself (`Origin`, `Sec-Fetch-Site`). Also records every request and lets a
 * test fail or answer requests (network errors, 5xx, 429) through interceptors.
 */

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly credentials: RequestCredentials;
}

/** Returns a Response to answer instead of the network, throws to simulate a network error, or undefined to pass. */
export type Interceptor = (request: Request) => Response | undefined | Promise<Response | undefined>;

export interface CookieJarFetch {
  readonly fetch: typeof fetch;
  readonly requests: RecordedRequest[];
  readonly interceptors: Interceptor[];
  /** The current value of a cookie, or undefined. */
  cookie(name: string): string | undefined;
  setCookie(name: string, value: string): void;
  clear(): void;
}

interface StoredCookie {
  value: string;
  path: string;
}

export function createCookieJarFetch(pageOrigin: string): CookieJarFetch {
  const jar = new Map<string, StoredCookie>();
  const requests: RecordedRequest[] = [];
  const interceptors: Interceptor[] = [];

  const jarFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const sameOrigin = url.origin === pageOrigin;
    const headers = new Headers(request.headers);
    const sendCookies = request.credentials === 'include' || (request.credentials === 'same-origin' && sameOrigin);
    if (sendCookies && sameOrigin) {
      const cookies = [...jar].filter(([, c]) => url.pathname.startsWith(c.path)).map(([n, c]) => `${n}=${c.value}`);
      if (cookies.length > 0) headers.set('cookie', cookies.join('; '));
    }
    // What a browser adds on its own to a fetch from a page on pageOrigin.
    if (request.method !== 'GET' && request.method !== 'HEAD') headers.set('origin', pageOrigin);
    headers.set('sec-fetch-site', sameOrigin ? 'same-origin' : 'cross-site');
    headers.set('sec-fetch-mode', 'cors');
    const outgoing = new Request(request, { headers });
    requests.push({
      method: outgoing.method,
      url: outgoing.url,
      headers: Object.fromEntries(outgoing.headers),
      credentials: request.credentials,
    });
    for (const intercept of interceptors) {
      const answer = await intercept(outgoing.clone());
      if (answer !== undefined) return answer;
    }
    const response = await fetch(outgoing, { redirect: request.redirect === 'error' ? 'error' : request.redirect });
    if (sameOrigin && sendCookies) {
      for (const line of response.headers.getSetCookie()) storeCookie(line);
    }
    return response;
  };

  function storeCookie(line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((p) => p.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    let path = '/';
    let expired = value === '';
    for (const attribute of attributes) {
      const [key = '', val = ''] = attribute.split('=');
      if (key.toLowerCase() === 'path') path = val;
      if (key.toLowerCase() === 'max-age' && Number(val) <= 0) expired = true;
      if (key.toLowerCase() === 'expires' && Date.parse(val) < Date.parse('2000-01-01')) expired = true;
    }
    if (expired) jar.delete(name);
    else jar.set(name, { value, path });
  }

  return {
    fetch: jarFetch as typeof fetch,
    requests,
    interceptors,
    cookie: (name) => jar.get(name)?.value,
    setCookie: (name, value) => jar.set(name, { value, path: '/auth' }),
    clear: () => jar.clear(),
  };
}

/** A network failure, as fetch reports one. */
export function networkError(): never {
  throw new TypeError('fetch failed');
}
