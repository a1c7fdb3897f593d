/**
 * Validation of `createAuthClient` options and their defaults, in one place. Every mistake is a
 * `TypeError` that names the field, thrown before anything starts.
 */

import type { AuthClientOptions, AuthMode, AuthTimers } from './types.js';

export const DEFAULT_CHANNEL_NAME = 'tessera-auth';
export const DEFAULT_CSRF_HEADER = 'x-tessera-csrf';
export const DEFAULT_REFRESH_LEEWAY_SEC = 60;
export const DEFAULT_RETRY = { baseDelayMs: 500, maxDelayMs: 30_000, maxAttempts: 5 } as const;

/** Options shared by both modes once validated; plain data, so worker mode can post it to the worker. */
export interface EngineSettings {
  /** Issuer base URL without a trailing slash. */
  readonly issuer: string;
  readonly issuerOrigin: string;
  readonly apiOrigins: readonly string[];
  readonly refreshLeewaySec: number;
  readonly proactiveRefresh: boolean;
  readonly channelName: string;
  readonly csrfHeader: string;
  readonly retry: { readonly baseDelayMs: number; readonly maxDelayMs: number; readonly maxAttempts: number };
}

export interface ResolvedOptions {
  readonly mode: AuthMode;
  readonly settings: EngineSettings;
  readonly workerUrl?: string | URL;
  readonly fetch?: typeof fetch;
  readonly clock?: () => number;
  readonly timers?: AuthTimers;
}

const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'issuer',
  'apiOrigins',
  'refreshLeewaySec',
  'proactiveRefresh',
  'mode',
  'workerUrl',
  'channelName',
  'csrfHeader',
  'fetch',
  'retry',
  'clock',
  'timers',
]);
const RETRY_KEYS: ReadonlySet<string> = new Set(['baseDelayMs', 'maxDelayMs', 'maxAttempts']);
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

function fail(field: string, expected: string): never {
  throw new TypeError(`options.${field} must be ${expected}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** http only on loopback hosts (local development); everything else https. */
function isSecureUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (LOOPBACK_HOSTS.has(url.hostname) || url.hostname.endsWith('.localhost'));
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function resolveIssuer(value: unknown): { issuer: string; origin: string } {
  const expected = 'an absolute https URL (http only on localhost) without credentials, query or fragment';
  if (typeof value !== 'string' || value.length > 2048) fail('issuer', expected);
  const url = parseUrl(value);
  if (url === undefined || !isSecureUrl(url)) fail('issuer', expected);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || value.includes('#'))
    fail('issuer', expected);
  return { issuer: url.href.replace(/\/+$/, ''), origin: url.origin };
}

function resolveApiOrigins(value: unknown, issuerOrigin: string): string[] {
  if (value === undefined) return [issuerOrigin];
  if (!Array.isArray(value) || value.length > 64) fail('apiOrigins', 'an array of at most 64 origins');
  return value.map((entry: unknown, i) => {
    const expected = 'an exact origin such as https://api.example.com (no path, no wildcard; http only on localhost)';
    if (typeof entry !== 'string') fail(`apiOrigins[${i}]`, expected);
    const url = parseUrl(entry);
    if (url === undefined || url.origin !== entry || url.hostname.includes('*') || !isSecureUrl(url))
      fail(`apiOrigins[${i}]`, expected);
    return entry;
  });
}

function resolveInteger(value: unknown, field: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    fail(field, `an integer from ${min} to ${max}`);
  return value;
}

function resolveRetry(value: unknown): EngineSettings['retry'] {
  if (value === undefined) return DEFAULT_RETRY;
  if (!isPlainObject(value)) fail('retry', 'an object');
  for (const key of Object.keys(value)) if (!RETRY_KEYS.has(key)) fail(`retry.${key}`, 'absent (unknown option)');
  const baseDelayMs = resolveInteger(value.baseDelayMs, 'retry.baseDelayMs', DEFAULT_RETRY.baseDelayMs, 1, 600_000);
  const maxDelayMs = resolveInteger(
    value.maxDelayMs,
    'retry.maxDelayMs',
    Math.max(DEFAULT_RETRY.maxDelayMs, baseDelayMs),
    1,
    600_000,
  );
  if (maxDelayMs < baseDelayMs) fail('retry.maxDelayMs', 'at least retry.baseDelayMs');
  const maxAttempts = resolveInteger(value.maxAttempts, 'retry.maxAttempts', DEFAULT_RETRY.maxAttempts, 1, 100);
  return { baseDelayMs, maxDelayMs, maxAttempts };
}

function resolveTimers(value: unknown): AuthTimers | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value) || typeof value.setTimeout !== 'function' || typeof value.clearTimeout !== 'function')
    fail('timers', 'an object with setTimeout and clearTimeout functions');
  return value as unknown as AuthTimers;
}

export function resolveOptions(options: AuthClientOptions): ResolvedOptions {
  if (!isPlainObject(options)) throw new TypeError('options must be an object');
  for (const key of Object.keys(options)) if (!KNOWN_KEYS.has(key)) fail(key, 'absent (unknown option)');
  const o = options as unknown as Record<string, unknown>;
  const { issuer, origin } = resolveIssuer(o.issuer);
  const apiOrigins = resolveApiOrigins(o.apiOrigins, origin);

  let refreshLeewaySec = DEFAULT_REFRESH_LEEWAY_SEC;
  if (o.refreshLeewaySec !== undefined) {
    const v = o.refreshLeewaySec;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 3600)
      fail('refreshLeewaySec', 'a number of seconds from 0 to 3600');
    refreshLeewaySec = v;
  }
  if (o.proactiveRefresh !== undefined && typeof o.proactiveRefresh !== 'boolean')
    fail('proactiveRefresh', 'a boolean');
  const mode = o.mode ?? 'memory';
  if (mode !== 'memory' && mode !== 'worker') fail('mode', "'memory' or 'worker'");
  if (o.workerUrl !== undefined && typeof o.workerUrl !== 'string' && !(o.workerUrl instanceof URL))
    fail('workerUrl', 'a string or URL');
  if (o.workerUrl !== undefined && mode !== 'worker') fail('workerUrl', "used only with mode 'worker'");
  const channelName = o.channelName ?? DEFAULT_CHANNEL_NAME;
  if (typeof channelName !== 'string' || !/^[\x21-\x7e]{1,100}$/.test(channelName))
    fail('channelName', 'a non-empty printable string of at most 100 characters');
  const csrfHeader = o.csrfHeader ?? DEFAULT_CSRF_HEADER;
  if (typeof csrfHeader !== 'string' || !HEADER_NAME.test(csrfHeader) || csrfHeader === 'authorization')
    fail('csrfHeader', 'a lower-case HTTP header name');
  if (o.fetch !== undefined && typeof o.fetch !== 'function') fail('fetch', 'a function');
  if (o.clock !== undefined && typeof o.clock !== 'function') fail('clock', 'a function returning milliseconds');
  const timers = resolveTimers(o.timers);
  // Functions cannot be posted to a worker, and the worker must use the browser's own fetch.
  if (mode === 'worker') {
    for (const field of ['fetch', 'clock', 'timers'] as const)
      if (o[field] !== undefined) fail(field, "absent in mode 'worker' (memory mode only)");
  }
  const settings: EngineSettings = {
    issuer,
    issuerOrigin: origin,
    apiOrigins,
    refreshLeewaySec,
    proactiveRefresh: o.proactiveRefresh ?? true,
    channelName,
    csrfHeader,
    retry: resolveRetry(o.retry),
  };
  return {
    mode,
    settings,
    ...(o.workerUrl === undefined ? {} : { workerUrl: o.workerUrl as string | URL }),
    ...(o.fetch === undefined ? {} : { fetch: o.fetch as typeof fetch }),
    ...(o.clock === undefined ? {} : { clock: o.clock as () => number }),
    ...(timers === undefined ? {} : { timers }),
  };
}

/** The worker re-checks settings it receives over postMessage: they are data from the page. */
export function isEngineSettings(value: unknown): value is EngineSettings {
  if (!isPlainObject(value)) return false;
  try {
    const retry = value.retry as Record<string, unknown> | undefined;
    const resolved = resolveOptions({
      issuer: value.issuer as string,
      apiOrigins: value.apiOrigins as string[],
      refreshLeewaySec: value.refreshLeewaySec as number,
      proactiveRefresh: value.proactiveRefresh as boolean,
      channelName: value.channelName as string,
      csrfHeader: value.csrfHeader as string,
      retry: isPlainObject(retry)
        ? {
            baseDelayMs: retry.baseDelayMs as number,
            maxDelayMs: retry.maxDelayMs as number,
            maxAttempts: retry.maxAttempts as number,
          }
        : (retry as never),
    });
    return resolved.settings.issuer === value.issuer && resolved.settings.issuerOrigin === value.issuerOrigin;
  } catch {
    return false;
  }
}
