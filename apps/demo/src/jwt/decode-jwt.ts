/**
 * Splits and decodes a compact JWS (header.payload.signature) without verifying it. Never
 * throws: malformed input comes back as a {@link DecodeFailure} with a stable code and a message
 * a person can act on.
 */

import { decodeBase64url } from './base64url.js';

export type DecodeErrorCode =
  | 'ERR_TOKEN_EMPTY'
  | 'ERR_TOKEN_ENCRYPTED'
  | 'ERR_TOKEN_PARTS'
  | 'ERR_TOKEN_BASE64URL'
  | 'ERR_TOKEN_UTF8'
  | 'ERR_TOKEN_JSON'
  | 'ERR_TOKEN_NOT_OBJECT'
  | 'ERR_TOKEN_TOO_DEEP';

export type JsonObject = { readonly [key: string]: unknown };

export interface DecodedJwt {
  readonly ok: true;
  readonly header: JsonObject;
  readonly claims: JsonObject;
  /** `header.payload` as ASCII bytes: what the signature covers. */
  readonly signingInput: Uint8Array;
  readonly signature: Uint8Array;
}

export interface DecodeFailure {
  readonly ok: false;
  readonly code: DecodeErrorCode;
  readonly message: string;
}

/**
 * Deepest nesting of objects and arrays accepted in the header or payload (the top-level object
 * is level 1). JSON.parse copes with far more, but JSON.stringify and every recursive walk over
 * the claims would overflow the stack; real tokens nest a few levels.
 */
export const MAX_JSON_DEPTH = 64;

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const PART_NAMES = ['header', 'payload', 'signature'] as const;

function fail(code: DecodeErrorCode, message: string): DecodeFailure {
  return { ok: false, code, message };
}

/** The deepest `{`/`[` nesting in JSON text, counted without recursion (brackets inside strings ignored). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
  return deepest;
}

function parseObject(
  bytes: Uint8Array,
  part: 'header' | 'payload',
): { readonly ok: true; readonly value: JsonObject } | DecodeFailure {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return fail('ERR_TOKEN_UTF8', `The ${part} is not valid UTF-8.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail('ERR_TOKEN_JSON', `The ${part} is not valid JSON (${reason}).`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('ERR_TOKEN_NOT_OBJECT', `The ${part} must be a JSON object.`);
  }
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    return fail(
      'ERR_TOKEN_TOO_DEEP',
      `The ${part} nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep: no real token does; it is not shown.`,
    );
  }
  return { ok: true, value: value as JsonObject };
}

/** Decodes a pasted token; surrounding whitespace and a leading `Bearer ` are ignored. */
export function decodeJwt(input: string): DecodedJwt | DecodeFailure {
  const token = input.trim().replace(/^bearer\s+/i, '');
  if (token === '') return fail('ERR_TOKEN_EMPTY', 'Paste a token to decode it.');
  const parts = token.split('.');
  if (parts.length === 5) {
    return fail(
      'ERR_TOKEN_ENCRYPTED',
      'This looks like an encrypted token (JWE, five parts): it cannot be read without the key.',
    );
  }
  if (parts.length !== 3) {
    return fail(
      'ERR_TOKEN_PARTS',
      `A JWT has three parts separated by dots (header.payload.signature); this one has ${parts.length}.`,
    );
  }
  const bytes: Uint8Array[] = [];
  for (const [i, part] of parts.entries()) {
    const name = PART_NAMES[i] as string;
    if (part === '' && i < 2) return fail('ERR_TOKEN_PARTS', `The ${name} part is empty.`);
    const decoded = decodeBase64url(part);
    if (decoded === undefined) {
      return fail(
        'ERR_TOKEN_BASE64URL',
        `The ${name} is not valid base64url (only A-Z a-z 0-9 - _, no padding or spaces).`,
      );
    }
    bytes.push(decoded);
  }
  const header = parseObject(bytes[0] as Uint8Array, 'header');
  if (!header.ok) return header;
  const claims = parseObject(bytes[1] as Uint8Array, 'payload');
  if (!claims.ok) return claims;
  return {
    ok: true,
    header: header.value,
    claims: claims.value,
    signingInput: new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
    signature: bytes[2] as Uint8Array,
  };
}
