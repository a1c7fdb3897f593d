/**
 * The master key that encrypts signing keys at rest. Production: `TESSERA_MASTER_KEY` (32 random
 * bytes, base64url or hex) is required, and its absence stops the server. Development: a key is
 * generated once into a 0600 file, with a warning, so `npm start` needs no configuration.
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface MasterKeyResult {
  readonly key: Buffer;
  readonly source: 'env' | 'file' | 'generated';
  readonly warning?: string;
}

export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const bytes = Buffer.from(trimmed, 'base64url');
  if (!/^[A-Za-z0-9_-]{43}$/.test(trimmed) || bytes.length !== 32 || bytes.toString('base64url') !== trimmed) {
    throw new TypeError('TESSERA_MASTER_KEY must be 32 random bytes, base64url (43 characters) or hex (64 characters)');
  }
  return bytes;
}

export function loadMasterKey(options: {
  env: NodeJS.ProcessEnv;
  file: string;
  environment: 'production' | 'development' | 'test';
}): MasterKeyResult {
  const fromEnv = options.env.TESSERA_MASTER_KEY;
  if (fromEnv !== undefined && fromEnv !== '') return { key: parseMasterKey(fromEnv), source: 'env' };
  if (options.environment === 'production') {
    throw new TypeError('TESSERA_MASTER_KEY is required when NODE_ENV=production (32 random bytes, base64url)');
  }
  if (existsSync(options.file)) {
    const mode = statSync(options.file).mode & 0o777;
    if ((mode & 0o077) !== 0) chmodSync(options.file, 0o600);
    return {
      key: parseMasterKey(readFileSync(options.file, 'utf8')),
      source: 'file',
      warning: `Using the development master key in ${options.file}. Set TESSERA_MASTER_KEY in production.`,
    };
  }
  mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(options.file, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  return {
    key,
    source: 'generated',
    warning: `Generated a development master key in ${options.file}. Set TESSERA_MASTER_KEY in production.`,
  };
}
