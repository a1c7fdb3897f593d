/**
 * Records the real network traffic of a browser context (or one page): every request with its
 * headers, its response status, and the JSON bodies of the token endpoints, so tests can count
 * `POST /auth/refresh` exchanges and know the access tokens the server really issued.
 */

import type { BrowserContext, Page, Request, Response } from 'playwright-core';

export interface Exchange {
  readonly method: string;
  readonly url: string;
  /** `origin + pathname`, without the query. */
  readonly target: string;
  readonly pathname: string;
  /** Every request header as sent (lower-case names), filled in asynchronously. */
  headers: Record<string, string>;
  /** Undefined until the response arrives; 0 when the request failed. */
  status?: number;
  /** Response text for the token endpoints (login, refresh), when readable. */
  body?: string;
}

/** Endpoints whose response bodies carry an access token. */
const TOKEN_PATHS = new Set(['/auth/login', '/auth/refresh']);

export class TrafficRecorder {
  readonly exchanges: Exchange[] = [];
  readonly #byRequest = new Map<Request, Exchange>();
  readonly #pending = new Set<Promise<unknown>>();

  constructor(target: BrowserContext | Page) {
    // Both Page and BrowserContext emit these; the overloads differ only in `this`.
    const on = target.on.bind(target) as (event: string, listener: (value: never) => void) => unknown;
    on('request', (request: Request) => this.#onRequest(request));
    on('response', (response: Response) => this.#onResponse(response));
    on('requestfailed', (request: Request) => {
      const exchange = this.#byRequest.get(request);
      if (exchange && exchange.status === undefined) exchange.status = 0;
    });
  }

  #track(promise: Promise<unknown>): void {
    const settled = promise.catch(() => undefined).finally(() => this.#pending.delete(settled));
    this.#pending.add(settled);
  }

  #onRequest(request: Request): void {
    const url = new URL(request.url());
    const exchange: Exchange = {
      method: request.method(),
      url: request.url(),
      target: `${url.origin}${url.pathname}`,
      pathname: url.pathname,
      headers: request.headers(),
    };
    this.exchanges.push(exchange);
    this.#byRequest.set(request, exchange);
    this.#track(
      request.allHeaders().then((headers) => {
        exchange.headers = headers;
      }),
    );
  }

  #onResponse(response: Response): void {
    const exchange = this.#byRequest.get(response.request());
    if (!exchange) return;
    exchange.status = response.status();
    if (exchange.method === 'POST' && TOKEN_PATHS.has(exchange.pathname)) {
      this.#track(
        response.text().then((text) => {
          exchange.body = text;
        }),
      );
    }
  }

  /** Waits until every header and body read started so far has finished. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Index to pass to {@link since}: "from now on". */
  mark(): number {
    return this.exchanges.length;
  }

  /** Exchanges after `mark`, optionally only one method and pathname. */
  since(mark: number, method?: string, pathname?: string): Exchange[] {
    return this.exchanges
      .slice(mark)
      .filter(
        (e) => (method === undefined || e.method === method) && (pathname === undefined || e.pathname === pathname),
      );
  }

  /** Completed (answered) exchanges after `mark` for one method and pathname. */
  countAnswered(mark: number, method: string, pathname: string): number {
    return this.since(mark, method, pathname).filter((e) => e.status !== undefined && e.status > 0).length;
  }

  /** Every access token the server issued in login and refresh responses seen so far. */
  async issuedAccessTokens(): Promise<string[]> {
    await this.settle();
    const tokens: string[] = [];
    for (const exchange of this.exchanges) {
      if (exchange.status !== 200 || exchange.body === undefined) continue;
      try {
        const parsed = JSON.parse(exchange.body) as { access_token?: unknown };
        if (typeof parsed.access_token === 'string') tokens.push(parsed.access_token);
      } catch {
        // not JSON: not a token response
      }
    }
    return tokens;
  }
}
