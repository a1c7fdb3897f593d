/**
 * A tiny benchmark harness shared by Tessera's benches.
 *
 * Method: every implementation is warmed up, then measured for a fixed wall time per round.
 * Inside a round the implementations take turns in short slices (e.g. 5 x 50 ms each), in an
 * order rotated from slice to slice and round to round, so that noise from a busy machine
 * (other processes, CPU frequency, GC) lands on all of them alike instead of on whichever ran
 * during a burst. An implementation's rate for a round is its operations over its own time in
 * that round. The reported figure is the MEDIAN of the per-round rates, which one slow or fast
 * round cannot move; per-round rates of two implementations also give a paired ratio.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname } from 'node:path';

/** Monotonic time in nanoseconds, as a number (exact to well beyond a bench's length). */
export function nowNs() {
  return Number(process.hrtime.bigint());
}

/**
 * A value results are folded into so that no call can be optimised away; print or return it
 * at the end if in doubt. Each fold costs a couple of nanoseconds.
 */
let sinkValue = 0;
export function sink(result) {
  sinkValue = (sinkValue + (result == null ? 1 : typeof result === 'object' ? 3 : 7)) | 0;
}
export function sinkResult() {
  return sinkValue;
}

/**
 * A function that returns the items of `items` in order, forever. Each implementation gets its
 * own cursor over the same shared list, so all of them see the same inputs in the same order.
 * @template T
 * @param {readonly T[]} items
 * @returns {() => T}
 */
export function cycle(items) {
  if (items.length === 0) throw new Error('cycle() needs at least one item');
  let i = 0;
  const n = items.length;
  return () => {
    const item = items[i];
    i = i + 1 === n ? 0 : i + 1;
    return item;
  };
}

/**
 * @typedef {object} Measurement
 * @property {number} ops  operations completed
 * @property {number} ns   elapsed wall time in nanoseconds
 */

/**
 * Runs a synchronous `fn(input)` for about `durationMs`, checking the clock every `batch` calls.
 * @returns {Measurement}
 */
export function measureSync(fn, next, durationMs, batch = 32) {
  const start = nowNs();
  const deadline = start + durationMs * 1e6;
  let ops = 0;
  let t = start;
  do {
    for (let k = 0; k < batch; k++) sink(fn(next()));
    ops += batch;
    t = nowNs();
  } while (t < deadline);
  return { ops, ns: t - start };
}

/**
 * Runs an async `fn(input)` for about `durationMs` with ONE call in flight at a time (each
 * awaited before the next): the single-caller rate of an async API.
 * @returns {Promise<Measurement>}
 */
export async function measureSerialAsync(fn, next, durationMs, batch = 8) {
  const start = nowNs();
  const deadline = start + durationMs * 1e6;
  let ops = 0;
  let t = start;
  do {
    for (let k = 0; k < batch; k++) sink(await fn(next()));
    ops += batch;
    t = nowNs();
  } while (t < deadline);
  return { ops, ns: t - start };
}

/**
 * Runs an async `fn(input)` with `inflight` calls outstanding: each completion starts a new
 * call until `durationMs` is up. Counts the calls that completed by then over that time (the
 * steady-state rate), then waits for the stragglers, uncounted, so that none of them runs into
 * the next measurement.
 * @returns {Promise<Measurement>}
 */
export function measureConcurrent(fn, next, durationMs, inflight = 64) {
  return new Promise((resolve, reject) => {
    const start = nowNs();
    const deadline = start + durationMs * 1e6;
    let counted = 0;
    let countedNs = 0;
    let outstanding = 0;
    let stopping = false;
    let failed = false;
    const fail = (error) => {
      if (!failed) {
        failed = true;
        reject(error);
      }
    };
    const onDone = (result) => {
      sink(result);
      outstanding--;
      if (!stopping) {
        const t = nowNs();
        if (t < deadline) {
          counted++;
          launch();
          return;
        }
        stopping = true;
        countedNs = t - start;
      }
      if (outstanding === 0) resolve({ ops: counted, ns: countedNs });
    };
    const launch = () => {
      outstanding++;
      let promise;
      try {
        promise = fn(next());
      } catch (error) {
        fail(error);
        return;
      }
      promise.then(onDone, fail);
    };
    for (let i = 0; i < inflight; i++) launch();
  });
}

/**
 * @typedef {object} Impl
 * @property {string} name
 * @property {'sync' | 'serial-async' | 'concurrent'} mode
 * @property {(input: unknown) => unknown} fn
 * @property {() => unknown} next        the input supplier (see {@link cycle})
 * @property {number} [inflight]         for 'concurrent' (default 64)
 */

/** @param {Impl} impl */
function measureOnce(impl, durationMs) {
  if (impl.mode === 'sync') return measureSync(impl.fn, impl.next, durationMs);
  if (impl.mode === 'serial-async') return measureSerialAsync(impl.fn, impl.next, durationMs);
  if (impl.mode === 'concurrent') return measureConcurrent(impl.fn, impl.next, durationMs, impl.inflight ?? 64);
  throw new Error(`unknown mode ${impl.mode}`);
}

/**
 * @typedef {object} ImplResult
 * @property {string} name
 * @property {string} mode
 * @property {number} medianOpsPerSec
 * @property {number} medianNsPerOp
 * @property {number[]} roundsOpsPerSec  in round order
 * @property {number} spread             (max - min) / median of the rounds
 */

/**
 * Warms every implementation up, then runs `rounds` rounds of `slices` turns each: in every
 * turn each implementation runs for `roundMs / slices`, starting from a different one each
 * time, so each takes every position.
 * @param {Impl[]} impls
 * @param {{ rounds: number, roundMs: number, warmupMs: number, slices?: number }} config
 * @returns {Promise<Record<string, ImplResult>>}
 */
export async function runInterleaved(impls, { rounds, roundMs, warmupMs, slices = 1 }) {
  for (const impl of impls) await measureOnce(impl, warmupMs);
  /** @type {Record<string, number[]>} */
  const rates = Object.fromEntries(impls.map((impl) => [impl.name, []]));
  const sliceMs = roundMs / slices;
  for (let r = 0; r < rounds; r++) {
    const ops = new Array(impls.length).fill(0);
    const ns = new Array(impls.length).fill(0);
    for (let s = 0; s < slices; s++) {
      for (let k = 0; k < impls.length; k++) {
        const i = (r + s + k) % impls.length;
        const m = await measureOnce(impls[i], sliceMs);
        ops[i] += m.ops;
        ns[i] += m.ns;
      }
    }
    impls.forEach((impl, i) => {
      rates[impl.name].push(opsPerSec({ ops: ops[i], ns: ns[i] }));
    });
  }
  /** @type {Record<string, ImplResult>} */
  const out = {};
  for (const impl of impls) {
    const list = rates[impl.name];
    const med = median(list);
    out[impl.name] = {
      name: impl.name,
      mode: impl.mode,
      medianOpsPerSec: round(med, 0),
      medianNsPerOp: round(1e9 / med, 1),
      roundsOpsPerSec: list.map((x) => round(x, 0)),
      spread: round((Math.max(...list) - Math.min(...list)) / med, 3),
    };
  }
  return out;
}

/**
 * The median over rounds of `a`'s rate over `b`'s in the same round: a paired ratio, steadier
 * than a ratio of medians when the machine's speed drifts between rounds.
 * @param {ImplResult} a
 * @param {ImplResult} b
 */
export function pairedRatio(a, b, digits = 3) {
  if (a?.roundsOpsPerSec == null || b?.roundsOpsPerSec == null) return null;
  return round(median(a.roundsOpsPerSec.map((x, i) => x / b.roundsOpsPerSec[i])), digits);
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** @param {Measurement} m */
export function opsPerSec(m) {
  return (m.ops * 1e9) / m.ns;
}

/** @param {readonly number[]} values */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `a / b`, rounded; `null` when either side is missing. */
export function ratio(a, b, digits = 3) {
  if (a == null || b == null || !(b > 0)) return null;
  return round(a / b, digits);
}

export function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A human number: 1234567 -> "1,234,567". */
export function fmtInt(x) {
  return x == null ? 'n/a' : Math.round(x).toLocaleString('en-US');
}

export function fmtRatio(x) {
  return x == null ? 'n/a' : `${x.toFixed(2)}x`;
}

/**
 * A plain-text table with right-aligned columns except the first.
 * @param {string[]} headers
 * @param {(string | number)[][]} rows
 */
export function formatTable(headers, rows) {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
  const line = (row) =>
    row.map((cell, c) => (c === 0 ? (cell ?? '').padEnd(widths[c]) : (cell ?? '').padStart(widths[c]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** What the numbers were measured on. */
export function machineInfo() {
  const list = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    platform: `${platform()} ${release()} ${arch()}`,
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    cpuMHz: list[0]?.speed ?? null,
    totalMemGiB: round(totalmem() / 2 ** 30, 1),
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    uvThreadpoolSizeIsDefault: process.env.UV_THREADPOOL_SIZE === undefined,
    // Other work on the machine when the run started (1, 5, 15 min): a shared box is noisy.
    loadAvg: loadavg().map((x) => round(x, 2)),
  };
}

/** Writes `data` as pretty JSON, creating the folder. */
export function writeJson(path, data) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}
