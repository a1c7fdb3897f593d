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
  | 'ERR_TOKEN_NOT_OBJECT';

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

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const PART_NAMES = ['header', 'payload', 'signature'] as const;

function fail(code: DecodeErrorCode, message: string): DecodeFailure {
  return { ok: false, code, message };
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
