/** `tessera keys generate`: a new signing key as a JWK, optionally written to a 0600 file. */

import { closeSync, fchmodSync, fstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ALGORITHMS,
  type Algorithm,
  exportPrivateJwk,
  exportPublicJwk,
  generateKey,
  isAlgorithm,
  isValidKid,
  MAX_KID_LENGTH,
  MIN_RSA_MODULUS_BITS,
} from '@tessera/core';
import { expectPositionals, parseCommandArgs, parseIntegerFlag } from '../args.js';
import { CliError, type Command, EXIT_OK, UsageError } from '../context.js';

const NO_PUBLIC_JWK = 'note: HS256 keys are shared secrets: there is no public JWK to publish.';

export const keysGenerateCommand: Command = {
  name: 'keys generate',
  summary: 'Generate a signing key (private JWK)',
  usage: 'tessera keys generate [--alg ES256] [--kid <id>] [--out <file> [--force]] [--modulus-length 2048]',
  details: [
    `  --alg <alg>              ${ALGORITHMS.join(', ')} (default ES256)`,
    '  --kid <id>               key id (default: the RFC 7638 thumbprint; random for HS256)',
    '  --out <file>             write the private JWK to a new file with mode 0600 and print',
    '                           only the public JWK; refuses an existing file',
    '  --force                  with --out, replace an existing file',
    `  --modulus-length <bits>  RSA modulus for RS256/PS256, ${MIN_RSA_MODULUS_BITS}-16384 (default ${MIN_RSA_MODULUS_BITS})`,
    '',
    'Without --out the private JWK is printed to stdout: it is secret, store it encrypted.',
  ].join('\n'),
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs(args, {
      alg: { type: 'string' },
      kid: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
      'modulus-length': { type: 'string' },
    });
    expectPositionals(positionals, []);
    const alg = values.alg ?? 'ES256';
    if (!isAlgorithm(alg)) throw new UsageError(`--alg must be one of ${ALGORITHMS.join(', ')}`);
    if (values.kid !== undefined && !isValidKid(values.kid)) {
      throw new UsageError(`--kid must be 1-${MAX_KID_LENGTH} printable ASCII characters without spaces`);
    }
    let modulusLength: number | undefined;
    if (values['modulus-length'] !== undefined) {
      if (alg !== 'RS256' && alg !== 'PS256') throw new UsageError('--modulus-length applies to RS256 and PS256 only');
      modulusLength = parseIntegerFlag(values['modulus-length'], '--modulus-length', MIN_RSA_MODULUS_BITS, 16384);
    }
    if (values.force && values.out === undefined) throw new UsageError('--force applies to --out only');
    if (values.out === '') throw new UsageError('--out must name a file');

    const key = await generateKey(alg as Algorithm, {
      ...(values.kid === undefined ? {} : { kid: values.kid }),
      ...(modulusLength === undefined ? {} : { modulusLength }),
    });
    const privateJson = `${JSON.stringify(exportPrivateJwk(key), null, 2)}\n`;

    if (values.out === undefined) {
      ctx.out(privateJson.trimEnd());
      ctx.err('warning: this is a private key: keep it secret (store it encrypted, never commit or log it).');
      ctx.err('         Use --out <file> to write it to a file only you can read.');
      if (key.isSymmetric) ctx.err(NO_PUBLIC_JWK);
      return EXIT_OK;
    }

    const path = resolve(ctx.cwd, values.out);
    writeSecretFile(path, privateJson, values.force === true);
    ctx.err(`wrote the private ${key.alg} key "${key.kid}" to ${path} (mode 0600)`);
    if (key.isSymmetric) ctx.err(NO_PUBLIC_JWK);
    else ctx.out(JSON.stringify(exportPublicJwk(key), null, 2));
    return EXIT_OK;
  },
};

/**
 * Creates `path` with mode 0600 and writes `text`. `wx` (O_CREAT|O_EXCL) refuses an existing
 * file and never follows a symlink; `force` unlinks the old entry first (a symlink itself, not
 * its target) and still creates a fresh file. The mode is then set and checked explicitly, so a
 * permissive umask or a filesystem that ignores modes cannot leave the key readable.
 */
export function writeSecretFile(path: string, text: string, force: boolean): void {
  if (force) {
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw new CliError(`cannot replace ${path}: ${code(error)}`);
    }
  }
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EEXIST') {
      throw new CliError(`${path} already exists; refusing to overwrite it (use --force to replace it)`);
    }
    throw new CliError(`cannot create ${path}: ${code(error)}`);
  }
  let ok = false;
  try {
    if (process.platform !== 'win32') {
      fchmodSync(fd, 0o600);
      const mode = fstatSync(fd).mode & 0o777;
      if (mode !== 0o600) throw new CliError(`${path} has mode 0${mode.toString(8)}, not 0600; removed it`);
    }
    writeSync(fd, text);
    ok = true;
  } finally {
    closeSync(fd);
    if (!ok) {
      try {
        unlinkSync(path);
      } catch {
        // best effort: the file was ours and empty or partial
      }
    }
  }
}

function code(error: unknown): string {
  const c = (error as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : error instanceof Error ? error.message : 'unknown error';
}
