/**
 * A remote JWKS: fetched over https (http only for loopback hosts unless explicitly allowed),
 * with a timeout and a size limit counted while streaming; cached for the response's
 * `Cache-Control: max-age` within bounds and refreshed in the background before it expires;
 * an unknown `kid` triggers at most one refetch per cooldown, shared by all concurrent requests
 * (single flight); the last good set keeps serving while the auth server is down.
 */

import { type ImportJwksResult, importJwks, type JwtHeader, type KeySet, type TesseraKey } from '@tessera/core';
import { GuardError } from './response.js';

export interface GuardLogger {
  warn(details: object, message: string): void;
}

export interface RemoteJwksOptions {
  /** The JWKS URL; undefined when `discover` finds it. */
  readonly url: URL | undefined;
  /** Finds the JWKS URL (authorization server metadata), called until it succeeds. */
  readonly discover?: (() => Promise<URL>) | undefined;
  /** Fetch timeout, ms. */
  readonly timeoutMs: number;
  /** Body size limit, bytes. */
  readonly maxBytes: number;
  /** Cache lifetime bounds, seconds. */
  readonly minCacheSec: number;
  readonly maxCacheSec: number;
  /** Lifetime when the response has no usable max-age, seconds. */
  readonly defaultCacheSec: number;
  /** Minimum interval between unknown-kid refetches, seconds. */
  readonly cooldownSec: number;
  readonly logger: GuardLogger | undefined;
  readonly fetch: typeof fetch;
}

export interface JwksStats {
  fetches: number;
  fetchFailures: number;
  unknownKidRefetches: number;
  /** Keys in the current set. */
  keys: number;
}

/** Cache-Control max-age in seconds, 0 for no-store/no-cache, undefined when absent. */
export function cacheControlMaxAge(header: string | null): number | undefined {
  if (header === null) return undefined;
  let maxAge: number | undefined;
  for (const part of header.split(',')) {
    const directive = part.trim().toLowerCase();
    if (directive === 'no-store' || directive === 'no-cache') return 0;
    const match = /^max-age\s*=\s*"?(\d{1,10})"?$/.exec(directive);
    if (match !== null) maxAge = Number(match[1]);
  }
  return maxAge;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** Checks a JWKS or metadata URL: https, or http for loopback hosts unless `allowInsecure`. */
export function checkFetchUrl(value: unknown, field: string, allowInsecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(value as string);
  } catch {
    throw new TypeError(`${field} must be an absolute https URL`);
  }
  if (url.username !== '' || url.password !== '') throw new TypeError(`${field} must not contain credentials`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (allowInsecure || LOOPBACK.test(url.hostname))) return url;
  throw new TypeError(`${field} must be an https URL (http only for loopback hosts, or with allowInsecureHttp)`);
}

/** GETs a JSON document with a timeout and a size limit counted while streaming. */
export async function fetchJson(
  url: URL,
  options: Pick<RemoteJwksOptions, 'timeoutMs' | 'maxBytes' | 'fetch'>,
): Promise<{ json: unknown; cacheControl: string | null }> {
  const response = await options.fetch(url, {
    method: 'GET',
    headers: { accept: 'application/json, application/jwk-set+json' },
    redirect: 'error',
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > options.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`response larger than ${options.maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body !== null) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > options.maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new Error(`response larger than ${options.maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return { json: JSON.parse(text), cacheControl: response.headers.get('cache-control') };
}

export class RemoteJwks {
  readonly #options: RemoteJwksOptions;
  #url: URL | undefined;
  #keySet: KeySet | undefined;
  #inflight: Promise<KeySet | undefined> | undefined;
  /** ms timestamps (performance.now()). */
  #lastUnknownKidFetch = Number.NEGATIVE_INFINITY;
  #nextAttemptAfterFailure = Number.NEGATIVE_INFINITY;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #expiresAt = 0;
  readonly stats: JwksStats = { fetches: 0, fetchFailures: 0, unknownKidRefetches: 0, keys: 0 };

  constructor(options: RemoteJwksOptions) {
    this.#options = options;
    this.#url = options.url;
  }

  /** The JWKS URL (after discovery, when discovery is used). */
  get url(): URL | undefined {
    return this.#url;
  }

  get keySet(): KeySet | undefined {
    return this.#keySet;
  }

  /** Seconds until the cached set's max-age runs out (background refresh happens before). */
  get ttlRemainingSec(): number {
    return Math.max(0, (this.#expiresAt - performance.now()) / 1000);
  }

  /** Loads the set if none is loaded yet. Resolves when a set is available; rejects otherwise. */
  async ready(): Promise<void> {
    if (this.#keySet !== undefined) return;
    if ((await this.#refresh()) === undefined) {
      throw new GuardError('ERR_SERVICE_UNAVAILABLE', { detail: 'JWKS unavailable', retryAfterSec: 5 });
    }
  }

  /**
   * The key for a token header. Synchronous when the key is known; a promise when the set must be
   * (re)fetched: first load, or an unknown `kid` outside the cooldown.
   */
  resolve = (header: JwtHeader): TesseraKey | undefined | Promise<TesseraKey | undefined> => {
    const set = this.#keySet;
    if (set === undefined) return this.#firstLoad(header);
    const key = lookup(set, header);
    if (key !== undefined) return key;
    const now = performance.now();
    // A refetch already in flight (for any reason) is shared; otherwise at most one per cooldown.
    if (this.#inflight !== undefined)
      return this.#inflight.then((s) => (s === undefined ? undefined : lookup(s, header)));
    if (now - this.#lastUnknownKidFetch < this.#options.cooldownSec * 1000) return undefined;
    this.#lastUnknownKidFetch = now;
    this.stats.unknownKidRefetches++;
    return this.#refresh().then((s) => (s === undefined ? undefined : lookup(s, header)));
  };

  async #firstLoad(header: JwtHeader): Promise<TesseraKey | undefined> {
    let set: KeySet | undefined;
    if (this.#inflight !== undefined) set = await this.#inflight;
    else if (performance.now() >= this.#nextAttemptAfterFailure) set = await this.#refresh();
    if (set === undefined) {
      throw new GuardError('ERR_SERVICE_UNAVAILABLE', { detail: 'JWKS unavailable', retryAfterSec: 5 });
    }
    return lookup(set, header);
  }

  /** One fetch at a time: concurrent callers share it. Resolves to the current set (the last good one on failure). */
  #refresh(): Promise<KeySet | undefined> {
    if (this.#inflight !== undefined) return this.#inflight;
    const inflight = this.#fetchOnce().finally(() => {
      this.#inflight = undefined;
    });
    this.#inflight = inflight;
    return inflight;
  }

  async #fetchOnce(): Promise<KeySet | undefined> {
    const o = this.#options;
    this.stats.fetches++;
    try {
      if (this.#url === undefined) {
        if (o.discover === undefined) throw new Error('no JWKS URL');
        this.#url = await o.discover();
      }
      const { json, cacheControl } = await fetchJson(this.#url, o);
      const result: ImportJwksResult = importJwks(json);
      if (result.keySet.size === 0) throw new Error('the JWKS holds no usable key');
      if (result.skipped.length > 0 && o.logger !== undefined) {
        o.logger.warn({ url: this.#url.href, skipped: result.skipped }, 'guard: JWKS keys skipped');
      }
      this.#keySet = result.keySet;
      this.stats.keys = result.keySet.size;
      this.#failures = 0;
      this.#nextAttemptAfterFailure = Number.NEGATIVE_INFINITY;
      const maxAge = cacheControlMaxAge(cacheControl) ?? o.defaultCacheSec;
      const ttlSec = Math.min(o.maxCacheSec, Math.max(o.minCacheSec, maxAge));
      this.#expiresAt = performance.now() + ttlSec * 1000;
      // Refresh at 80% of the lifetime, so the set is renewed before it would expire.
      this.#schedule(ttlSec * 800);
      return result.keySet;
    } catch (error) {
      this.stats.fetchFailures++;
      this.#failures++;
      // Back off 1 s, 2 s, 4 s ... up to the cooldown; keep serving the last good set meanwhile.
      const backoffMs = Math.min(o.cooldownSec * 1000, 1000 * 2 ** Math.min(this.#failures - 1, 16));
      this.#nextAttemptAfterFailure = performance.now() + backoffMs;
      o.logger?.warn(
        {
          url: this.#url?.href,
          error: error instanceof Error ? error.message : String(error),
          failures: this.#failures,
        },
        this.#keySet === undefined
          ? 'guard: JWKS fetch failed; no keys yet'
          : 'guard: JWKS fetch failed; serving the last good set',
      );
      if (this.#keySet !== undefined) this.#schedule(backoffMs);
      return this.#keySet;
    }
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        void this.#refresh();
      },
      Math.max(1, Math.round(delayMs)),
    );
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function lookup(set: KeySet, header: JwtHeader): TesseraKey | undefined {
  return header.kid === undefined ? set.onlyKeyFor(header.alg) : set.get(header.kid);
}
