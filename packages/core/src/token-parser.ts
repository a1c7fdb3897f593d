/**
 * The strict compact-JWS parser. It runs before any crypto and accepts only: a string within
 * the size limit; exactly three non-empty segments of canonical unpadded base64url; a header
 * and payload that are strict JSON objects (see strict-json.ts); a header whose members are
 * on the allowlist, whose `alg` is a string that is not `none` in any casing, and whose `kid`
 * is short printable ASCII. Nothing in a header is ever followed (no `jku`, `x5u`, `jwk`).
 */

import { decodeBase64urlStrict } from './base64url.js';
import { AuthError } from './errors.js';
import { isValidKid } from './keys.js';
import { decodeUtf8Strict, parseStrictJsonObject } from './strict-json.js';

export interface JwtHeader {
  readonly alg: string;
  readonly typ?: string;
  readonly kid?: string;
  readonly [member: string]: unknown;
}

export interface ParsedToken {
  readonly header: JwtHeader;
  readonly payload: Record<string, unknown>;
  /** `base64url(header) "." base64url(payload)`, the JWS signing input. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

export interface ParseLimits {
  /** Maximum token length, in bytes. */
  readonly maxTokenBytes: number;
  /** Maximum JSON nesting depth of header and payload; the top-level object counts as 1. */
  readonly maxJsonDepth: number;
}

/** Default maximum token length: 8 KiB. */
export const DEFAULT_MAX_TOKEN_BYTES = 8192;
/** Default maximum JSON nesting depth. */
export const DEFAULT_MAX_JSON_DEPTH = 4;

/** The header members a Tessera verifier accepts. Everything else is refused. */
export const ALLOWED_HEADER_PARAMS: ReadonlySet<string> = new Set(['alg', 'typ', 'kid']);

/** Named so that a refusal can say which one without echoing arbitrary token text. */
const KNOWN_HEADER_PARAMS: ReadonlySet<string> = new Set([
  'jku',
  'jwk',
  'x5u',
  'x5c',
  'x5t',
  'x5t#S256',
  'cty',
  'crit',
  'zip',
  'b64',
  'enc',
  'epk',
  'apu',
  'apv',
  'iv',
  'tag',
  'p2s',
  'p2c',
  'url',
  'nonce',
  'ppt',
]);

function malformed(detail: string): AuthError {
  return new AuthError('ERR_TOKEN_MALFORMED', { detail });
}

/** Splits and decodes the three segments. Throws `AuthError` on any structural fault. */
export function splitToken(
  token: unknown,
  limits: ParseLimits,
): { headerSegment: string; payloadSegment: string; signingInput: string; signature: Buffer } {
  if (typeof token !== 'string') throw malformed('token is not a string');
  if (token.length > limits.maxTokenBytes) throw new AuthError('ERR_TOKEN_TOO_LARGE');
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) throw malformed('token does not have three segments');
  if (first === 0 || second === first + 1 || second === token.length - 1) throw malformed('token has an empty segment');
  const signature = decodeBase64urlStrict(token.slice(second + 1));
  if (signature === undefined) throw malformed('signature is not canonical base64url');
  return {
    headerSegment: token.slice(0, first),
    payloadSegment: token.slice(first + 1, second),
    signingInput: token.slice(0, second),
    signature,
  };
}

export function decodeSegmentJson(
  segment: string,
  part: 'header' | 'payload',
  limits: ParseLimits,
): Record<string, unknown> {
  return parseStrictJsonObject(decodeSegmentText(segment, part), { maxDepth: limits.maxJsonDepth, part });
}

/**
 * Decoding scratch, reused by every call: the bytes are turned into a string before the
 * function returns and nothing can run in between (no await, no callback), so one buffer per
 * thread is enough. It grows to the largest segment seen, which the callers' `maxTokenBytes`
 * bounds (64 KiB at most, so under 48 KiB of scratch).
 */
let scratch = Buffer.allocUnsafe(4096);

/**
 * A segment's text: canonical unpadded base64url (the same test as decodeBase64urlStrict:
 * re-encoding the bytes must give back the exact segment), then strict UTF-8. Decoding into
 * the scratch buffer instead of `Buffer.from` skips a pool allocation and a Buffer object per
 * segment; the payload is decoded on every verification, so this is on the hot path.
 */
function decodeSegmentText(segment: string, part: 'header' | 'payload'): string {
  // The decoder writes at most floor(3 * length / 4) bytes; the margin keeps write() from ever
  // truncating, so `written` is exactly the length Buffer.from(segment, 'base64url') would have.
  const capacity = ((segment.length * 3) >>> 2) + 4;
  if (capacity > scratch.length) scratch = Buffer.allocUnsafe(capacity);
  const written = scratch.write(segment, 0, 'base64url');
  if (scratch.toString('base64url', 0, written) !== segment) throw malformed(`${part} is not canonical base64url`);
  const text = scratch.toString('utf8', 0, written);
  // As decodeUtf8Strict: without U+FFFD the lenient decode met no invalid sequence.
  if (!text.includes('\uFFFD')) return text;
  return decodeUtf8Strict(scratch.subarray(0, written), part);
}

/**
 * Parses and checks a header segment for verification. With `inspect`, unknown members and
 * `alg: none` are tolerated so that tools can show such a token; never use it to verify.
 */
export function parseHeader(segment: string, limits: ParseLimits, mode: 'verify' | 'inspect' = 'verify'): JwtHeader {
  const header = decodeSegmentJson(segment, 'header', limits);
  const alg = header.alg;
  if (typeof alg !== 'string' || alg.length === 0) throw malformed('header alg is missing or not a string');
  if (header.typ !== undefined && typeof header.typ !== 'string') throw malformed('header typ is not a string');
  if (header.kid !== undefined && !isValidKid(header.kid)) throw malformed('header kid is not short printable ASCII');
  if (mode === 'verify') {
    if (alg.toLowerCase() === 'none') throw new AuthError('ERR_ALG_NOT_ALLOWED', { detail: 'alg none' });
    for (const name in header) {
      if (!ALLOWED_HEADER_PARAMS.has(name)) {
        throw new AuthError('ERR_HEADER_PARAM_NOT_ALLOWED', {
          claim: KNOWN_HEADER_PARAMS.has(name) ? name : undefined,
        });
      }
    }
  }
  return header as JwtHeader;
}

/** Full strict parse of a token without verifying it. */
export function parseToken(token: unknown, limits: ParseLimits, mode: 'verify' | 'inspect' = 'verify'): ParsedToken {
  const parts = splitToken(token, limits);
  return {
    header: parseHeader(parts.headerSegment, limits, mode),
    payload: decodeSegmentJson(parts.payloadSegment, 'payload', limits),
    signingInput: parts.signingInput,
    signature: parts.signature,
  };
}
