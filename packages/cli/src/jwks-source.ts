/**
 * Loading a JWKS for `tessera verify` from a file or an http(s) URL. Remote loading is bounded
 * (5 s, 1 MiB), follows no redirects, and plain http is refused except to the local machine
 * unless explicitly allowed: a JWKS fetched over the network in clear text can be swapped.
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, UsageError } from './context.js';

export const JWKS_TIMEOUT_MS = 5_000;
export const JWKS_MAX_BYTES = 1024 * 1024;

const LOCAL_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface JwksSourceOptions {
  readonly cwd: string;
  readonly fetch: typeof fetch;
  readonly allowInsecureHttp: boolean;
  readonly timeoutMs?: number;
}

/** Where a `--jwks` value points: a URL for `http:`/`https:`, else a file path. Other schemes are refused. */
export function classifyJwksLocation(location: string, allowInsecureHttp: boolean): URL | { path: string } {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined) return { path: location };
  if (scheme !== 'http' && scheme !== 'https') {
    throw new UsageError(
      `--jwks: the "${scheme}:" scheme is not supported (use https://, http://localhost or a file path)`,
    );
  }
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new UsageError('--jwks: not a valid URL');
  }
  if (url.protocol === 'http:' && !allowInsecureHttp && !LOCAL_HOSTS.has(url.hostname)) {
    throw new UsageError(
      '--jwks: refusing plain http to a non-local host (keys fetched in clear text can be replaced); use https:// or --allow-insecure-http',
    );
  }
  return url;
}

/** The JWKS document (parsed JSON, not yet checked) at `location`. */
export async function loadJwks(location: string, options: JwksSourceOptions): Promise<unknown> {
  const target = classifyJwksLocation(location, options.allowInsecureHttp);
  const text =
    target instanceof URL ? await fetchText(target, options) : readFileText(resolve(options.cwd, target.path));
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError('the JWKS is not valid JSON');
  }
}

function readFileText(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new CliError(`cannot read the JWKS file: ${errorCode(error)}`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new CliError('the JWKS path is not a regular file');
    const buffer = Buffer.alloc(JWKS_MAX_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > JWKS_MAX_BYTES) throw new CliError(`the JWKS file is larger than ${JWKS_MAX_BYTES} bytes`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

async function fetchText(url: URL, options: JwksSourceOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? JWKS_TIMEOUT_MS;
  let response: Response;
  try {
    response = await options.fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
  } catch (error) {
    throw new CliError(`cannot fetch the JWKS: ${fetchFailure(error, timeoutMs)}`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new CliError(`cannot fetch the JWKS: HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > JWKS_MAX_BYTES) {
    await response.body?.cancel().catch(() => {});
    throw new CliError(`the JWKS is larger than ${JWKS_MAX_BYTES} bytes`);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > JWKS_MAX_BYTES) {
        await reader.cancel().catch(() => {});
        throw new CliError(`the JWKS is larger than ${JWKS_MAX_BYTES} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot fetch the JWKS: ${fetchFailure(error, timeoutMs)}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function fetchFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timed out after ${timeoutMs / 1000} s`;
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : 'network error';
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : 'unknown error';
}
