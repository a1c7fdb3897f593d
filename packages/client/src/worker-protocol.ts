/**
 * Worker mode's message protocol between the page and its dedicated worker, and the
 * (de)serialisation of requests and responses. Everything here is structured-cloneable; bodies
 * travel as transferred ArrayBuffers. No message from the worker ever carries a token.
 */

import type { EngineSnapshot } from './auth-engine.js';
import { AuthClientError } from './errors.js';
import type { EngineSettings } from './options.js';
import type { AuthEvent, Credentials } from './types.js';

export interface SerializedRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: ArrayBuffer;
  readonly credentials: RequestCredentials;
  readonly cache: RequestCache;
  readonly redirect: RequestRedirect;
  readonly referrerPolicy: ReferrerPolicy;
  readonly integrity: string;
  readonly keepalive: boolean;
}

export interface SerializedResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: ArrayBuffer | null;
}

export interface SerializedError {
  readonly kind: 'auth' | 'type' | 'abort' | 'other';
  readonly message: string;
  readonly code?: string;
  readonly status?: number;
  readonly oauthError?: string;
}

export type CallOp = 'login' | 'register' | 'logout' | 'logoutEverywhere' | 'restore' | 'getUser' | 'fetch';

export type PageMessage =
  | { readonly t: 'init'; readonly settings: EngineSettings }
  | { readonly t: 'call'; readonly id: number; readonly op: 'login' | 'register'; readonly credentials: Credentials }
  | { readonly t: 'call'; readonly id: number; readonly op: 'logout' | 'logoutEverywhere' | 'restore' | 'getUser' }
  | { readonly t: 'call'; readonly id: number; readonly op: 'fetch'; readonly request: SerializedRequest }
  | { readonly t: 'abort'; readonly id: number }
  | { readonly t: 'wake'; readonly reason: 'visible' | 'online' }
  | { readonly t: 'close' };

export type WorkerMessage =
  | {
      readonly t: 'result';
      readonly id: number;
      readonly ok: true;
      readonly value?: unknown;
      readonly snapshot: EngineSnapshot;
    }
  | {
      readonly t: 'result';
      readonly id: number;
      readonly ok: false;
      readonly error: SerializedError;
      readonly snapshot: EngineSnapshot;
    }
  | { readonly t: 'event'; readonly event: AuthEvent; readonly snapshot: EngineSnapshot };

const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

export function serializeError(error: unknown): SerializedError {
  if (error instanceof AuthClientError) {
    return {
      kind: 'auth',
      message: error.message,
      code: error.code,
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.oauthError === undefined ? {} : { oauthError: error.oauthError }),
    };
  }
  if (error instanceof TypeError) return { kind: 'type', message: error.message };
  if ((error as { name?: unknown } | null)?.name === 'AbortError')
    return { kind: 'abort', message: String((error as Error).message) };
  return { kind: 'other', message: error instanceof Error ? error.message : String(error) };
}

export function deserializeError(error: SerializedError): Error {
  switch (error.kind) {
    case 'auth':
      return new AuthClientError(error.code ?? 'ERR_WORKER', error.message, {
        ...(error.status === undefined ? {} : { status: error.status }),
        ...(error.oauthError === undefined ? {} : { oauthError: error.oauthError }),
      });
    case 'type':
      return new TypeError(error.message);
    case 'abort':
      return new DOMException(error.message, 'AbortError');
    default:
      return new Error(error.message);
  }
}

/** Page side: a fetch call as data. The body is read in full (so it is replayable by construction). */
export async function serializeRequest(request: Request): Promise<SerializedRequest> {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const body = hasBody ? await request.arrayBuffer() : undefined;
  return {
    url: request.url,
    method: request.method,
    headers: [...request.headers],
    ...(body === undefined || body.byteLength === 0 ? {} : { body }),
    credentials: request.credentials,
    cache: request.cache,
    redirect: request.redirect,
    referrerPolicy: request.referrerPolicy,
    integrity: request.integrity,
    keepalive: request.keepalive,
  };
}

/** Worker side: the fetch arguments back from data. */
export function requestInitOf(request: SerializedRequest, signal: AbortSignal): RequestInit {
  return {
    method: request.method,
    headers: request.headers.map(([name, value]) => [name, value] as [string, string]),
    ...(request.body === undefined ? {} : { body: request.body }),
    credentials: request.credentials,
    cache: request.cache,
    redirect: request.redirect,
    referrerPolicy: request.referrerPolicy,
    ...(request.integrity === '' ? {} : { integrity: request.integrity }),
    keepalive: request.keepalive,
    signal,
  };
}

export async function serializeResponse(response: Response): Promise<SerializedResponse> {
  const body = NULL_BODY_STATUSES.has(response.status) ? null : await response.arrayBuffer();
  return { status: response.status, statusText: response.statusText, headers: [...response.headers], body };
}

/** Page side: a real `Response` again (its `url` is empty: the constructor cannot set it). */
export function deserializeResponse(response: SerializedResponse): Response {
  if (response.status < 200 || response.status > 599) return Response.error();
  const body = NULL_BODY_STATUSES.has(response.status) ? null : response.body;
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers.map(([name, value]) => [name, value] as [string, string]),
  });
}
