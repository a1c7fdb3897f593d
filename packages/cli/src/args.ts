/** `node:util` parseArgs with its errors turned into {@link UsageError}s. */

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './context.js';

type Options = NonNullable<ParseArgsConfig['options']>;

type ParseConfig<O extends Options> = { args: string[]; options: O; allowPositionals: true; strict: true };
export type ParsedCommandArgs<O extends Options> = ReturnType<typeof parseArgs<ParseConfig<O>>>;

export function parseCommandArgs<O extends Options>(args: string[], options: O): ParsedCommandArgs<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(error.message.split('. To specify')[0]?.split('\n')[0] ?? 'invalid arguments');
    }
    throw error;
  }
}

/** Exactly `count` positionals, else a usage error naming `what`. */
export function expectPositionals(positionals: string[], names: readonly string[]): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing ${names[positionals.length]}`);
  if (positionals.length > names.length)
    throw new UsageError(`unexpected argument: ${sanitize(positionals[names.length] ?? '')}`);
  return positionals;
}

/** Reads a token argument: `-` reads stdin and trims surrounding whitespace; anything else is used as is. */
export async function readTokenArgument(value: string, readStdin: () => Promise<string>): Promise<string> {
  return value === '-' ? (await readStdin()).trim() : value;
}

/** Parses a whole number within bounds, else a usage error. */
export function parseIntegerFlag(value: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a whole number`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be from ${min} to ${max}`);
  return n;
}

// C0 (except \n, \t) and C1 controls, DEL, bidi overrides and line separators: untrusted text
// (token contents, JWKS kids) must not drive the terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Escapes terminal-unsafe characters as `\uXXXX`. */
export function sanitize(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Pretty JSON that is also safe to print to a terminal (still valid JSON). */
export function safeJson(value: unknown, indent = 2): string {
  return sanitize(JSON.stringify(value, null, indent));
}
