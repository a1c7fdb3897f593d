/**
 * `tessera serve`: the auth server, configured by `TESSERA_*`: the embedded SQLite store by
 * default, PostgreSQL and/or Redis with TESSERA_DATABASE_URL / TESSERA_REDIS_URL.
 */

import { expectPositionals, parseCommandArgs, parseIntegerFlag } from '../args.js';
import { type Command, EXIT_OK } from '../context.js';
import { openInstance } from '../instance.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the auth server (embedded SQLite by default)',
  usage: 'tessera serve [--host 127.0.0.1] [--port 8080] [--db .tessera/tessera.sqlite]',
  details: [
    '  --host <addr>   listen address (TESSERA_HOST, default 127.0.0.1)',
    '  --port <port>   listen port (TESSERA_PORT, default 8080)',
    '  --db <file>     SQLite database file (TESSERA_DATABASE_PATH, default .tessera/tessera.sqlite)',
    '',
    'Scale-out (docs/deploy.md): TESSERA_DATABASE_URL=postgres://... keeps durable state in PostgreSQL',
    '(TESSERA_DATABASE_SCHEMA, default tessera) and TESSERA_REDIS_URL=redis://... ephemeral state in Redis',
    '(TESSERA_REDIS_KEY_PREFIX, default tessera:). What is not set stays in the SQLite file.',
    '',
    'Every setting has a TESSERA_* variable: see the configuration reference in README.md.',
    'SIGINT/SIGTERM stop accepting connections, finish in-flight requests, then exit.',
  ].join('\n'),
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(args, {
      host: { type: 'string' },
      port: { type: 'string' },
      db: { type: 'string' },
    });
    expectPositionals(positionals, []);
    const instance = await openInstance(
      ctx,
      {
        ...(values.host === undefined ? {} : { host: values.host }),
        ...(values.port === undefined ? {} : { port: parseIntegerFlag(values.port, '--port', 0, 65_535) }),
        ...(values.db === undefined ? {} : { databasePath: values.db }),
      },
      { serving: true },
    );
    for (const warning of instance.warnings) ctx.err(`tessera: WARNING: ${warning}`);
    for (const line of instance.storeDescription) ctx.err(`tessera: ${line}`);
    const url = await instance.server.listen();
    ctx.err(`tessera: auth server listening on ${url} (issuer ${instance.server.config.issuer})`);
    await new Promise<void>((resolveStop) => {
      const stop = (signal: string) => {
        ctx.err(`tessera: ${signal} received, shutting down`);
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        instance.close().then(resolveStop, resolveStop);
      };
      const onInt = () => stop('SIGINT');
      const onTerm = () => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    });
    return EXIT_OK;
  },
};
