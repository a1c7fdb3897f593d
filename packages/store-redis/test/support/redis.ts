/**
 * Test plumbing: the shared Redis (127.0.0.1:6379 or TESSERA_TEST_REDIS_URL), a random key
 * prefix per test with SCAN+DEL cleanup of that prefix only, and a private `redis-server`
 * child process that a test may kill and restart without touching the shared one.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether the shared Redis answers; fails loudly in CI (TESSERA_REQUIRE_SERVICES=1) when not. */
export async function checkRedis(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (error) {
    const message = `Redis at ${REDIS_URL} is unreachable (${error instanceof Error ? error.message : String(error)})`;
    if (process.env.TESSERA_REQUIRE_SERVICES === '1') {
      throw new Error(`${message}; TESSERA_REQUIRE_SERVICES=1 requires it. Start Redis or set TESSERA_TEST_REDIS_URL.`);
    }
    console.warn(
      `\n*** SKIPPING @tessera/store-redis tests: ${message}. Set TESSERA_REQUIRE_SERVICES=1 to fail instead. ***\n`,
    );
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A prefix no other test (or process) uses. */
export function randomPrefix(): string {
  return `tessera-test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN MATCH + DEL), nothing else. */
export async function deletePrefix(prefix: string, url = REDIS_URL): Promise<void> {
  if (!/^tessera-test:[0-9a-f]{12}:$/.test(prefix)) throw new Error(`refusing to clean up prefix ${prefix}`);
  const client = new Redis(url, { maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A private, non-persistent redis-server on `port`, for outage and recovery tests. */
export class PrivateRedis {
  readonly port: number;
  #child: ChildProcess | undefined;

  constructor(port: number) {
    this.port = port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server and resolves once it accepts connections. */
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${output}`));
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Kills the server (SIGKILL: an outage, not a shutdown) and waits for it to be gone. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/** Whether a redis-server binary is available for the private-server tests. */
export async function hasRedisServer(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}
