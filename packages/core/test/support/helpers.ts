/**
 * Shared test helpers: AuthError assertions by code, a frozen clock, and a token forger that
 * signs arbitrary header/payload bytes correctly, so a test can make exactly one thing wrong.
 */

import {
  type AccessTokenVerifier,
  type AsyncKeyResolver,
  AuthError,
  createAccessTokenVerifier,
  createManualClock,
  createSignature,
  type ErrorCode,
  type TesseraKey,
  type VerifyOptions,
} from '@tessera/core';
import { expect } from 'vitest';

/** The frozen "now" of every test, in whole seconds since the epoch. */
export const NOW = 1_750_000_000;
export const ISSUER = 'https://issuer.example';
export const AUDIENCE = 'api://tessera-test';

export type ManualClock = ReturnType<typeof createManualClock>;

export function frozenClock(start: number = NOW): ManualClock {
  return createManualClock(start);
}

function describeThrown(thrown: unknown): string {
  if (thrown instanceof AuthError) return `AuthError ${thrown.code}${thrown.claim ? ` (claim ${thrown.claim})` : ''}`;
  if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
  return `non-error ${String(thrown)}`;
}

function checkAuthError(threw: boolean, thrown: unknown, code: ErrorCode, claim: string | undefined): AuthError {
  expect(threw, `expected AuthError ${code}, but nothing was thrown`).toBe(true);
  const ok = thrown instanceof AuthError && thrown.code === code;
  expect(ok, `expected AuthError ${code}, got ${describeThrown(thrown)}`).toBe(true);
  const error = thrown as AuthError;
  if (claim !== undefined) expect(error.claim, `claim of ${code}`).toBe(claim);
  return error;
}

/** Runs `fn`, asserts it throws an AuthError of `code` (and `claim` if given), returns the error. */
export function expectAuthError(fn: () => unknown, code: ErrorCode, claim?: string): AuthError {
  let thrown: unknown;
  let threw = false;
  try {
    fn();
  } catch (error) {
    thrown = error;
    threw = true;
  }
  return checkAuthError(threw, thrown, code, claim);
}

/** Async version of {@link expectAuthError}. */
export async function expectAuthErrorAsync(
  fn: () => Promise<unknown>,
  code: ErrorCode,
  claim?: string,
): Promise<AuthError> {
  let thrown: unknown;
  let threw = false;
  try {
    await fn();
  } catch (error) {
    thrown = error;
    threw = true;
  }
  return checkAuthError(threw, thrown, code, claim);
}

/** Returns the thrown value of `fn` (or undefined when it does not throw). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Asserts `fn` throws a TypeError whose message names `field`. */
export function expectTypeError(fn: () => unknown, field?: string): void {
  const thrown = thrownBy(fn);
  expect(thrown, 'expected a TypeError').toBeInstanceOf(TypeError);
  if (field !== undefined) expect((thrown as TypeError).message).toContain(field);
}

export function b64(input: string | Uint8Array): string {
  return (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)).toString('base64url');
}

export function b64json(value: unknown): string {
  return b64(JSON.stringify(value));
}

/** Valid RFC 9068 claims at {@link NOW}. */
export function validClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: 'user-1',
    aud: AUDIENCE,
    exp: NOW + 600,
    iat: NOW,
    jti: 'jti-0123456789abcdefghij',
    ...overrides,
  };
}

export function defaultHeader(key: TesseraKey, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { alg: key.alg, typ: 'at+jwt', kid: key.kid, ...overrides };
}

/** The base64url signature of `signingInput` (exactly as given) by `key`. */
export function signInput(key: TesseraKey, signingInput: string): string {
  return createSignature(key, Buffer.from(signingInput, 'latin1')).toString('base64url');
}

export interface ForgeParts {
  /** Header object (JSON-encoded), raw JSON text (string), or raw bytes. Default: {@link defaultHeader}. */
  readonly header?: Record<string, unknown> | string | Uint8Array;
  /** Payload object (JSON-encoded), raw JSON text (string), or raw bytes. Default: {@link validClaims}. */
  readonly payload?: Record<string, unknown> | string | Uint8Array;
  /** Use these exact segments instead of encoding header/payload. */
  readonly headerSegment?: string;
  readonly payloadSegment?: string;
}

function segmentOf(part: Record<string, unknown> | string | Uint8Array): string {
  if (typeof part === 'string' || part instanceof Uint8Array) return b64(part);
  return b64json(part);
}

/** A token whose signature is correct for exactly the segments produced. */
export function forge(key: TesseraKey, parts: ForgeParts = {}): string {
  const headerSegment = parts.headerSegment ?? segmentOf(parts.header ?? defaultHeader(key));
  const payloadSegment = parts.payloadSegment ?? segmentOf(parts.payload ?? validClaims());
  const signingInput = `${headerSegment}.${payloadSegment}`;
  return `${signingInput}.${signInput(key, signingInput)}`;
}

/** A verifier at the frozen {@link NOW} with the test issuer and audience. */
export function verifierFor(
  keys: AsyncKeyResolver,
  options: Partial<VerifyOptions> = {},
): AccessTokenVerifier & { clock: ManualClock } {
  const clock = (options.clock as ManualClock | undefined) ?? frozenClock();
  const verifier = createAccessTokenVerifier(keys, { issuer: ISSUER, audience: AUDIENCE, ...options, clock });
  return { verify: verifier.verify, verifyAsync: verifier.verifyAsync, cache: verifier.cache, clock };
}

export function splitSegments(token: string): [string, string, string] {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a three-segment token');
  return parts as [string, string, string];
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The same bytes spelled non-canonically: the last character keeps its data bits but gets a
 * non-zero unused bit. Only possible for segments whose length is not a multiple of 4.
 */
export function withNonCanonicalTrailingBits(segment: string): string {
  if (segment.length % 4 === 0) throw new Error('segment has no unused trailing bits');
  const last = ALPHABET.indexOf(segment.charAt(segment.length - 1));
  const mutated = segment.slice(0, -1) + ALPHABET.charAt(last | 1);
  if (mutated === segment) throw new Error('the unused bits were already set');
  return mutated;
}
