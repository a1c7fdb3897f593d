/** @tessera/cli: the `tessera` command line, callable in-process through {@link run}. */

export { NOT_VERIFIED_WARNING } from './commands/decode.js';
export { COMMANDS } from './commands/index.js';
export type { Command, Context, RunIo, Writer } from './context.js';
export { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './context.js';
export { classifyJwksLocation, JWKS_MAX_BYTES, JWKS_TIMEOUT_MS, loadJwks } from './jwks-source.js';
export { run } from './run.js';
export { readStream, STDIN_MAX_BYTES } from './stdin.js';
