/**
 * Real OS processes running the adapter: its TypeScript sources are transpiled to CommonJS in
 * a temp dir (no build step needed), each child opens its own PostgresStore (its own pool),
 * warms a connection, says "ready", and on a byte on stdin performs one rotation and prints
 * the result.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RotateInput, RotationResult } from '@tessera/server/contracts';
import ts from 'typescript';

const MODULES = ['postgres-store', 'migrations', 'rows', 'store-unavailable'] as const;

/** Writes the transpiled adapter and the child script into `into`; returns the script path. */
export function buildRotateChild(into: string): string {
  const src = fileURLToPath(new URL('../../src/', import.meta.url));
  // AuthError comes from core's error table, a module without imports of its own.
  const coreErrors = fileURLToPath(new URL('../../../core/src/errors.ts', import.meta.url));
  const pgPath = createRequire(import.meta.url).resolve('pg');
  const transpile = (file: string) =>
    ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        verbatimModuleSyntax: false,
      },
    }).outputText;
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
    const unresolved = /require\("(?!\.\/[a-z-]+\.cjs"|\/)[^"]*"\)/.exec(code);
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

export interface RotateChild {
  readonly process: ChildProcessWithoutNullStreams;
  readonly ready: Promise<void>;
  readonly result: Promise<RotationResult>;
}

export function startRotateChild(script: string, url: string, schema: string, input: RotateInput): RotateChild {
  const child = spawn(process.execPath, [script, url, schema, JSON.stringify(input)], { stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.startsWith('ready\n')) markReady();
  });
  const result = new Promise<RotationResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const lines = stdout.trim().split('\n');
      if (code !== 0 || lines[0] !== 'ready' || lines.length !== 2) {
        reject(new Error(`child exited ${code}: stdout=${JSON.stringify(stdout)} stderr=${stderr}`));
        return;
      }
      resolve(JSON.parse(lines[1] as string) as RotationResult);
    });
  });
  result.catch(() => undefined); // awaited by the test; a child that died must not be an unhandled rejection
  // A child that dies before it is ready fails the test instead of hanging it.
  return { process: child, ready: Promise.race([ready, result.then(() => undefined)]), result };
}
