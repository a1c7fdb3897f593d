/** `tessera decode <jwt|->`: show a token's header, claims and times without verifying it. */

import { decodeToken } from '@tessera/core';
import { expectPositionals, parseCommandArgs, readTokenArgument, safeJson, sanitize } from '../args.js';
import { type Command, EXIT_OK } from '../context.js';
import { humanTimes, TIME_CLAIMS } from '../time-format.js';

export const NOT_VERIFIED_WARNING =
  'Decoding is not verifying: nothing here is trusted until `tessera verify` succeeds.';

export const decodeCommand: Command = {
  name: 'decode',
  summary: 'Show the header, claims and times of a token (no verification)',
  usage: 'tessera decode <jwt|-> [--json]',
  details: [
    '  <jwt|->     the token, or - to read it from stdin (surrounding whitespace is trimmed)',
    '  --json      print one JSON object: header, claims, times, signatureBytes, warnings',
    '',
    'Parses as strictly as verification does, but reports alg "none", unknown header members',
    'and risky claims as warnings (on stderr). Exit 0 when decodable, 1 otherwise.',
  ].join('\n'),
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
    const [input] = expectPositionals(positionals, ['<jwt|->']) as [string];
    const token = await readTokenArgument(input, ctx.io.readStdin);
    const now = ctx.nowSec();
    const decoded = decodeToken(token, now);
    const times = humanTimes(decoded.payload, now);

    if (values.json) {
      ctx.out(
        safeJson({
          header: decoded.header,
          claims: decoded.payload,
          times,
          signatureBytes: decoded.signatureBytes,
          warnings: decoded.warnings,
          verified: false,
        }),
      );
    } else {
      ctx.out('Header');
      ctx.out(safeJson(decoded.header));
      ctx.out('');
      ctx.out('Claims');
      ctx.out(safeJson(decoded.payload));
      const rows = TIME_CLAIMS.flatMap((claim) => {
        const time = times[claim];
        return time === undefined
          ? []
          : [`  ${claim.padEnd(10)} ${(time.iso ?? safeJson(time.value, 0)).padEnd(21)} ${time.relative}`];
      });
      if (rows.length > 0) {
        ctx.out('');
        ctx.out('Times (UTC)');
        for (const row of rows) ctx.out(row);
      }
      ctx.out('');
      ctx.out(`Signature: ${decoded.signatureBytes} bytes (not checked)`);
    }
    for (const warning of decoded.warnings) ctx.err(`warning: ${sanitize(warning)}`);
    ctx.err(`warning: ${NOT_VERIFIED_WARNING}`);
    return EXIT_OK;
  },
};
