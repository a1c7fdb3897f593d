/**
 * Strict JSON for token headers and payloads: RFC 8259 grammar only, no duplicate member names
 * at any level (RFC 7515 section 5.2 lets implementations reject them, and parser
 * differentials on duplicates are a known token-confusion attack), a nesting limit, and a
 * top-level object.
 *
 * Fast path: `JSON.parse`, then `JSON.stringify` of the result compared with the input. If they
 * are equal the input is the canonical serialisation of an object and so cannot contain
 * duplicates. Tokens minted by Tessera, jose and most libraries take this path. Anything else
 * (whitespace, escapes, integer-like keys, other number spellings, duplicates) falls through
 * to a full validating scanner.
 */

import { AuthError } from './errors.js';

export interface StrictJsonOptions {
  /** Maximum nesting depth of objects and arrays; the top-level object counts as 1. */
  readonly maxDepth: number;
  /** Which part is parsed, used in error detail. */
  readonly part: 'header' | 'payload';
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly: invalid sequences are an error, not U+FFFD. */
export function decodeUtf8Strict(bytes: Uint8Array, part: string): string {
  const text = Buffer.prototype.toString.call(bytes, 'utf8') as string;
  if (!text.includes('\uFFFD')) return text;
  try {
    return decoder.decode(bytes);
  } catch {
    throw new AuthError('ERR_TOKEN_MALFORMED', { detail: `${part} is not valid UTF-8` });
  }
}

export function parseStrictJsonObject(text: string, options: StrictJsonOptions): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(options.part, 'is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(options.part, 'is not a JSON object');
  }
  if (depthOf(value, 1, options.maxDepth) > options.maxDepth) {
    throw malformed(options.part, 'is nested too deeply');
  }
  if (JSON.stringify(value) !== text) validateJson(text, options);
  return value as Record<string, unknown>;
}

function malformed(part: string, why: string): AuthError {
  return new AuthError('ERR_TOKEN_MALFORMED', { detail: `${part} ${why}` });
}

function depthOf(value: unknown, depth: number, max: number): number {
  if (depth > max) return depth;
  let deepest = depth;
  const children = Array.isArray(value) ? value : Object.values(value as object);
  for (const child of children) {
    if (typeof child === 'object' && child !== null) {
      const d = depthOf(child, depth + 1, max);
      if (d > deepest) deepest = d;
      if (deepest > max) return deepest;
    }
  }
  return deepest;
}

/**
 * A validating scanner for the slow path. `JSON.parse` has already accepted the text, so the
 * grammar is known to be valid; this pass only tracks nesting and member names per object.
 */
function validateJson(text: string, options: StrictJsonOptions): void {
  const keyStack: Set<string>[] = [];
  // For each open container: true if object, false if array.
  const isObject: boolean[] = [];
  // Whether the next string in the current object is a member name.
  let expectKey = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      isObject.push(c === 0x7b);
      keyStack.push(new Set());
      if (isObject.length > options.maxDepth) throw malformed(options.part, 'is nested too deeply');
      expectKey = c === 0x7b;
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      isObject.pop();
      keyStack.pop();
      expectKey = false;
      i++;
    } else if (c === 0x2c /* , */) {
      expectKey = isObject[isObject.length - 1] === true;
      i++;
    } else if (c === 0x22 /* " */) {
      const end = endOfString(text, i);
      if (expectKey) {
        const raw = text.slice(i, end + 1);
        const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        const keys = keyStack[keyStack.length - 1];
        if (keys === undefined) throw malformed(options.part, 'is not a JSON object');
        if (keys.has(name)) throw malformed(options.part, 'has a duplicate member name');
        keys.add(name);
        expectKey = false;
      }
      i = end + 1;
    } else {
      i++;
    }
  }
}

function endOfString(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i += 2;
    else if (c === 0x22) return i;
    else if (Number.isNaN(c)) throw new AuthError('ERR_TOKEN_MALFORMED', { detail: 'unterminated string' });
    else i++;
  }
}
