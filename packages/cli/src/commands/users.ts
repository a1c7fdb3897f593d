/** `tessera users add|list|disable|enable`: operator account management on the server's database. */

import { isAuthError } from '@tessera/core';
import { expectPositionals, parseCommandArgs, parseIntegerFlag, safeJson, sanitize } from '../args.js';
import { CliError, type Command, type Context, EXIT_FAILURE, EXIT_OK } from '../context.js';
import { openInstance } from '../instance.js';

async function withInstance<T>(
  ctx: Context,
  fn: (instance: Awaited<ReturnType<typeof openInstance>>) => Promise<T>,
): Promise<T> {
  const instance = await openInstance(ctx);
  try {
    return await fn(instance);
  } finally {
    await instance.close();
  }
}

export { withInstance };

export const usersAddCommand: Command = {
  name: 'users add',
  summary: 'Create an account (password read from stdin)',
  usage: 'tessera users add <email>  (password on stdin: printf %s "$PW" | tessera users add a@b.c)',
  details: 'The password is read from standard input, never from the command line (shell history, ps).',
  async run(args, ctx) {
    const { positionals } = parseCommandArgs(args, {});
    const [email] = expectPositionals(positionals, ['<email>']) as [string];
    const password = (await ctx.io.readStdin()).replace(/\r?\n$/, '');
    if (password === '') throw new CliError('no password on stdin');
    return withInstance(ctx, async ({ admin }) => {
      try {
        const result = await admin.addUser(email, password);
        if (result.status === 'exists') {
          ctx.err(`tessera: an account with this email already exists`);
          return EXIT_FAILURE;
        }
        ctx.out(result.user.id);
        return EXIT_OK;
      } catch (error) {
        if (isAuthError(error, 'ERR_PASSWORD_POLICY') || isAuthError(error, 'ERR_VALIDATION')) {
          throw new CliError(`${error.code}: ${error.message}${error.detail ? ` (${error.detail})` : ''}`);
        }
        throw error;
      }
    });
  },
};

export const usersListCommand: Command = {
  name: 'users list',
  summary: 'List accounts',
  usage: 'tessera users list [--limit 100] [--offset 0] [--json]',
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(args, {
      limit: { type: 'string' },
      offset: { type: 'string' },
      json: { type: 'boolean' },
    });
    expectPositionals(positionals, []);
    const limit = values.limit === undefined ? 100 : parseIntegerFlag(values.limit, '--limit', 1, 10_000);
    const offset = values.offset === undefined ? 0 : parseIntegerFlag(values.offset, '--offset', 0, 1_000_000_000);
    return withInstance(ctx, async ({ store }) => {
      const users = await store.listUsers(limit, offset);
      const rows = users.map((u) => ({ id: u.id, email: u.email, status: u.status, created_at: u.createdAt }));
      if (values.json) ctx.out(safeJson(rows));
      else
        for (const r of rows)
          ctx.out(
            sanitize(`${r.id}  ${r.status.padEnd(8)}  ${new Date(r.created_at * 1000).toISOString()}  ${r.email}`),
          );
      return EXIT_OK;
    });
  },
};

function statusCommand(action: 'disable' | 'enable'): Command {
  return {
    name: `users ${action}`,
    summary:
      action === 'disable'
        ? 'Disable an account: ends its sessions, revokes its tokens'
        : 'Re-enable a disabled account',
    usage: `tessera users ${action} <email|user-id>`,
    async run(args, ctx) {
      const { positionals } = parseCommandArgs(args, {});
      const [who] = expectPositionals(positionals, ['<email|user-id>']) as [string];
      return withInstance(ctx, async ({ admin }) => {
        const user = await admin.findUser(who);
        if (user === undefined) throw new CliError('no such account');
        if (action === 'disable') await admin.disableUser(user);
        else await admin.enableUser(user);
        ctx.out(`${user.id} ${action}d`);
        return EXIT_OK;
      });
    },
  };
}

export const usersDisableCommand = statusCommand('disable');
export const usersEnableCommand = statusCommand('enable');
