/**
 * Drives bench/lib/cluster-oidc-target.mjs (node-oidc-provider in its own process): start,
 * seed refresh tokens, stop.
 */

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** `env` may set OIDC_REDIS_URL and OIDC_REDIS_PREFIX for the Redis adapter. */
export async function startOidcTarget(root, env = {}) {
  const child = spawn(process.execPath, [join(root, 'bench/lib/cluster-oidc-target.mjs')], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, NODE_ENV: 'production', ...env },
  });
  let stderr = '';
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // The provider prints its own warnings (runtime, development adapter) on stdout too.
  const nextLine = async () => {
    for (;;) {
      const { value, done } = await lines.next();
      if (done) throw new Error(`node-oidc-provider target exited: ${stderr}`);
      if (value.startsWith('{')) return JSON.parse(value);
    }
  };
  const info = await nextLine();
  return {
    info,
    /** `n` refresh tokens of `n` new grants, seeded into the provider's models. */
    async seed(n) {
      child.stdin.write(`seed ${n}\n`);
      return (await nextLine()).tokens;
    },
    stop() {
      child.stdin.end();
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
