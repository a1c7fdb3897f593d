/**
 * `npm run bench:http`: the guard in a real Fastify server under HTTP load, against
 * @fastify/jwt (fast-jwt) and a jose jwtVerify hook, plus revocation propagation.
 *
 * 1. Throughput. Each mode is its own server process (bench/lib/http-target.mjs: Fastify 5,
 *    GET /data answering a small JSON): `open` (no auth), `tessera` (createGuard with local
 *    keys, verified-token cache on, through its Fastify plugin), `fastify-jwt` (cache off),
 *    `fastify-jwt-cached` (cache on) and `jose`. Load: wrk -t2 -c50 in another process, every
 *    run through the same Lua script (bench/lib/bearer-cycle.lua, requests preformatted), so the
 *    generator does the same work everywhere:
 *      - repeated: one token, the same on every request (open gets it too, and ignores it);
 *      - fresh: a new set of distinct tokens per round (at least 10,000, sized from the warm-up
 *        so that no token is sent twice in a run); every mode gets the same set, and since each
 *        mode is its own process, every token is a first sighting (a cache miss) for it. The
 *        script counts repeats ("wrapped"), and the guard's own counters confirm the misses.
 *    Several rounds; in each, every (mode, case) runs once for a few seconds, in an order
 *    rotated from round to round. Figures are medians over rounds; each protected figure is
 *    also given as the median of its per-round ratio to the open route in the same round.
 * 2. Revocation propagation. A real auth server (bench/lib/auth-target.mjs, its own process),
 *    a guard here with createRevocationFeed against it. 1,000 sessions are created first
 *    (logins; the bench server uses cheap argon2 and no rate limits, printed below), then for
 *    each: the guard accepts its token (and caches it), DELETE /auth/sessions/:id is sent, and
 *    the guard is polled (guard.authenticate, one setImmediate apart) until it rejects the token
 *    with ERR_TOKEN_REVOKED. The time is from sending the DELETE to that rejection.
 *
 * Environment: BENCH_ROUNDS (5), BENCH_ROUND_SEC (3), BENCH_REVOCATIONS (1000),
 * BENCH_CPU_PROF=<dir> (run the targets with --cpu-prof into <dir>), BENCH_MODES (a comma list
 * of modes, for a partial run; no JSON is written). Results: bench/results/http.json.
 */

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createJwks, generateKey, signAccessToken } from '@tessera/core';
import { createGuard, createRevocationFeed } from '@tessera/guard';
import { fmtInt, fmtRatio, formatTable, machineInfo, median, ratio, round, sleep, writeJson } from './lib/harness.mjs';
import { hasWrk, runWrk, wrkVersion } from './lib/wrk.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_SEC = Number(process.env.BENCH_ROUND_SEC ?? 3);
const WARMUP_SEC = 1;
const CONNECTIONS = 50;
const THREADS = 2;
const FRESH_MIN = 10_000;
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 1000);
const CPU_PROF = process.env.BENCH_CPU_PROF;
const ISSUER = 'https://auth.tessera.example';
const AUDIENCE = 'https://api.tessera.example';
const SCOPE = 'openid profile orders:read';
const PASSWORD = 'correct horse battery staple';
const CSRF = { 'x-tessera-csrf': '1', 'content-type': 'application/json' };
const TARGETS = Object.freeze({ freshVsOpen: 0.5, repeatedVsOpen: 0.85, revocationP99Ms: 100 });

const ALL_MODES = ['open', 'tessera', 'fastify-jwt', 'fastify-jwt-cached', 'jose'];
const MODES = process.env.BENCH_MODES ? process.env.BENCH_MODES.split(',') : ALL_MODES;
for (const m of MODES) if (!ALL_MODES.includes(m)) throw new Error(`BENCH_MODES: unknown mode ${m}`);
if (!MODES.includes('open')) MODES.unshift('open');
const PARTIAL = MODES.length < ALL_MODES.length;
/** The (mode, case) cells of a round. fast-jwt's cache is measured where it matters: repeated. */
const CELLS = [
  { mode: 'open', kind: 'repeated', id: 'open' },
  { mode: 'tessera', kind: 'repeated' },
  { mode: 'tessera', kind: 'fresh' },
  { mode: 'fastify-jwt', kind: 'repeated' },
  { mode: 'fastify-jwt', kind: 'fresh' },
  { mode: 'fastify-jwt-cached', kind: 'repeated' },
  { mode: 'jose', kind: 'repeated' },
  { mode: 'jose', kind: 'fresh' },
  // RS256 verifies ~3x faster than ES256 in OpenSSL 3 (and signs ~7x slower): what an API that
  // mostly sees first sightings gains when its auth server signs RS256.
  { mode: 'tessera', kind: 'fresh', alg: 'RS256' },
  { mode: 'jose', kind: 'fresh', alg: 'RS256' },
]
  .filter((c) => MODES.includes(c.mode))
  .map((c) => {
    const alg = c.alg ?? 'ES256';
    const server = alg === 'ES256' ? c.mode : `${c.mode}@${alg}`;
    return { ...c, alg, server, id: c.id ?? `${c.mode}/${c.kind}${alg === 'ES256' ? '' : ` ${alg}`}` };
  });
const SERVERS = [...new Map(CELLS.map((c) => [c.server, { id: c.server, mode: c.mode, alg: c.alg }])).values()];

const log = (line) => console.log(line);

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Spawns `node <script> ...args` and resolves with the JSON line it prints when ready. */
async function spawnJson(script, args, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout });
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${stderr}`)), 15_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${stderr}`)));
  });
  return {
    info,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

let tokenSerial = 0;
/** `count` distinct RFC 9068 access tokens (iss, sub, aud, exp, iat, jti, sid, client_id, scope). */
function mint(key, count) {
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const n = tokenSerial++;
    out[i] = signAccessToken(
      { sub: `user-${n % 50_000}`, sid: `ses-${n.toString(36)}`, client_id: 'web-app', scope: SCOPE },
      key,
      // One hour (the most Tessera allows), so every token outlives the run.
      { issuer: ISSUER, audience: AUDIENCE, ttlSec: 3600 },
    ).token;
  }
  return out;
}

/** Changes one character in the middle of the signature (stays canonical base64url). */
function tamper(token) {
  const at = token.lastIndexOf('.') + 10;
  return token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
}

async function status(url, token) {
  const res = await fetch(`${url}/data`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

// ---------------------------------------------------------------------------------------------
// Throughput
// ---------------------------------------------------------------------------------------------

async function load(url, tokensFile, durationSec) {
  const r = await runWrk(`${url}/data`, {
    threads: THREADS,
    connections: CONNECTIONS,
    durationSec,
    script: join(ROOT, 'bench/lib/bearer-cycle.lua'),
    env: { TOKENS_FILE: tokensFile, WRK_THREADS: String(THREADS), REQUEST_PATH: '/data' },
  });
  const m = /TOKENS sent=(\d+) wrapped=(\d+)/.exec(r.output);
  return { ...r, sent: Number(m?.[1] ?? 0), wrapped: Number(m?.[2] ?? 0) };
}

async function guardStats(url) {
  const res = await fetch(`${url}/__stats`);
  return res.json();
}

async function throughput(dir, keys) {
  const jwksPaths = {};
  for (const [alg, key] of Object.entries(keys)) {
    jwksPaths[alg] = join(dir, `jwks-${alg}.json`);
    writeFileSync(jwksPaths[alg], JSON.stringify(createJwks([key])));
  }
  const key = keys.ES256;
  const nodeArgs = [];
  if (CPU_PROF !== undefined) {
    mkdirSync(CPU_PROF, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`);
  }
  const servers = {};
  for (const server of SERVERS) {
    servers[server.id] = await spawnJson(
      join(ROOT, 'bench/lib/http-target.mjs'),
      [server.mode, jwksPaths[server.alg], ISSUER, AUDIENCE],
      nodeArgs,
    );
  }
  try {
    const [repeatedToken] = mint(key, 1);
    const repeatedFile = join(dir, 'repeated.txt');
    writeFileSync(repeatedFile, `${repeatedToken}\n`);

    // Correctness, once, before anything is timed.
    const otherKeyStatus = {};
    for (const server of SERVERS) {
      const { url } = servers[server.id].info;
      const [valid] = server.alg === 'ES256' ? [repeatedToken] : mint(keys[server.alg], 1);
      const ok = await status(url, valid);
      if (ok !== 200) throw new Error(`${server.id}: a valid token got ${ok}`);
      if (server.mode === 'open') continue;
      const bad = await status(url, tamper(valid));
      const none = await status(url, undefined);
      if (bad !== 401 || none !== 401)
        throw new Error(`${server.id}: tampered token ${bad}, no token ${none} (want 401)`);
      // A token of the other algorithm and key. @fastify/jwt 9.1 answers it with a 500 (fast-jwt
      // throws an error the plugin does not map); that is recorded, not a reason to stop.
      const other = await status(url, server.alg === 'ES256' ? mint(keys.RS256, 1)[0] : repeatedToken);
      otherKeyStatus[server.id] = other;
      if (other !== 401 && !server.mode.startsWith('fastify-jwt')) {
        throw new Error(`${server.id}: a token of another key got ${other} (want 401)`);
      }
    }
    log(
      `correctness: every protected server accepts a valid token and rejects a tampered one and none (401); a token of the other key: ${JSON.stringify(otherKeyStatus)}`,
    );

    const writeSet = (name, tokens) => {
      const file = join(dir, `${name}.txt`);
      writeFileSync(file, `${tokens.join('\n')}\n`);
      return file;
    };

    // Warm-up: every cell once, on its own token set; sizes the fresh sets.
    const warmFiles = Object.fromEntries(
      Object.entries(keys).map(([alg, k]) => [alg, writeSet(`warm-${alg}`, mint(k, FRESH_MIN))]),
    );
    let freshPeak = 0;
    for (const cell of CELLS) {
      const r = await load(
        servers[cell.server].info.url,
        cell.kind === 'fresh' ? warmFiles[cell.alg] : repeatedFile,
        WARMUP_SEC,
      );
      if (cell.kind === 'fresh') freshPeak = Math.max(freshPeak, r.perSec);
      log(`warm-up ${cell.id}: ${fmtInt(r.perSec)} req/s`);
    }
    // Enough distinct tokens that no token repeats within a run, with a margin for a faster round.
    const freshPerRound = Math.max(FRESH_MIN, Math.ceil((freshPeak * ROUND_SEC * 1.6) / 10_000) * 10_000);
    log(`fresh tokens: a new set of ${fmtInt(freshPerRound)} per round`);

    const rates = Object.fromEntries(CELLS.map((c) => [c.id, []]));
    const runs = Object.fromEntries(CELLS.map((c) => [c.id, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      const freshFiles = {};
      for (const alg of new Set(CELLS.filter((c) => c.kind === 'fresh').map((c) => c.alg))) {
        freshFiles[alg] = writeSet(`fresh-${alg}-${r}`, mint(keys[alg], freshPerRound));
      }
      const signMs = performance.now() - t0;
      const order = CELLS.map((_, k) => CELLS[(k + r) % CELLS.length]);
      const line = [];
      for (const cell of order) {
        const { url } = servers[cell.server].info;
        const before = cell.mode === 'tessera' ? await guardStats(url) : undefined;
        const res = await load(url, cell.kind === 'fresh' ? freshFiles[cell.alg] : repeatedFile, ROUND_SEC);
        if (res.non2xx > 0 || res.socketErrors > 0) {
          throw new Error(`${cell.id} round ${r + 1}: ${res.non2xx} non-2xx, ${res.socketErrors} socket errors`);
        }
        const run = {
          round: r + 1,
          perSec: round(res.perSec, 0),
          requests: res.requests,
          p50Ms: res.p50Ms,
          p99Ms: res.p99Ms,
        };
        if (cell.kind === 'fresh') run.repeatedTokenRequests = res.wrapped;
        if (before !== undefined) {
          const after = await guardStats(url);
          run.guardCacheMisses = after.cacheMisses - before.cacheMisses;
          run.guardCacheHits = after.cacheHits - before.cacheHits;
        }
        rates[cell.id].push(res.perSec);
        runs[cell.id].push(run);
        line.push(`${cell.id} ${fmtInt(res.perSec)}`);
        await sleep(200);
      }
      log(`round ${r + 1} (${(signMs / 1000).toFixed(1)} s to sign its fresh set): ${line.join(', ')}`);
    }

    const open = rates.open;
    const cells = {};
    for (const cell of CELLS) {
      const list = rates[cell.id];
      const perRound = list.map((x, i) => x / open[i]);
      cells[cell.id] = {
        mode: cell.mode,
        alg: cell.alg,
        case: cell.id === 'open' ? 'open' : cell.kind,
        medianPerSec: round(median(list), 0),
        roundsPerSec: list.map((x) => round(x, 0)),
        spread: round((Math.max(...list) - Math.min(...list)) / median(list), 3),
        ratioToOpen: round(median(perRound), 3),
        ratioOfMedians: ratio(median(list), median(open)),
        roundsRatioToOpen: perRound.map((x) => round(x, 3)),
        runs: runs[cell.id],
      };
    }
    return { cells, freshPerRound, otherKeyStatus };
  } finally {
    for (const server of SERVERS) await servers[server.id].stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Revocation propagation
// ---------------------------------------------------------------------------------------------

function sidOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).sid;
}

async function login(url, email) {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: CSRF,
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function propagation(dir) {
  const auth = await spawnJson(join(ROOT, 'bench/lib/auth-target.mjs'), [dir]);
  const { url, issuer, audience, client } = auth.info;
  const feed = createRevocationFeed({ url, clientId: client.id, clientSecret: client.secret });
  let guard;
  try {
    const email = 'bench@example.com';
    const reg = await fetch(`${url}/auth/register`, {
      method: 'POST',
      headers: CSRF,
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    if (reg.status !== 202) throw new Error(`register: ${reg.status}`);
    const admin = await login(url, email);

    const WARM = 5;
    const t0 = performance.now();
    const victims = [];
    const LOGIN_CONCURRENCY = 4;
    await Promise.all(
      Array.from({ length: LOGIN_CONCURRENCY }, async () => {
        while (victims.length < REVOCATIONS + WARM) {
          const slot = victims.push(null) - 1;
          victims[slot] = await login(url, email);
        }
      }),
    );
    victims.length = REVOCATIONS + WARM;
    const loginSec = (performance.now() - t0) / 1000;
    log(`revocation: ${victims.length} sessions created in ${loginSec.toFixed(1)} s (not timed)`);

    await feed.ready;
    guard = createGuard({ issuer, audience, jwksUri: `${url}/.well-known/jwks.json`, revocation: { source: feed } });
    await guard.ready();

    const times = [];
    for (let i = 0; i < victims.length; i++) {
      const token = victims[i];
      const request = { headers: { authorization: `Bearer ${token}` } };
      await guard.authenticate(request); // accepted, and now in the verified-token cache
      const start = performance.now();
      const revoke = fetch(`${url}/auth/sessions/${sidOf(token)}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${admin}` },
      });
      for (;;) {
        try {
          await guard.authenticate(request);
        } catch (error) {
          if (error?.code !== 'ERR_TOKEN_REVOKED') throw error;
          break;
        }
        if (performance.now() - start > 5000) throw new Error('a revoked token was still accepted after 5 s');
        await new Promise(setImmediate);
      }
      const elapsed = performance.now() - start;
      const res = await revoke;
      await res.arrayBuffer();
      if (res.status !== 204) throw new Error(`DELETE session: ${res.status}`);
      if (i >= WARM) times.push(elapsed);
    }
    times.sort((a, b) => a - b);
    const stats = guard.stats;
    return {
      revocations: times.length,
      warmupRevocations: WARM,
      p50Ms: round(percentile(times, 50), 2),
      p90Ms: round(percentile(times, 90), 2),
      p99Ms: round(percentile(times, 99), 2),
      maxMs: round(times[times.length - 1], 2),
      minMs: round(times[0], 2),
      guardRevokedRejected: stats.revokedRejected,
      guardEvictions: stats.evictions,
      benchServer: {
        argon2: auth.info.argon2,
        rateLimitEnabled: auth.info.rateLimitEnabled,
        revocationHeartbeatSec: auth.info.revocationHeartbeatSec,
        note: 'bench-only settings: cheapest allowed argon2id (8 MiB, t=1) and rate limits off, so 1,000 logins take seconds; logins are not timed',
      },
      loginSec: round(loginSec, 1),
    };
  } finally {
    guard?.close();
    await feed.close();
    await auth.stop();
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (!hasWrk()) throw new Error('bench:http needs wrk (apt-get install wrk)');
  const started = performance.now();
  const machine = machineInfo();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-http-'));
  log(
    `bench:http: ${ROUNDS} rounds of ${ROUND_SEC} s, wrk -t${THREADS} -c${CONNECTIONS}; load average ${machine.loadAvg}`,
  );
  try {
    const keys = { ES256: await generateKey('ES256'), RS256: await generateKey('RS256') };
    const { cells, freshPerRound, otherKeyStatus } = await throughput(dir, keys);
    const revocation = REVOCATIONS > 0 ? await propagation(join(dir)) : undefined;

    const tessera = {
      fresh: cells['tessera/fresh'],
      repeated: cells['tessera/repeated'],
      freshRs256: cells['tessera/fresh RS256'],
    };
    const met = {
      freshVsOpen: tessera.fresh ? tessera.fresh.ratioToOpen >= TARGETS.freshVsOpen : null,
      freshVsOpenRs256: tessera.freshRs256 ? tessera.freshRs256.ratioToOpen >= TARGETS.freshVsOpen : null,
      repeatedVsOpen: tessera.repeated ? tessera.repeated.ratioToOpen >= TARGETS.repeatedVsOpen : null,
      revocationP99Ms: revocation ? revocation.p99Ms < TARGETS.revocationP99Ms : null,
    };
    const results = {
      machine: { ...machine, loadAvgEnd: loadavg().map((x) => round(x, 2)) },
      loadGenerator: { tool: 'wrk', version: wrkVersion(), threads: THREADS, connections: CONNECTIONS },
      method: {
        rounds: ROUNDS,
        roundSec: ROUND_SEC,
        warmupSec: WARMUP_SEC,
        order: 'every (mode, case) once per round, order rotated by one each round; 200 ms pause between runs',
        servers: 'one Fastify 5.12.8 process per mode (bench/lib/http-target.mjs), GET /data -> small JSON, 127.0.0.1',
        alg: 'ES256 unless the cell says RS256 (RS256 2048-bit), tokens from @tessera/core signAccessToken (iss, sub, aud, exp, iat, jti, sid, client_id, scope; typ at+jwt; 1 h)',
        repeated: 'one token on every request (the open route gets the same header and ignores it)',
        fresh: `a new set of ${freshPerRound} distinct tokens per round, shared by the modes (each its own process, so each token is a first sighting); wrk threads split the set, each token sent once; repeats are counted per run (repeatedTokenRequests)`,
        figures:
          'medianPerSec: median over rounds; ratioToOpen: median over rounds of (cell / open in the same round); ratioOfMedians alongside',
        peers: {
          tessera:
            '@tessera/guard createGuard({ issuer, audience, keys: jwks }) + guard.fastify.plugin, cache on (default)',
          'fastify-jwt':
            '@fastify/jwt 9.1.0 (fast-jwt 5.x), public PEM, algorithms [ES256], allowedIss, allowedAud, checkTyp at+jwt, cache off; onRequest request.jwtVerify()',
          'fastify-jwt-cached': 'the same with cache: true',
          jose: 'jose 6.2.18 jwtVerify(token, CryptoKey, { issuer, audience, algorithms: [ES256], typ: at+jwt }) in an onRequest hook',
        },
        revocation:
          'auth server in its own process (createAuthServer + SqliteStore, port 0); guard here with createRevocationFeed + createGuard (remote JWKS); per session: guard accepts (cached), DELETE /auth/sessions/:id sent, guard.authenticate polled one setImmediate apart until ERR_TOKEN_REVOKED; time from sending the DELETE',
      },
      otherKeyStatus,
      cells,
      revocation,
      targets: TARGETS,
      met,
      durationSec: round((performance.now() - started) / 1000, 0),
    };

    const order = CELLS.map((c) => c.id);
    const rows = order.map((id) => {
      const c = cells[id];
      return [
        id,
        fmtInt(c.medianPerSec),
        id === 'open' ? '1.00x' : fmtRatio(c.ratioToOpen),
        fmtInt(Math.min(...c.roundsPerSec)),
        fmtInt(Math.max(...c.roundsPerSec)),
        median(c.runs.map((x) => x.p99Ms)).toFixed(1),
      ];
    });
    log(
      `\nReq/s, median of ${ROUNDS} rounds (wrk -t${THREADS} -c${CONNECTIONS}, ${ROUND_SEC} s runs, ES256 unless marked):\n${formatTable(
        ['mode / case', 'req/s', 'vs open', 'min', 'max', 'p99 ms'],
        rows,
      )}`,
    );
    if (tessera.fresh) {
      const misses = tessera.fresh.runs.reduce((n, x) => n + x.guardCacheMisses, 0);
      const hits = tessera.fresh.runs.reduce((n, x) => n + x.guardCacheHits, 0);
      log(
        `tessera/fresh: ${fmtInt(misses)} cache misses, ${fmtInt(hits)} hits over the timed runs (${fmtInt(freshPerRound)} new tokens per round)`,
      );
    }
    if (revocation) {
      log(
        `\nRevocation propagation, DELETE /auth/sessions/:id -> guard rejects (${revocation.revocations} revocations):` +
          ` p50 ${revocation.p50Ms} ms, p99 ${revocation.p99Ms} ms, max ${revocation.maxMs} ms` +
          `\n  (bench auth server: argon2id ${revocation.benchServer.argon2.memoryCostKiB} KiB t=${revocation.benchServer.argon2.timeCost}, rate limits ${revocation.benchServer.rateLimitEnabled ? 'on' : 'off'}; sessions created before timing)`,
      );
    }
    log(
      `\n${formatTable(
        ['target', 'measured', 'target', 'met'],
        [
          [
            'tessera fresh vs open',
            fmtRatio(tessera.fresh?.ratioToOpen),
            `>= ${TARGETS.freshVsOpen}x`,
            String(met.freshVsOpen),
          ],
          [
            'tessera fresh vs open, RS256',
            fmtRatio(tessera.freshRs256?.ratioToOpen),
            `>= ${TARGETS.freshVsOpen}x`,
            String(met.freshVsOpenRs256),
          ],
          [
            'tessera repeated vs open',
            fmtRatio(tessera.repeated?.ratioToOpen),
            `>= ${TARGETS.repeatedVsOpen}x`,
            String(met.repeatedVsOpen),
          ],
          [
            'revocation p99',
            revocation ? `${revocation.p99Ms} ms` : 'n/a',
            `< ${TARGETS.revocationP99Ms} ms`,
            String(met.revocationP99Ms),
          ],
        ],
      )}`,
    );
    if (PARTIAL || REVOCATIONS !== 1000 || CPU_PROF !== undefined) {
      log('\npartial, profiled or reduced run: no JSON written');
    } else {
      writeJson(join(ROOT, 'bench/results/http.json'), results);
      log(`\nwrote bench/results/http.json (${results.durationSec} s)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
