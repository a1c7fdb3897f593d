/** `tessera audit`: the append-only audit trail, by user or by session. */

import { expectPositionals, parseCommandArgs, parseIntegerFlag, safeJson, sanitize } from '../args.js';
import { CliError, type Command, EXIT_OK, UsageError } from '../context.js';
import { withInstance } from './users.js';

export const auditCommand: Command = {
  name: 'audit',
  summary: 'Show audit events of a user or a session (newest first)',
  usage: 'tessera audit (--user <email|user-id> | --session <session-id> | --all) [--limit 50] [--json]',
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(args, {
      user: { type: 'string' },
      session: { type: 'string' },
      all: { type: 'boolean' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    });
    expectPositionals(positionals, []);
    const selectors = [values.user, values.session, values.all ? true : undefined].filter((v) => v !== undefined);
    if (selectors.length !== 1) throw new UsageError('give exactly one of --user, --session, --all');
    const limit = values.limit === undefined ? 50 : parseIntegerFlag(values.limit, '--limit', 1, 10_000);
    return withInstance(ctx, async ({ admin, store }) => {
      let filter: { userId?: string; sessionId?: string; limit: number } = { limit };
      if (values.user !== undefined) {
        const user = await admin.findUser(values.user);
        if (user === undefined) throw new CliError('no such account');
        filter = { userId: user.id, limit };
      } else if (values.session !== undefined) filter = { sessionId: values.session, limit };
      const events = await store.listAudit(filter);
      if (values.json) ctx.out(safeJson(events));
      else {
        for (const e of events) {
          ctx.out(
            sanitize(
              `${new Date(e.at * 1000).toISOString()}  ${e.type.padEnd(24)}  user=${e.userId ?? '-'} session=${e.sessionId ?? '-'} ip=${e.ip ?? '-'}  ${JSON.stringify(e.data)}`,
            ),
          );
        }
      }
      return EXIT_OK;
    });
  },
};
