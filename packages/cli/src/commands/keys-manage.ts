/** `tessera keys list|rotate`: the server's signing keys and their lifecycle. */

import { expectPositionals, parseCommandArgs, safeJson, sanitize } from '../args.js';
import { CliError, type Command, EXIT_OK } from '../context.js';
import { withInstance } from './users.js';

const iso = (sec: number | null) => (sec === null ? '-' : new Date(sec * 1000).toISOString());

export const keysListCommand: Command = {
  name: 'keys list',
  summary: "List the server's signing keys (never their private parts)",
  usage: 'tessera keys list [--json]',
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
    expectPositionals(positionals, []);
    return withInstance(ctx, async ({ server }) => {
      const rows = server.context.keys.records.map((r) => ({
        kid: r.kid,
        alg: r.alg,
        state: r.state,
        created_at: r.createdAt,
        activated_at: r.activatedAt,
        retired_at: r.retiredAt,
        expires_at: r.expiresAt,
      }));
      if (values.json) ctx.out(safeJson(rows));
      else {
        for (const r of rows) {
          ctx.out(
            sanitize(
              `${r.kid}  ${r.alg.padEnd(6)}  ${r.state.padEnd(8)}  created ${iso(r.created_at)}  active ${iso(r.activated_at)}  until ${iso(r.expires_at)}`,
            ),
          );
        }
      }
      return EXIT_OK;
    });
  },
};

export const keysRotateCommand: Command = {
  name: 'keys rotate',
  summary: 'Rotate the signing key now (next becomes current)',
  usage: 'tessera keys rotate [--force]',
  details: [
    '  --force   rotate even if the next key has been published for less than one JWKS max-age',
    '            (for a compromised key; verifiers holding an old JWKS will refetch it)',
  ].join('\n'),
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(args, { force: { type: 'boolean' } });
    expectPositionals(positionals, []);
    return withInstance(ctx, async ({ server }) => {
      try {
        const changes = await server.context.keys.rotateNow(server.context.clock(), { force: values.force === true });
        for (const change of changes) {
          await server.context.audit.record(change.kind === 'created' ? 'key.created' : 'key.rotated', {
            data: { ...change, by: 'operator' },
          });
          ctx.out(`${change.kind} ${change.kid}`);
        }
        return EXIT_OK;
      } catch (error) {
        if (error instanceof RangeError) throw new CliError(error.message);
        throw error;
      }
    });
  },
};
