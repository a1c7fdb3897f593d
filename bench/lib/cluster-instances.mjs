/**
 * Tessera instances for bench:cluster, each a real `tessera serve` process from the BUILT CLI
 * (packages/cli/dist/bin.js), on chosen free ports, sharing one issuer and one master key, on
 * the embedded SQLite file or on PostgreSQL + Redis (TESSERA_DATABASE_URL / TESSERA_REDIS_URL).
 *
 * Bench-only settings, recorded in the results: argon2id at its cheapest allowed cost (8 MiB,
 * t=1, p=1: the sessions are created before timing and logins are not measured) and the rate
 * limits raised out of reach (all load comes from 127.0.0.1, which the per-IP limits exist to
 * stop). They stay on, so every refresh still pays for its bucket take, as by default.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const BENCH_PASSWORD = 'correct horse battery staple';

/** A port the kernel just handed out (and took back), for a server that must know it in advance. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `tessera serve` on `port` in `dir`; resolves when it prints its listening line.
 * @param {{ root: string, dir: string, port: number, issuer: string, masterKey: string, env?: Record<string,string> }} options
 */
export async function startInstance({ root, dir, port, issuer, masterKey, env = {} }) {
  const child = spawn(process.execPath, [join(root, 'packages/cli/dist/bin.js'), 'serve', '--port', String(port)], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'development',
      TESSERA_LOG_LEVEL: 'warn',
      TESSERA_RATE_LIMIT_ENABLED: 'true',
      TESSERA_RATE_LIMIT_REFRESH_PER_IP_BURST: '100000',
      TESSERA_RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: '1000000',
      TESSERA_RATE_LIMIT_LOGIN_PER_IP_BURST: '100000',
      TESSERA_RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: '1000000',
      TESSERA_RATE_LIMIT_LOGIN_PER_ACCOUNT_BURST: '100000',
      TESSERA_RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE: '1000000',
      TESSERA_ARGON2_MEMORY_COST_KIB: '8192',
      TESSERA_ARGON2_TIME_COST: '1',
      TESSERA_ISSUER: issuer,
      TESSERA_MASTER_KEY: masterKey,
      TESSERA_DATABASE_PATH: join(dir, 'tessera.sqlite'),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/[^\s]+)/.exec(stderr);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code, signal) => reject(new Error(`tessera serve exited (${code ?? signal}): ${stderr}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url,
    port,
    child,
    stderr: () => stderr,
    /** SIGTERM, then wait for the exit. */
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * `n` instances behind no proxy, one issuer (the first instance's address), one master key. The
 * first starts alone (it runs the migrations and creates the first signing key), the others
 * after it, together.
 */
export async function startCluster({ root, dir, n, env = {} }) {
  const ports = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  const issuer = `http://127.0.0.1:${ports[0]}`;
  const masterKey = randomBytes(32).toString('base64url');
  const first = await startInstance({ root, dir, port: ports[0], issuer, masterKey, env });
  const rest = await Promise.all(
    ports.slice(1).map((port) => startInstance({ root, dir, port, issuer, masterKey, env })),
  );
  const instances = [first, ...rest];
  return {
    issuer,
    masterKey,
    instances,
    urls: instances.map((i) => i.url),
    stop: () => Promise.all(instances.map((i) => i.stop())),
  };
}

/** The refresh token in a Set-Cookie header, or undefined. */
export function refreshCookie(setCookie) {
  return /__Secure-tessera_rt=([^;]+)/.exec(String(setCookie ?? ''))?.[1];
}

export async function register(url, email) {
  const res = await fetch(`${url}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: BENCH_PASSWORD }),
  });
  await res.arrayBuffer();
  if (res.status !== 202) throw new Error(`register: ${res.status}`);
}

/** Logs in: `{ accessToken, refreshToken }`. */
export async function login(url, email) {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: BENCH_PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  const body = await res.json();
  return { accessToken: body.access_token, refreshToken: refreshCookie(res.headers.get('set-cookie')) };
}

/** `count` fresh sessions of `email`, `concurrency` logins at a time, spread over `urls`. */
export async function loginMany(urls, email, count, concurrency = 4) {
  const out = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await login(urls[i % urls.length], email);
      }
    }),
  );
  return out;
}

/** Runs `tessera clients add` against the same stores; resolves `{ id, secret }`. */
export function addClient({ root, dir, env, masterKey, issuer }, name, scopes) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(root, 'packages/cli/dist/bin.js'), 'clients', 'add', name, '--scopes', scopes, '--json'],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'development',
          TESSERA_ISSUER: issuer,
          TESSERA_MASTER_KEY: masterKey,
          TESSERA_DATABASE_PATH: join(dir, 'tessera.sqlite'),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      err += c;
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`clients add exited ${code}: ${err}`));
      const json = JSON.parse(out);
      resolve({ id: json.client_id ?? json.client?.id ?? json.id, secret: json.client_secret ?? json.secret });
    });
  });
}
