/**
 * `tessera clients add|list|remove`: the registry of confidential clients (resource servers)
 * allowed to call /oauth/introspect and /oauth/revoke. The secret is printed once, at creation;
 * only its SHA-256 is stored, and `list` never shows either.
 */

import { isAuthError } from '@tessera/core';
import { CLIENT_SCOPES } from '@tessera/server';
import { expectPositionals, parseCommandArgs, safeJson, sanitize } from '../args.js';
import { CliError, type Command, EXIT_FAILURE, EXIT_OK } from '../context.js';
import { withInstance } from './users.js';

const SECRET_WARNING =
  'tessera: the client secret is shown only this once and cannot be recovered: store it now ' +
  '(a lost secret means removing the client and adding it again)';

export const clientsAddCommand: Command = {
  name: 'clients add',
  summary: 'Register a confidential client (resource server); prints its secret once',
  usage: 'tessera clients add <name> [--id <client-id>] [--scopes "introspect revoke revocations"] [--json]',
  details: [
    '  --id <client-id>   use this client_id (A-Z a-z 0-9 . _ ~ -, at most 128) instead of a random cli_...',
    `  --scopes "<list>"  space-separated permissions from: ${CLIENT_SCOPES.join(' ')} (default: all)`,
    '  --json             print {client_id, client_secret, name, scopes, created_at}',
    'The secret goes to stdout exactly once, with a warning on stderr; only its SHA-256 is stored.',
  ].join('\n'),
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(args, {
      id: { type: 'string' },
      scopes: { type: 'string' },
      json: { type: 'boolean' },
    });
    const [name] = expectPositionals(positionals, ['<name>']) as [string];
    return withInstance(ctx, async ({ admin }) => {
      let result: Awaited<ReturnType<typeof admin.addClient>>;
      try {
        result = await admin.addClient(name, {
          ...(values.id === undefined ? {} : { id: values.id }),
          ...(values.scopes === undefined ? {} : { scopes: values.scopes }),
        });
      } catch (error) {
        if (isAuthError(error, 'ERR_VALIDATION')) {
          throw new CliError(`${error.message}${error.detail ? ` (${error.detail})` : ''}`);
        }
        throw error;
      }
      if (result.status === 'exists') {
        ctx.err('tessera: a client with this id already exists');
        return EXIT_FAILURE;
      }
      const { client, secret } = result.created;
      if (values.json) {
        ctx.out(
          safeJson({
            client_id: client.id,
            client_secret: secret,
            name: client.name,
            scopes: client.scopes,
            created_at: client.createdAt,
          }),
        );
      } else {
        ctx.out(`client_id      ${client.id}`);
        ctx.out(`client_secret  ${secret}`);
        ctx.out(sanitize(`scopes         ${client.scopes}`));
      }
      ctx.err(SECRET_WARNING);
      return EXIT_OK;
    });
  },
};

export const clientsListCommand: Command = {
  name: 'clients list',
  summary: 'List registered clients (never their secrets)',
  usage: 'tessera clients list [--json]',
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
    expectPositionals(positionals, []);
    return withInstance(ctx, async ({ admin }) => {
      const rows = (await admin.listClients()).map((c) => ({
        client_id: c.id,
        name: c.name,
        scopes: c.scopes,
        created_at: c.createdAt,
      }));
      if (values.json) ctx.out(safeJson(rows));
      else
        for (const r of rows)
          ctx.out(sanitize(`${r.client_id}  ${new Date(r.created_at * 1000).toISOString()}  [${r.scopes}]  ${r.name}`));
      return EXIT_OK;
    });
  },
};

export const clientsRemoveCommand: Command = {
  name: 'clients remove',
  summary: 'Delete a client: its secret stops working at once',
  usage: 'tessera clients remove <client-id>',
  async run(args, ctx) {
    const { positionals } = parseCommandArgs(args, {});
    const [id] = expectPositionals(positionals, ['<client-id>']) as [string];
    return withInstance(ctx, async ({ admin }) => {
      if (!(await admin.removeClient(id))) {
        ctx.err('tessera: no client with this id');
        return EXIT_FAILURE;
      }
      ctx.out(sanitize(`${id} removed`));
      return EXIT_OK;
    });
  },
};
