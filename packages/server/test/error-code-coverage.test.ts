/**
 * Every code in the one error table is produced somewhere and asserted by some behaviour test
 * (other than the table's own test), and maps to an HTTP status and an OAuth error. A code that
 * nothing can produce is dead weight in a public contract; a code nobody asserts is untested.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, ERROR_TABLE } from '@tessera/core';
import { describe, expect, it } from 'vitest';

const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : filesUnder(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const packages = readdirSync(PACKAGES);
const testText = packages
  .flatMap((p) => {
    try {
      return filesUnder(join(PACKAGES, p, 'test'));
    } catch {
      return [];
    }
  })
  .filter((f) => !f.endsWith('error-table.test.ts') && !f.endsWith('error-code-coverage.test.ts'))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');
const sourceText = packages
  .flatMap((p) => {
    try {
      return filesUnder(join(PACKAGES, p, 'src'));
    } catch {
      return [];
    }
  })
  .filter((f) => !f.endsWith('/core/src/errors.ts'))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');

describe('every error code', () => {
  it.each(ERROR_CODES.map((c) => [c]))('%s is produced by the source, asserted by a test, and mapped', (code) => {
    expect(sourceText.includes(`'${code}'`), `${code} is never produced`).toBe(true);
    expect(testText.includes(`'${code}'`) || testText.includes(`"${code}"`), `${code} is never asserted`).toBe(true);
    const spec = ERROR_TABLE[code];
    expect(spec.status).toBeGreaterThanOrEqual(400);
    expect(spec.status).toBeLessThan(600);
    expect(spec.oauthError).toMatch(/^[a-z_]+$/);
  });
});
