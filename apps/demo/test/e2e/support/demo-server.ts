/**
 * Starts the built demo server (auth server + demo API + static pages on one origin) as a child
 * process on a free port with its own temporary SQLite database, for one test file.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEMO_SERVER_MODULE } from './prerequisites.js';

const ENTRY = fileURLToPath(new URL('./serve-demo.mjs', import.meta.url));

export interface DemoServerOptions {
  /** Auth server config overrides, e.g. `{ accessTokenTtlSec: 60 }`. */
  readonly config?: Record<string, unknown>;
  /** The demo API guard's clock tolerance, in seconds. */
  readonly guardClockToleranceSec?: number;
}

export interface DemoServer {
  /** `http://localhost:<port>`, equal to the issuer. */
  readonly url: string;
  /** The server's stderr so far, for failure messages. */
  readonly stderr: () => string;
  close(): Promise<void>;
}

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
  const startOptions = {
    port: 0,
    databasePath: join(dir, 'tessera.sqlite'),
    logLevel: 'warn',
    ...(options.config ? { config: options.config } : {}),
    ...(options.guardClockToleranceSec !== undefined ? { guardClockToleranceSec: options.guardClockToleranceSec } : {}),
  };
  // cwd = the temp dir: anything the server writes relative to it (a generated master key file)
  // stays out of the repository.
  const child: ChildProcess = spawn(process.execPath, [ENTRY, DEMO_SERVER_MODULE, JSON.stringify(startOptions)], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(
        () => reject(new Error(`the demo server did not start in 20 s: ${stderr}${log}`)),
        20_000,
      );
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      lines.on('line', (line) => {
        let url: unknown;
        try {
          url = (JSON.parse(line) as { e2eDemoUrl?: unknown }).e2eDemoUrl;
        } catch {
          // a log line
        }
        if (typeof url === 'string') {
          clearTimeout(timer);
          resolve(url);
        } else if (log.length < 20_000) {
          log += `${line}\n`;
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the demo server exited with ${code}: ${stderr}${log}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    removeDir();
    throw error;
  }
  return {
    url,
    stderr: () => stderr,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      removeDir();
    },
  };
}
