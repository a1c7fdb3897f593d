/** `tessera sessions list|revoke`: an account's login sessions (refresh token families). */

import { expectPositionals, parseCommandArgs, safeJson, sanitize } from '../args.js';
import { CliError, type Command, EXIT_FAILURE, EXIT_OK } from '../context.js';
import { withInstance } from './users.js';

export const sessionsListCommand: Command = {
  name: 'sessions list',
  summary: "List an account's sessions",
  usage: 'tessera sessions list <email|user-id> [--all] [--json]',
  details: '  --all    include ended (revoked or expired) sessions',
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(args, { all: { type: 'boolean' }, json: { type: 'boolean' } });
    const [who] = expectPositionals(positionals, ['<email|user-id>']) as [string];
    return withInstance(ctx, async ({ admin }) => {
      const user = await admin.findUser(who);
      if (user === undefined) throw new CliError('no such account');
      const sessions = await admin.listSessions(user, values.all === true);
      const rows = sessions.map((s) => ({
        id: s.id,
        created_at: s.createdAt,
        last_used_at: s.lastUsedAt,
        expires_at: Math.min(s.idleExpiresAt, s.absoluteExpiresAt),
        revoked_at: s.revokedAt,
        revoked_reason: s.revokedReason,
        user_agent: s.userAgent,
        ip: s.ip,
      }));
      if (values.json) ctx.out(safeJson(rows));
      else {
        for (const r of rows) {
          const state = r.revoked_at === null ? 'live' : `revoked (${r.revoked_reason})`;
          ctx.out(
            sanitize(
              `${r.id}  ${state}  last used ${new Date(r.last_used_at * 1000).toISOString()}  ${r.user_agent ?? '-'}`,
            ),
          );
        }
      }
      return EXIT_OK;
    });
  },
};

export const sessionsRevokeCommand: Command = {
  name: 'sessions revoke',
  summary: 'End a session: its refresh token and access tokens stop working',
  usage: 'tessera sessions revoke <session-id>',
  async run(args, ctx) {
    const { positionals } = parseCommandArgs(args, {});
    const [id] = expectPositionals(positionals, ['<session-id>']) as [string];
    return withInstance(ctx, async ({ admin }) => {
      if (!(await admin.revokeSession(id))) {
        ctx.err('tessera: no live session with this id');
        return EXIT_FAILURE;
      }
      ctx.out(`${id} revoked`);
      return EXIT_OK;
    });
  },
};
