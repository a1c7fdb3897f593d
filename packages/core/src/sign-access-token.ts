/**
 * Access token issuance (RFC 9068): header `{alg, typ: "at+jwt", kid}`; claims `iss, sub, aud,
 * exp, iat, jti` plus the caller's extras. Extras pass a claim policy: reserved claims cannot
 * be overridden, sensitive-looking names (`password`, `email`, `*_token`, ...) are refused
 * unless explicitly allowed, values must be plain JSON, and nesting is bounded. Access tokens
 * are readable by anyone who holds them; this keeps personal data and secrets out.
 */

import { AuthError } from './errors.js';
import type { TesseraKey } from './keys.js';
import { checkInteger, checkNonEmptyString, checkStringOrList } from './options.js';
import { takeRandomBytes } from './random.js';
import { createSignature, createSignatureAsync } from './signature.js';
import { type Clock, systemClock } from './time.js';
import type { AccessTokenClaims } from './verify-access-token.js';

export interface SignOptions {
  /** The `iss` claim. Required. */
  readonly issuer: string;
  /** The `aud` claim: one audience or several. Required. */
  readonly audience: string | readonly string[];
  /** Lifetime, in seconds. Default 600 (10 min); 60 to 3,600. 300-900 is the recommended band. */
  readonly ttlSec?: number;
  /** Header `typ`. Default `"at+jwt"`. */
  readonly typ?: string;
  /** Claim names allowed although they look sensitive (e.g. `["email"]`). Default none. */
  readonly allowClaims?: readonly string[];
  /** Maximum nesting of an extra claim's value (a flat array is 1). Default 2; 0 to 8. */
  readonly maxClaimDepth?: number;
  /** Clock in whole seconds since the epoch. Default: the system clock. */
  readonly clock?: Clock;
}

export interface AccessTokenInput {
  readonly sub: string;
  readonly sid?: string;
  readonly client_id?: string;
  readonly scope?: string;
  readonly auth_time?: number;
  readonly [claim: string]: unknown;
}

export interface SignedAccessToken {
  readonly token: string;
  readonly claims: AccessTokenClaims;
}

/** Set by the signer; a caller supplying them is a programming error. */
const RESERVED_CLAIMS: ReadonlySet<string> = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti']);

/** Normalised (lower-case, letters and digits only) fragments that mark a sensitive claim. */
const SENSITIVE_FRAGMENTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'apikey',
  'privatekey',
  'creditcard',
  'cardnumber',
  'cvv',
  'email',
  'phone',
  'token',
  'birthdate',
  'dateofbirth',
  'socialsecurity',
  'iban',
];
const SENSITIVE_EXACT: ReadonlySet<string> = new Set(['pwd', 'pin', 'ssn', 'dob', 'otp', 'cookie', 'session_secret']);

export function isSensitiveClaimName(name: string): boolean {
  const normal = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return (
    SENSITIVE_EXACT.has(name.toLowerCase()) ||
    SENSITIVE_EXACT.has(normal) ||
    SENSITIVE_FRAGMENTS.some((f) => normal.includes(f))
  );
}

function refuse(claim: string, detail: string): AuthError {
  return new AuthError('ERR_CLAIM_NOT_ALLOWED', { claim, detail });
}

function checkValue(
  value: unknown,
  claim: string,
  depth: number,
  maxDepth: number,
  allowed: ReadonlySet<string>,
): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw refuse(claim, 'not a finite number');
    return;
  }
  if (typeof value !== 'object') throw refuse(claim, `a ${typeof value} is not JSON`);
  if (depth >= maxDepth) throw refuse(claim, 'nested too deeply');
  if (Array.isArray(value)) {
    for (const item of value) checkValue(item, claim, depth + 1, maxDepth, allowed);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw refuse(claim, 'not a plain object');
  for (const [name, item] of Object.entries(value)) {
    if (name === '__proto__') throw refuse(claim, 'contains a "__proto__" member');
    if (isSensitiveClaimName(name) && !allowed.has(name)) throw refuse(claim, 'contains a sensitive-looking member');
    checkValue(item, claim, depth + 1, maxDepth, allowed);
  }
}

/** 128 random bits, base64url: the `jti`. */
export function createTokenId(): string {
  return takeRandomBytes(16).toString('base64url');
}

interface CompiledSignOptions {
  readonly issuer: string;
  readonly aud: string | readonly string[];
  readonly ttlSec: number;
  readonly typ: string;
  readonly maxDepth: number;
  readonly allowed: ReadonlySet<string>;
  readonly clock: Clock;
}

function compileSignOptions(options: SignOptions): CompiledSignOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const audiences = Object.freeze([...checkStringOrList(options.audience, 'audience')]);
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'function') throw new TypeError('clock must be a function');
  return {
    issuer: checkNonEmptyString(options.issuer, 'issuer'),
    aud: audiences.length === 1 ? (audiences[0] as string) : audiences,
    ttlSec: checkInteger(options.ttlSec ?? 600, 'ttlSec', 60, 3600, 'seconds'),
    typ: options.typ === undefined ? 'at+jwt' : checkNonEmptyString(options.typ, 'typ', 64),
    maxDepth: checkInteger(options.maxClaimDepth ?? 2, 'maxClaimDepth', 0, 8),
    allowed: new Set(options.allowClaims ?? []),
    clock,
  };
}

/** Validates the input and builds the claims and the JWS signing input. */
function prepareAccessToken(
  input: AccessTokenInput,
  key: TesseraKey,
  opts: CompiledSignOptions,
): { signingInput: string; claims: Record<string, unknown> } {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new TypeError('claims must be an object');
  const { issuer, ttlSec, typ, maxDepth, allowed, clock } = opts;
  checkNonEmptyString(input.sub, 'claims.sub', 1024);
  for (const claim of ['sid', 'client_id', 'scope'] as const) {
    if (input[claim] !== undefined) checkNonEmptyString(input[claim], `claims.${claim}`, 1024);
  }
  if (input.auth_time !== undefined && !(Number.isSafeInteger(input.auth_time) && input.auth_time >= 0)) {
    throw new TypeError('claims.auth_time must be a NumericDate (whole seconds)');
  }

  const iat = clock();
  const claims: Record<string, unknown> = {
    iss: issuer,
    sub: input.sub,
    aud: opts.aud,
    exp: iat + ttlSec,
    iat,
    jti: createTokenId(),
  };
  for (const [name, value] of Object.entries(input)) {
    if (name === 'sub' || value === undefined) continue;
    // A `__proto__` claim would replace the prototype of `claims` instead of adding a member.
    if (name === '__proto__') throw refuse(name, 'reserved JavaScript property name');
    if (RESERVED_CLAIMS.has(name)) throw new TypeError(`claims.${name} is set by the signer and cannot be supplied`);
    if (isSensitiveClaimName(name) && !allowed.has(name)) throw refuse(name, 'sensitive-looking claim name');
    checkValue(value, name, 0, maxDepth, allowed);
    claims[name] = value;
  }

  const signingInput = `${key.headerSegment(typ)}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return { signingInput, claims };
}

export function signAccessToken(input: AccessTokenInput, key: TesseraKey, options: SignOptions): SignedAccessToken {
  const { signingInput, claims } = prepareAccessToken(input, key, compileSignOptions(options));
  const signature = createSignature(key, Buffer.from(signingInput, 'latin1')).toString('base64url');
  return { token: `${signingInput}.${signature}`, claims: Object.freeze(claims) as unknown as AccessTokenClaims };
}

/**
 * {@link signAccessToken} with the signature computed on libuv's threadpool. Same checks, same
 * output; the auth server uses it so that signing runs on another core than its event loop.
 */
export async function signAccessTokenAsync(
  input: AccessTokenInput,
  key: TesseraKey,
  options: SignOptions,
): Promise<SignedAccessToken> {
  return finishAsync(key, prepareAccessToken(input, key, compileSignOptions(options)));
}

async function finishAsync(
  key: TesseraKey,
  prepared: { signingInput: string; claims: Record<string, unknown> },
): Promise<SignedAccessToken> {
  const signature = (await createSignatureAsync(key, Buffer.from(prepared.signingInput, 'latin1'))).toString(
    'base64url',
  );
  return {
    token: `${prepared.signingInput}.${signature}`,
    claims: Object.freeze(prepared.claims) as unknown as AccessTokenClaims,
  };
}

export interface AccessTokenSigner {
  sign(input: AccessTokenInput, key: TesseraKey): SignedAccessToken;
  signAsync(input: AccessTokenInput, key: TesseraKey): Promise<SignedAccessToken>;
}

/**
 * A signer with its options validated once (a `TypeError` names a bad field), for servers that
 * mint many tokens under one policy. The key is passed per call because keys rotate.
 */
export function createAccessTokenSigner(options: SignOptions): AccessTokenSigner {
  const opts = compileSignOptions(options);
  return Object.freeze({
    sign(input: AccessTokenInput, key: TesseraKey): SignedAccessToken {
      const { signingInput, claims } = prepareAccessToken(input, key, opts);
      const signature = createSignature(key, Buffer.from(signingInput, 'latin1')).toString('base64url');
      return { token: `${signingInput}.${signature}`, claims: Object.freeze(claims) as unknown as AccessTokenClaims };
    },
    signAsync(input: AccessTokenInput, key: TesseraKey): Promise<SignedAccessToken> {
      return finishAsync(key, prepareAccessToken(input, key, opts));
    },
  });
}
