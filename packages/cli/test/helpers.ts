import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunIo, run } from '@tessera/cli';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly stdin?: string;
  readonly cwd?: string;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly env?: Record<string, string | undefined>;
}

/** Runs the CLI in-process with captured output. */
export async function runCli(argv: string[], options: CliOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: RunIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readStdin: async () => {
      if (options.stdin === undefined) throw new Error('test: stdin was read but none was given');
      return options.stdin;
    },
    env: options.env ?? {},
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.now === undefined ? {} : { now: options.now }),
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/** A fresh temporary directory and its cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
