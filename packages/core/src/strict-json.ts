/**
 * Strict JSON for token headers and payloads: RFC 8259 grammar only, no duplicate member names
 * at any level (RFC 7515 section 5.2 lets implementations reject them, and parser
 * differentials on duplicates are a known token-confusion attack), a nesting limit, and a
 * top-level object.
 *
 * Fast path: `JSON.parse`, then a member count. Outside string literals, valid JSON has exactly
 * one `:` per object member, so counting those colons (skipping strings) gives the number of
 * member names written in the text; the parsed value's own keys, summed over every object, give
 * the number of distinct names that survived. `JSON.parse` keeps one member per name and drops
 * repeats, so the two counts are equal exactly when there is no duplicate at any level. Any
 * mismatch falls through to the full validating scanner, which is the authority.
 *
 * (The previous fast path, `JSON.stringify(value) === text`, proved the same for canonical text
 * only, at the cost of a full re-serialisation: ~0.8 µs for a typical access-token payload,
 * against ~0.3 µs for the count, which needs no canonical spelling.)
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
  const members = countParsedMembers(value, 1, options.maxDepth);
  if (members < 0) throw malformed(options.part, 'is nested too deeply');
  if (countMemberColons(text) !== members) validateJson(text, options);
  return value as Record<string, unknown>;
}

function malformed(part: string, why: string): AuthError {
  return new AuthError('ERR_TOKEN_MALFORMED', { detail: `${part} ${why}` });
}

/**
 * Own keys summed over every object in `value` (nested ones included), or -1 when the nesting
 * exceeds `max` (the top-level object is depth 1). One walk does both jobs the fast path needs.
 * `Object.keys` (own keys only) rather than `for...in`, so that an enumerable property added to
 * `Object.prototype` elsewhere in the process can never inflate the count and mask a duplicate.
 */
function countParsedMembers(value: object, depth: number, max: number): number {
  if (depth > max) return -1;
  let count = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i];
      if (typeof child === 'object' && child !== null) {
        const n = countParsedMembers(child, depth + 1, max);
        if (n < 0) return -1;
        count += n;
      }
    }
    return count;
  }
  const keys = Object.keys(value);
  count = keys.length;
  for (let i = 0; i < keys.length; i++) {
    const child: unknown = (value as Record<string, unknown>)[keys[i] as string];
    if (typeof child === 'object' && child !== null) {
      const n = countParsedMembers(child, depth + 1, max);
      if (n < 0) return -1;
      count += n;
    }
  }
  return count;
}

/**
 * The number of `:` outside string literals in text that `JSON.parse` has accepted: one per
 * member written, duplicates included. Outside strings (short: punctuation and numbers) it
 * walks character by character; a string's body is skipped with one native `indexOf` per
 * closing quote (a quote closes the string when preceded by an even run of backslashes).
 * Returns -1 on an unterminated string, which valid JSON cannot have (the caller then falls
 * back to the full scanner).
 */
function countMemberColons(text: string): number {
  let colons = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let close = i;
      for (;;) {
        close = text.indexOf('"', close + 1);
        if (close < 0) return -1;
        let b = close - 1;
        while (text.charCodeAt(b) === 0x5c /* \ */) b--;
        if (((close - 1 - b) & 1) === 0) break;
      }
      i = close;
    } else if (c === 0x3a /* : */) {
      colons++;
    }
  }
  return colons;
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
