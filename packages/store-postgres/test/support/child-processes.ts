/**
 * Real OS processes running the adapter: its TypeScript sources are transpiled to CommonJS in
 * a temp dir (no build step needed), each child opens its own PostgresStore (its own pool),
 * warms a connection, says "ready", and on a byte on stdin performs one rotation and prints
 * the result.
 */

import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RotateInput } from '@tessera/server/contracts';
import { type RotateChild, startRotateChild, transpileToCommonJs } from '@tessera/store-testing';

const MODULES = ['postgres-store', 'migrations', 'rows', 'store-unavailable'] as const;

/** Writes the transpiled adapter and the child script into `into`; returns the script path. */
export function buildRotateChild(into: string): string {
  const src = fileURLToPath(new URL('../../src/', import.meta.url));
  // AuthError comes from core's error table, a module without imports of its own.
  const coreErrors = fileURLToPath(new URL('../../../core/src/errors.ts', import.meta.url));
  const pgPath = createRequire(import.meta.url).resolve('pg');
  const transpile = transpileToCommonJs;
  const core = transpile(coreErrors);
  if (/require\(/.test(core)) throw new Error('core/src/errors.ts gained an import: the child build must follow it');
  writeFileSync(join(into, 'core-errors.cjs'), core);
  // The shared SQL row mappers import only types: a copy without redirects.
  const rows = transpile(fileURLToPath(new URL('../../../server/src/store-rows.ts', import.meta.url)));
  if (/require\(/.test(rows))
    throw new Error('server/src/store-rows.ts gained an import: the child build must follow it');
  writeFileSync(join(into, 'server-store-rows.cjs'), rows);
  for (const name of MODULES) {
    let code = transpile(join(src, `${name}.ts`))
      .replace('require("pg")', `require(${JSON.stringify(pgPath)})`)
      .replace('require("@tessera/core")', 'require("./core-errors.cjs")')
      .replaceAll('require("@tessera/server/store-rows")', 'require("./server-store-rows.cjs")');
    for (const other of MODULES) code = code.replaceAll(`require("./${other}.js")`, `require("./${other}.cjs")`);
    const unresolved = /require\("(?!\.\/[a-z-]+\.cjs"|\/|node:)[^"]*"\)/.exec(code);
    if (unresolved !== null) throw new Error(`${name}: ${unresolved[0]} was not redirected`);
    writeFileSync(join(into, `${name}.cjs`), code);
  }
  const script = join(into, 'rotate-child.cjs');
  writeFileSync(
    script,
    `const { PostgresStore } = require('./postgres-store.cjs');
const [url, schema, input] = process.argv.slice(2);
const store = new PostgresStore({ connectionString: url, schema, max: 2 });
store.ping().then(() => {
  process.stdout.write('ready\\n');
  process.stdin.once('data', async () => {
    const result = await store.rotateRefreshToken(JSON.parse(input));
    process.stdout.write(JSON.stringify(result) + '\\n');
    await store.close();
    process.stdin.destroy();
  });
});
`,
  );
  return script;
}

export type { RotateChild } from '@tessera/store-testing';

/** Starts the child script against `url`/`schema` (see @tessera/store-testing's startRotateChild). */
export function startPostgresRotateChild(script: string, url: string, schema: string, input: RotateInput): RotateChild {
  return startRotateChild(script, [url, schema], input);
}
