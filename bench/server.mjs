/**
 * `npm run bench:server`: the auth server under load, on the embedded SQLite store.
 *
 * 1. Refresh rotations per second: autocannon, 50 connections, each connection a chain of
 *    rotations of its own session, so every request presents a distinct, never-used token.
 * 2. Login throughput versus the raw argon2id throughput of this machine, measured in the same
 *    run with the same parameters and the same concurrency.
 * 3. p99 latency of GET /auth/whoami while a login storm saturates argon2: the event loop must
 *    stay free because argon2 runs on the threadpool.
 *
 * The server runs in its own process (`tessera serve`). Load comes from wrk (Debian's `wrk`,
 * written in C) when it is installed, else from autocannon in this process. On a 2-core machine
 * the load generator competes with the server for CPU, and autocannon needs about a core for
 * itself, so wrk is preferred and the tool used is recorded. Every figure is the median of
 * several rounds. Results: bench/results/server.json.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hash, verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { fmtInt, fmtRatio, formatTable, machineInfo, median, ratio, round, sleep, writeJson } from './lib/harness.mjs';
import { hasWrk, luaRequestScript, runWrk } from './lib/wrk.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_SEC = Number(process.env.BENCH_ROUND_SEC ?? 5);
const CONNECTIONS = 50;
const LOGIN_CONCURRENCY = 8;
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 }; // the server defaults
const PASSWORD = 'correct horse battery staple';
const TARGETS = { rotationsPerSec: 5000, loginVsRawArgon2: 0.9, whoamiP99Ms: 20 };

async function startServer(dir) {
  const child = spawn(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), 'serve', '--port', '0'], {
    cwd: dir,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      TESSERA_LOG_LEVEL: 'warn',
      // All load comes from one IP (127.0.0.1), which the per-IP limits exist to stop: the bench
      // measures the server's own cost, so they are off here (the defaults are tested elsewhere).
      TESSERA_RATE_LIMIT_ENABLED: 'false',
      TESSERA_DATABASE_PATH: join(dir, 'bench.sqlite'),
      TESSERA_MASTER_KEY_FILE: join(dir, 'master.key'),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (chunk) => {
      err += chunk;
      const match = /listening on (http:\/\/[^\s]+)/.exec(err);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${err}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

async function post(url, path, body, headers = {}) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return res;
}

function refreshCookie(setCookie) {
  const match = /__Secure-tessera_rt=([^;]+)/.exec(String(setCookie ?? ''));
  return match?.[1];
}

async function login(url, email) {
  const res = await post(url, '/auth/login', { email, password: PASSWORD });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  const body = await res.json();
  return { accessToken: body.access_token, refreshToken: refreshCookie(res.headers.get('set-cookie')) };
}

function run(options) {
  return new Promise((resolve, reject) => {
    autocannon({ duration: ROUND_SEC, ...options }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

const WRK = hasWrk();

/** Runs wrk for one round and parses requests/s, non-2xx count, p99 latency (ms) and the chain counters. */
async function wrk(url, { connections, script, env = {} }) {
  const result = await runWrk(url, { connections, durationSec: ROUND_SEC, script, env });
  const chain = /CHAIN failures=(\d+) starved=(\d+)/.exec(result.output);
  return {
    perSec: result.perSec,
    non2xx: result.non2xx,
    p99Ms: result.p99Ms,
    failures: Number(chain?.[1] ?? 0),
    starved: Number(chain?.[2] ?? 0),
  };
}

/**
 * One round of rotations. autocannon resets a request's context after every request, so the
 * chains live in a shared free list instead: a request takes a token nobody else holds and its
 * response puts the successor back. Every request presents a distinct, never-used token.
 */
async function rotationRound(url, pool, dir) {
  if (WRK) {
    const file = join(dir, 'tokens.txt');
    writeFileSync(file, `${pool.join('\n')}\n`);
    return wrk(url, {
      connections: CONNECTIONS,
      script: join(ROOT, 'bench/lib/refresh-chain.lua'),
      env: { TOKENS_FILE: file, TOKENS_PER_THREAD: String(Math.floor(pool.length / 2)) },
    });
  }
  let failures = 0;
  let starved = 0;
  const result = await run({
    url,
    connections: CONNECTIONS,
    requests: [
      {
        method: 'POST',
        path: '/auth/refresh',
        setupRequest(req, context) {
          context.token = pool.pop();
          if (context.token === undefined) starved++;
          return {
            ...req,
            headers: { ...req.headers, cookie: `__Secure-tessera_rt=${context.token}`, 'x-tessera-csrf': '1' },
          };
        },
        onResponse(status, _body, _context, headers) {
          const next = refreshCookie(headers?.['set-cookie']);
          if (status !== 200 || next === undefined) failures++;
          else pool.push(next);
        },
      },
    ],
  });
  return { perSec: result.requests.average, non2xx: result.non2xx, failures, starved, errors: result.errors };
}

async function rawArgon2Round(stored) {
  const deadline = Date.now() + ROUND_SEC * 1000;
  let done = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: LOGIN_CONCURRENCY }, async () => {
      while (Date.now() < deadline) {
        if (!(await verify(stored, PASSWORD))) throw new Error('argon2 verify failed');
        done++;
      }
    }),
  );
  return (done * 1e9) / Number(process.hrtime.bigint() - start);
}

/** Accounts the login storm cycles through: a storm is many users, not one user many times. */
const STORM_ACCOUNTS = Array.from({ length: 32 }, (_, i) => `storm${i}@example.com`);

/** A wrk script that sends each request as the next account's login. */
function loginStormScript(dir) {
  const bodies = STORM_ACCOUNTS.map((email) => JSON.stringify(JSON.stringify({ email, password: PASSWORD })));
  const path = join(dir, 'login-storm.lua');
  writeFileSync(
    path,
    [
      `local bodies = { ${bodies.join(', ')} }`,
      'local i = math.random(#bodies)',
      'function request()',
      '  i = i % #bodies + 1',
      '  return wrk.format("POST", "/auth/login", { ["Content-Type"] = "application/json" }, bodies[i])',
      'end',
      '',
    ].join('\n'),
  );
  return path;
}

async function loginRound(url, email, extra = {}, dir) {
  if (WRK) {
    return wrk(`${url}/auth/login`, {
      connections: extra.connections ?? LOGIN_CONCURRENCY,
      script: loginStormScript(dir),
    });
  }
  const result = await run({
    url: `${url}/auth/login`,
    connections: LOGIN_CONCURRENCY,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
    ...extra,
  });
  if (result.non2xx > 0) console.error('login statuses', JSON.stringify(result.statusCodeStats));
  return { perSec: result.requests.average, non2xx: result.non2xx };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-server-'));
  const server = await startServer(dir);
  console.log(`server: ${server.url} (SQLite in ${dir})`);
  try {
    const email = 'bench@example.com';
    for (const address of [email, ...STORM_ACCOUNTS]) {
      if ((await post(server.url, '/auth/register', { email: address, password: PASSWORD })).status !== 202) {
        throw new Error('register failed');
      }
    }

    // 1. rotations
    const rotations = [];
    for (let r = 0; r < ROUNDS; r++) {
      const pool = [];
      for (let i = 0; i < CONNECTIONS * 2; i++) pool.push((await login(server.url, email)).refreshToken);
      const round_ = await rotationRound(server.url, pool, dir);
      if (round_.non2xx > 0 || round_.failures > 0 || round_.errors > 0 || round_.starved > 0) {
        throw new Error(`rotation round had failures: ${JSON.stringify(round_)}`);
      }
      rotations.push(round_.perSec);
      console.log(`rotations round ${r + 1}: ${fmtInt(round_.perSec)}/s`);
      await sleep(300);
    }

    // 2. login vs raw argon2 (interleaved rounds)
    const stored = await hash(PASSWORD, ARGON2);
    const raw = [];
    const logins = [];
    for (let r = 0; r < ROUNDS; r++) {
      raw.push(await rawArgon2Round(stored));
      await sleep(300);
      const l = await loginRound(server.url, email, {}, dir);
      if (l.non2xx > 0) throw new Error(`login round had ${l.non2xx} failures`);
      logins.push(l.perSec);
      console.log(`login round ${r + 1}: raw argon2 ${round(raw[r], 1)}/s, logins ${round(l.perSec, 1)}/s`);
      await sleep(300);
    }

    // 3. whoami p99 during a login storm
    const { accessToken } = await login(server.url, email);
    const p99s = [];
    const whoamiRates = [];
    for (let r = 0; r < ROUNDS; r++) {
      const whoScript = luaRequestScript(dir, 'whoami', 'GET', undefined, { Authorization: `Bearer ${accessToken}` });
      const [storm, who] = await Promise.all([
        loginRound(server.url, email, { connections: LOGIN_CONCURRENCY * 2 }, dir),
        WRK
          ? wrk(`${server.url}/auth/whoami`, { connections: 4, script: whoScript })
          : run({
              url: `${server.url}/auth/whoami`,
              connections: 4,
              headers: { authorization: `Bearer ${accessToken}` },
            }).then((res) => ({ perSec: res.requests.average, non2xx: res.non2xx, p99Ms: res.latency.p99 })),
      ]);
      if (who.non2xx > 0 || storm.non2xx > 0) throw new Error('whoami/login storm round had failures');
      p99s.push(who.p99Ms);
      whoamiRates.push(who.perSec);
      console.log(
        `storm round ${r + 1}: whoami p99 ${who.p99Ms} ms (${fmtInt(who.perSec)}/s) during ${round(storm.perSec, 1)} logins/s`,
      );
      await sleep(300);
    }

    const results = {
      machine: machineInfo(),
      method: `${ROUNDS} rounds of ${ROUND_SEC} s; medians; server in its own process; load from ${WRK ? 'wrk (2 threads)' : 'autocannon in the bench process'}`,
      loadGenerator: WRK ? 'wrk' : 'autocannon',
      rotations: {
        connections: CONNECTIONS,
        medianPerSec: round(median(rotations), 0),
        rounds: rotations.map((x) => round(x, 0)),
      },
      login: {
        concurrency: LOGIN_CONCURRENCY,
        argon2: { memoryCostKiB: ARGON2.memoryCost, timeCost: ARGON2.timeCost, parallelism: ARGON2.parallelism },
        rawArgon2MedianPerSec: round(median(raw), 1),
        loginMedianPerSec: round(median(logins), 1),
        ratio: ratio(median(logins), median(raw)),
        rawRounds: raw.map((x) => round(x, 1)),
        loginRounds: logins.map((x) => round(x, 1)),
      },
      whoamiDuringLoginStorm: {
        stormConnections: LOGIN_CONCURRENCY * 2,
        medianP99Ms: median(p99s),
        p99RoundsMs: p99s,
        medianPerSec: round(median(whoamiRates), 0),
      },
      targets: TARGETS,
    };
    results.met = {
      rotationsPerSec: results.rotations.medianPerSec >= TARGETS.rotationsPerSec,
      loginVsRawArgon2: (results.login.ratio ?? 0) >= TARGETS.loginVsRawArgon2,
      whoamiP99Ms: results.whoamiDuringLoginStorm.medianP99Ms < TARGETS.whoamiP99Ms,
    };
    writeJson(join(ROOT, 'bench/results/server.json'), results);
    console.log(
      `\n${formatTable(
        ['measure', 'median', 'target', 'met'],
        [
          [
            'refresh rotations/s',
            fmtInt(results.rotations.medianPerSec),
            `>= ${TARGETS.rotationsPerSec}`,
            String(results.met.rotationsPerSec),
          ],
          [
            'logins/s vs raw argon2/s',
            `${results.login.loginMedianPerSec} / ${results.login.rawArgon2MedianPerSec} = ${fmtRatio(results.login.ratio)}`,
            `>= ${TARGETS.loginVsRawArgon2}x`,
            String(results.met.loginVsRawArgon2),
          ],
          [
            'whoami p99 during login storm',
            `${results.whoamiDuringLoginStorm.medianP99Ms} ms`,
            `< ${TARGETS.whoamiP99Ms} ms`,
            String(results.met.whoamiP99Ms),
          ],
        ],
      )}\n\nwrote bench/results/server.json`,
    );
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
