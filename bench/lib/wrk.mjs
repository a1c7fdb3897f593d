/**
 * Driving Debian's `wrk` (C, so the load generator costs far less CPU than autocannon on a
 * small machine) from a bench: detection, a run with a Lua script, and parsing its report.
 */

import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** True when a `wrk` binary is on the PATH. */
export function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk prints its version and exits 1; only a missing binary is a real failure.
    return error.code !== 'ENOENT';
  }
}

/** The first line of `wrk --version` ("wrk 4.1.0 [epoll] ..."), or null. */
export function wrkVersion() {
  try {
    return execFileSync('wrk', ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  } catch (error) {
    const out = String(error.stdout ?? '')
      .split('\n')[0]
      .trim();
    return out === '' ? null : out;
  }
}

/** `"1.23ms"`, `"850.00us"`, `"1.02s"` -> milliseconds. */
export function durationMs(text) {
  const m = /([\d.]+)(us|ms|s|m)\b/.exec(text);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  if (m[2] === 'us') return v / 1000;
  if (m[2] === 's') return v * 1000;
  if (m[2] === 'm') return v * 60_000;
  return v;
}

/**
 * Parses a wrk report: requests/s, total requests, non-2xx/3xx count, socket errors, latency
 * percentiles (with `--latency`), and the raw output for a script's own `done()` lines.
 */
export function parseWrk(out) {
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const percentile = (p) => durationMs(new RegExp(`\\s${p}%\\s+(\\S+)`).exec(out)?.[1] ?? '');
  return {
    perSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((n, x) => n + Number(x), 0) : 0,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    output: out,
  };
}

/**
 * Runs `wrk -t<threads> -c<connections> -d<durationSec>s --latency -s <script> <url>` and
 * resolves with {@link parseWrk}'s result. `env` is passed to the Lua script (os.getenv).
 */
export function runWrk(url, { connections, durationSec, script, threads = 2, env = {} }) {
  return new Promise((resolve, reject) => {
    const args = [`-t${threads}`, `-c${connections}`, `-d${durationSec}s`, '--latency'];
    if (script !== undefined) args.push('-s', script);
    args.push(url);
    const child = spawn('wrk', args, { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      err += c;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}${err}`));
      resolve(parseWrk(out));
    });
  });
}

/** Writes a Lua script that sends one fixed request (method, body, headers); returns its path. */
export function luaRequestScript(dir, name, method, body, headers) {
  const path = join(dir, `${name}.lua`);
  const lines = [`wrk.method = ${JSON.stringify(method)}`];
  if (body !== undefined) lines.push(`wrk.body = ${JSON.stringify(body)}`);
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
