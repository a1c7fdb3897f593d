/**
 * The CLI entry point without process globals: arguments, writers, a stdin reader and the
 * environment go in, an exit code comes out. `bin.ts` wires it to the process; tests call it
 * directly.
 */

import { isAuthError } from '@tessera/core';
import { sanitize } from './args.js';
import { commandHelp, overview } from './commands/help.js';
import { COMMANDS } from './commands/index.js';
import {
  CliError,
  type Command,
  type Context,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  type RunIo,
  UsageError,
} from './context.js';
import { packageVersion } from './version.js';

/** Runs `tessera` with `argv` (without the node and script paths). Never throws. */
export async function run(
  argv: readonly string[],
  io: RunIo,
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const now = io.now ?? Date.now;
  const ctx: Context = {
    io,
    cwd: io.cwd ?? process.cwd(),
    fetch: io.fetch ?? globalThis.fetch,
    env: io.env,
    nowSec: () => Math.floor(now() / 1000),
    out: (line) => io.stdout(`${line}\n`),
    err: (line) => io.stderr(`${line}\n`),
    commands,
  };
  const args = [...argv];
  const first = args[0];
  if (first === undefined || first === '--help' || first === '-h') {
    ctx.out(overview(commands));
    return EXIT_OK;
  }
  if (first === '--version') {
    ctx.out(packageVersion());
    return EXIT_OK;
  }

  const command = findCommand(args, commands);
  if (command === undefined) {
    const group = commands.filter((c) => c.name.startsWith(`${first} `));
    const what = first.startsWith('-')
      ? `unknown option: ${first}`
      : group.length > 0
        ? args[1] === undefined
          ? `${first}: missing subcommand`
          : `unknown command: ${first} ${args[1]}`
        : `unknown command: ${first}`;
    ctx.err(`tessera: ${sanitize(what)}`);
    ctx.err(group.length > 0 ? group.map((c) => `usage: ${c.usage}`).join('\n') : 'usage: tessera <command> [options]');
    ctx.err("Run 'tessera help' for the list of commands.");
    return EXIT_USAGE;
  }
  const rest = args.slice(command.name.split(' ').length);
  const beforeDashDash = rest.indexOf('--') === -1 ? rest : rest.slice(0, rest.indexOf('--'));
  if (command.name !== 'help' && (beforeDashDash.includes('--help') || beforeDashDash.includes('-h'))) {
    ctx.out(commandHelp(command));
    return EXIT_OK;
  }

  try {
    return await command.run(rest, ctx);
  } catch (error) {
    return report(error, command, ctx);
  }
}

/** The command whose words lead `args`; the longest name wins. */
function findCommand(args: readonly string[], commands: readonly Command[]): Command | undefined {
  let best: Command | undefined;
  let bestLength = 0;
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.length > bestLength && words.every((word, i) => args[i] === word)) {
      best = command;
      bestLength = words.length;
    }
  }
  return best;
}

/** Expected errors print one line and no stack; unexpected ones print a stack only with TESSERA_DEBUG. */
function report(error: unknown, command: Command, ctx: Context): number {
  if (error instanceof UsageError) {
    ctx.err(`tessera ${command.name}: ${error.message}`);
    ctx.err(`usage: ${command.usage}`);
    ctx.err(`Run 'tessera help ${command.name}' for details.`);
    return EXIT_USAGE;
  }
  if (isAuthError(error)) {
    const claim = error.claim === undefined ? '' : ` (${error.claim})`;
    ctx.err(`error: ${error.code}${claim}: ${error.message}`);
    return EXIT_FAILURE;
  }
  if (error instanceof CliError) {
    ctx.err(`error: ${sanitize(error.message)}`);
    return EXIT_FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  ctx.err(`error: ${sanitize(message)}`);
  if (ctx.env.TESSERA_DEBUG === '1' && error instanceof Error && error.stack) ctx.err(error.stack);
  else ctx.err('(set TESSERA_DEBUG=1 for a stack trace)');
  return EXIT_FAILURE;
}
