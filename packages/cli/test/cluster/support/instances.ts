/**
 * Real `tessera serve` processes from the BUILT CLI (packages/cli/dist/bin.js; `npm run build`
 * first, as CI does), on free ports chosen in advance so that every instance can be given the
 * same issuer, sharing one master key. Plus the HTTP calls the tests make.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_BIN = fileURLToPath(new URL('../../../dist/bin.js', import.meta.url));
export const PASSWORD = 'correct horse battery staple';

export function assertBuilt(): void {
  if (!existsSync(CLI_BIN)) throw new Error(`${CLI_BIN} is missing: run \`npm run build\` before the cluster tests`);
}

export function freePort(): Promise<number> {
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

export interface Instance {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM and wait for the exit (no-op when already gone). */
  stop(): Promise<void>;
  /** SIGKILL (kill -9) and wait for the exit. */
  kill(): Promise<void>;
}

export interface InstanceOptions {
  readonly dir: string;
  readonly port: number;
  readonly issuer: string;
  readonly masterKey: string;
  readonly env: Record<string, string>;
}

export async function startInstance(options: InstanceOptions): Promise<Instance> {
  const child = spawn(process.execPath, [CLI_BIN, 'serve', '--port', String(options.port)], {
    cwd: options.dir,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      TESSERA_LOG_LEVEL: 'error',
      TESSERA_ARGON2_MEMORY_COST_KIB: '8192',
      TESSERA_ARGON2_TIME_COST: '1',
      TESSERA_ISSUER: options.issuer,
      TESSERA_MASTER_KEY: options.masterKey,
      TESSERA_DATABASE_PATH: join(options.dir, 'tessera.sqlite'),
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tessera serve did not start in 20 s: ${stderr}`)), 20_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`tessera serve exited (${code ?? signal}): ${stderr}`));
    });
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    url,
    port: options.port,
    child,
    stderr: () => stderr,
    async stop() {
      if (!gone()) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (!gone()) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface Cluster {
  readonly dir: string;
  readonly issuer: string;
  readonly masterKey: string;
  readonly instances: Instance[];
  readonly urls: string[];
  /** Stops every instance and starts them again on the same ports with `env` plus `override`. */
  restart(override: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `n` instances with one issuer (the first one's address) and one master key: the first starts
 * alone (migrations, first signing key), the rest together after it.
 */
export async function startCluster(n: number, env: Record<string, string>): Promise<Cluster> {
  assertBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  const issuer = `http://127.0.0.1:${ports[0]}`;
  const masterKey = randomBytes(32).toString('base64url');
  const started: Instance[] = [];
  const urls: string[] = [];
  const startAll = async (effective: Record<string, string>) => {
    started.push(await startInstance({ dir, port: ports[0] as number, issuer, masterKey, env: effective }));
    started.push(
      ...(await Promise.all(
        ports.slice(1).map((port) => startInstance({ dir, port, issuer, masterKey, env: effective })),
      )),
    );
    urls.splice(0, urls.length, ...started.map((i) => i.url));
  };
  const stopAll = async () => {
    await Promise.all(started.map((i) => i.stop()));
    started.length = 0;
  };
  try {
    await startAll(env);
  } catch (error) {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    issuer,
    masterKey,
    instances: started,
    urls,
    async restart(override) {
      await stopAll();
      await startAll({ ...env, ...override });
    },
    async stop() {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function cookieToken(setCookie: string | null): string | undefined {
  return /__Secure-tessera_rt=([^;]+)/.exec(setCookie ?? '')?.[1];
}

export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly setCookie: string | null;
  /** The refresh token in Set-Cookie, if any. */
  readonly token: string | undefined;
  json(): Record<string, unknown>;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  const setCookie = res.headers.get('set-cookie');
  return {
    status: res.status,
    text,
    setCookie,
    token: cookieToken(setCookie),
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

export async function register(url: string, email: string): Promise<void> {
  const res = await fetch(`${url}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  await res.arrayBuffer();
  if (res.status !== 202) throw new Error(`register: ${res.status}`);
}

export async function login(url: string, email: string): Promise<{ accessToken: string; refreshToken: string }> {
  const a = await answer(
    await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    }),
  );
  if (a.status !== 200 || a.token === undefined) throw new Error(`login: ${a.status} ${a.text}`);
  return { accessToken: String(a.json().access_token), refreshToken: a.token };
}

/** POST /auth/refresh with the cookie and the CSRF header, as @tessera/client sends it. */
export async function refresh(url: string, token: string, signal?: AbortSignal): Promise<Answer> {
  return answer(
    await fetch(`${url}/auth/refresh`, {
      method: 'POST',
      headers: { cookie: `__Secure-tessera_rt=${token}`, 'x-tessera-csrf': '1' },
      ...(signal === undefined ? {} : { signal }),
    }),
  );
}

export async function get(url: string, path: string, bearer?: string): Promise<Answer> {
  return answer(
    await fetch(`${url}${path}`, bearer === undefined ? {} : { headers: { authorization: `Bearer ${bearer}` } }),
  );
}

/** The `sid` claim of an access token (not verified: the tests made the token themselves). */
export function sidOf(accessToken: string): string {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString('utf8'));
  return String(payload.sid);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
