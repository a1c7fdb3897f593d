import { readFileSync } from 'node:fs';

/** The version in this package's package.json (one directory up from both src/ and dist/). */
export function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const version = (pkg as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}
