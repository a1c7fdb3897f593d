/**
 * Real OS processes for the adapters' cross-process rotation races. Node 20 cannot run
 * TypeScript and the tests must not depend on a build, so each adapter transpiles its current
 * sources to CommonJS in a temp dir ({@link transpileToCommonJs}) and writes a child script
 * that opens its own store, prints `ready`, and on a byte on stdin performs one rotation and
 * prints the result as one JSON line. {@link startRotateChild} runs such a script.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { RotateInput, RotationResult } from '@tessera/server/contracts';
import ts from 'typescript';

/** The CommonJS text of one TypeScript source file (imports become `require("...")` calls to redirect). */
export function transpileToCommonJs(file: string): string {
  return ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      verbatimModuleSyntax: false,
    },
  }).outputText;
}

export interface RotateChild {
  readonly process: ChildProcessWithoutNullStreams;
  /** Resolves once the child has opened its store; rejects if it dies first. */
  readonly ready: Promise<void>;
  readonly result: Promise<RotationResult>;
}

/** Starts `node script ...args <input as JSON>`; write a byte to its stdin to let it rotate. */
export function startRotateChild(script: string, args: readonly string[], input: RotateInput): RotateChild {
  const child = spawn(process.execPath, [script, ...args, JSON.stringify(input)], { stdio: 'pipe' });
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
  result.catch(() => undefined); // awaited by the test; a killed child must not be an unhandled rejection
  // A child that dies before it is ready fails the test instead of hanging it.
  return { process: child, ready: Promise.race([ready, result.then(() => undefined)]), result };
}
