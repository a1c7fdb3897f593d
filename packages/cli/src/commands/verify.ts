/** `tessera verify <jwt|-> --jwks <url|file> --iss <issuer> --aud <audience>`: full verification. */

import {
  type Algorithm,
  AuthError,
  createAccessTokenVerifier,
  ERROR_TABLE,
  importJwks,
  isAlgorithm,
} from '@tessera/core';
import {
  expectPositionals,
  parseCommandArgs,
  parseIntegerFlag,
  readTokenArgument,
  safeJson,
  sanitize,
} from '../args.js';
import { CliError, type Command, EXIT_FAILURE, EXIT_OK, UsageError } from '../context.js';
import { loadJwks } from '../jwks-source.js';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Verify a token against a JWKS, an issuer and an audience',
  usage:
    'tessera verify <jwt|-> --jwks <url|file> --iss <issuer> --aud <audience> [--alg ES256 ...] [--typ at+jwt] [--clock-tolerance 30]',
  details: [
    '  <jwt|->                 the token, or - to read it from stdin (surrounding whitespace is trimmed)',
    '  --jwks <url|file>       JWKS file, https:// URL, or http:// URL to localhost/127.0.0.1/[::1]',
    '                          (fetched with a 5 s timeout, 1 MiB limit, no redirects)',
    '  --iss <issuer>          accepted issuer, compared exactly (repeatable)',
    '  --aud <audience>        accepted audience (repeatable); the token must name one',
    '  --alg <alg>             allowed algorithm (repeatable): ES256, EdDSA, RS256, PS256, HS256',
    '  --typ <typ>             required header typ (default at+jwt)',
    '  --clock-tolerance <s>   allowed clock skew in seconds, 0-300 (default 30)',
    '  --allow-insecure-http   allow a plain http:// JWKS URL to a non-local host',
    '',
    'Exit 0 and print the claims when valid; exit 1 and print "invalid: <ERR_CODE> [claim]" otherwise.',
  ].join('\n'),
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(args, {
      jwks: { type: 'string' },
      iss: { type: 'string', multiple: true },
      aud: { type: 'string', multiple: true },
      alg: { type: 'string', multiple: true },
      typ: { type: 'string' },
      'clock-tolerance': { type: 'string' },
      'allow-insecure-http': { type: 'boolean' },
    });
    const [input] = expectPositionals(positionals, ['<jwt|->']) as [string];
    if (values.jwks === undefined || values.jwks === '') throw new UsageError('missing --jwks');
    const issuers = values.iss ?? [];
    const audiences = values.aud ?? [];
    if (issuers.length === 0 || issuers.includes('')) throw new UsageError('missing --iss');
    if (audiences.length === 0 || audiences.includes('')) throw new UsageError('missing --aud');
    let algorithms: Algorithm[] | undefined;
    if (values.alg !== undefined) {
      const bad = values.alg.find((alg) => !isAlgorithm(alg));
      if (bad !== undefined)
        throw new UsageError(`--alg must be one of ES256, EdDSA, RS256, PS256, HS256, not ${sanitize(bad)}`);
      algorithms = values.alg as Algorithm[];
    }
    if (values.typ === '') throw new UsageError('--typ must not be empty');
    const clockToleranceSec =
      values['clock-tolerance'] === undefined
        ? undefined
        : parseIntegerFlag(values['clock-tolerance'], '--clock-tolerance', 0, 300);

    const token = await readTokenArgument(input, ctx.io.readStdin);
    const document = await loadJwks(values.jwks, {
      cwd: ctx.cwd,
      fetch: ctx.fetch,
      allowInsecureHttp: values['allow-insecure-http'] === true,
    });
    let imported: ReturnType<typeof importJwks>;
    try {
      imported = importJwks(document);
    } catch (error) {
      throw new CliError(`not a JWKS: ${error instanceof Error ? error.message : 'invalid document'}`);
    }
    for (const { kid, reason } of imported.skipped) {
      ctx.err(
        `warning: skipped JWKS key ${kid === undefined ? '(no kid)' : JSON.stringify(sanitize(kid))}: ${sanitize(reason)}`,
      );
    }
    if (imported.keySet.size === 0) throw new CliError('the JWKS has no usable keys');

    let verifier: ReturnType<typeof createAccessTokenVerifier>;
    try {
      verifier = createAccessTokenVerifier(imported.keySet, {
        issuer: issuers,
        audience: audiences,
        ...(algorithms === undefined ? {} : { algorithms }),
        ...(values.typ === undefined ? {} : { typ: values.typ }),
        ...(clockToleranceSec === undefined ? {} : { clockToleranceSec }),
        clock: () => ctx.nowSec(),
      });
    } catch (error) {
      if (error instanceof TypeError) throw new UsageError(error.message);
      throw error;
    }
    try {
      const claims = verifier.verify(token);
      ctx.out(safeJson(claims));
      return EXIT_OK;
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      const claim = error.claim === undefined ? '' : ` ${error.claim}`;
      ctx.err(`invalid: ${error.code}${claim} (${ERROR_TABLE[error.code].description})`);
      return EXIT_FAILURE;
    }
  },
};
