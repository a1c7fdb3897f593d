/** What a command runs against: injected I/O so tests can call {@link run} in-process. */

export type Writer = (text: string) => void;

export interface RunIo {
  /** Receives standard output. Text is written as given (commands add the newlines). */
  readonly stdout: Writer;
  /** Receives standard error. */
  readonly stderr: Writer;
  /** Reads all of standard input (for `-` arguments). */
  readonly readStdin: () => Promise<string>;
  /** Environment variables (`TESSERA_DEBUG=1` prints stack traces of unexpected errors). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths resolve against. Default `process.cwd()`. */
  readonly cwd?: string;
  /** `fetch` used for remote JWKS. Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /** Current time in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

export interface Context {
  readonly io: RunIo;
  readonly cwd: string;
  readonly fetch: typeof fetch;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whole seconds since the epoch. */
  nowSec(): number;
  /** Writes a line to stdout. */
  out(line: string): void;
  /** Writes a line to stderr. */
  err(line: string): void;
  /** Every registered command (for `help`). */
  readonly commands: readonly Command[];
}

export interface Command {
  /** The words that select the command: `"decode"`, `"keys generate"`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The usage line, e.g. `tessera decode <jwt|-> [--json]`. */
  readonly usage: string;
  /** Option and behaviour details shown by `tessera help <command>`. */
  readonly details?: string;
  /** Runs with the arguments after the command words; resolves to the exit code. */
  run(args: string[], ctx: Context): Promise<number>;
}

/** Bad invocation: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An expected failure (file exists, network error, bad JWKS): printed without a stack, exit 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
