/** `tessera help [command]`: usage for every command, or the details of one. */

import { type Command, type Context, EXIT_OK, UsageError } from '../context.js';

/** The overview printed by `tessera help`, `tessera --help` and a bare `tessera`. */
export function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: tessera <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Usage lines:',
    ...commands.map((c) => `  ${c.usage}`),
    '',
    'Global options:',
    '  --help, -h   show help (also: tessera <command> --help)',
    '  --version    print the version',
    '',
    'Exit codes: 0 success, 1 failure (invalid token, I/O error), 2 usage error.',
  ].join('\n');
}

/** The detailed help of one command. */
export function commandHelp(command: Command): string {
  return [`Usage: ${command.usage}`, '', command.summary, ...(command.details ? ['', command.details] : [])].join('\n');
}

export const helpCommand: Command = {
  name: 'help',
  summary: 'Show usage for every command, or details of one',
  usage: 'tessera help [command]',
  async run(args: string[], ctx: Context) {
    if (args.length === 0) {
      ctx.out(overview(ctx.commands));
      return EXIT_OK;
    }
    const name = args.join(' ');
    const matches = ctx.commands.filter((c) => c.name === name || c.name.startsWith(`${name} `));
    if (matches.length === 0) throw new UsageError(`unknown command: ${name}`);
    ctx.out(matches.map(commandHelp).join('\n\n'));
    return EXIT_OK;
  },
};
