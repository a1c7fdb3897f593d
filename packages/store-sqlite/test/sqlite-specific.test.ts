/**
 * Facts about the SQLite adapter the shared conformance suite cannot state: WAL, versioned and
 * idempotent migrations, and rotation as a compare-and-set across connections and processes
 * sharing one file (the `BEGIN IMMEDIATE` write lock, not any per-instance state).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RotateInput, RotationResult, SessionRecord } from '@tessera/server/contracts';
import { MIGRATIONS, SqliteStore } from '@tessera/store-sqlite';
import { startRotateChild, transpileToCommonJs } from '@tessera/store-testing';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const T0 = 1_900_000_000;
const FIRST_TOKEN = 'a'.repeat(64);

let dir: string;
let dbPath: string;
const opened: SqliteStore[] = [];

function open(): SqliteStore {
  const store = new SqliteStore({ path: dbPath });
  opened.push(store);
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-specific-'));
  dbPath = join(dir, 'tessera.sqlite');
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function migrationRows(path: string): { version: number; name: string; applied_at: number }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as {
      version: number;
      name: string;
      applied_at: number;
    }[];
  } finally {
    db.close();
  }
}

async function seedSession(store: SqliteStore): Promise<SessionRecord> {
  const session: SessionRecord = {
    id: 's-1',
    userId: 'u-1',
    clientId: 'web',
    scope: 'openid',
    authTime: T0,
    createdAt: T0,
    lastUsedAt: T0,
    idleExpiresAt: T0 + 1800,
    absoluteExpiresAt: T0 + 30 * 86_400,
    revokedAt: null,
    revokedReason: null,
    userAgent: null,
    ip: null,
  };
  await store.createUser({
    id: 'u-1',
    email: 'u-1@example.test',
    passwordHash: 'x',
    status: 'active',
    createdAt: T0,
    updatedAt: T0,
    tokensValidAfter: 0,
  });
  await store.createSession(session, { hash: FIRST_TOKEN, expiresAt: T0 + 1800 });
  return session;
}

function rotation(who: string, now = T0 + 100): RotateInput {
  const next = who.padEnd(64, '0').slice(0, 64);
  return {
    presentedHash: FIRST_TOKEN,
    next: { hash: next, expiresAt: now + 1800 },
    graceResponse: `sealed-grant-of-${who}`,
    now,
    graceSec: 10,
    idleSec: 1800,
    ip: null,
    userAgent: who,
  };
}

/** Exactly one rotated; every other attempt is grace replaying the winner's response. */
function expectOneWinner(results: RotationResult[], inputs: RotateInput[]): RotateInput {
  const winners = inputs.filter((_, i) => results[i]?.outcome === 'rotated');
  expect(winners).toHaveLength(1);
  const winner = winners[0] as RotateInput;
  for (const [i, result] of results.entries()) {
    if (inputs[i] === winner) continue;
    expect(result).toMatchObject({ outcome: 'grace', graceResponse: winner.graceResponse });
  }
  return winner;
}

describe('SQLite journal', () => {
  it('runs in WAL mode, and the mode is persisted in the file for every connection', () => {
    const store = open();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const raw = new Database(dbPath, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('enforces foreign keys, so purging a session can cascade to its refresh tokens', () => {
    expect(open().db.pragma('foreign_keys', { simple: true })).toBe(1);
  });
});

describe('SQLite migrations', () => {
  it('are numbered 1, 2, ... in order, with a name each', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    for (const m of MIGRATIONS) expect(m.name).not.toBe('');
  });

  it('opening a new file applies every migration once and records it in schema_migrations', async () => {
    await open().close();
    const rows = migrationRows(dbPath);
    expect(rows.map((r) => [r.version, r.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    expect(rows.map((r) => r.version)).toContain(1);
  });

  it('are idempotent: reopening the file or calling migrate() again applies nothing new and keeps data', async () => {
    const first = open();
    await seedSession(first);
    await first.close();
    const before = migrationRows(dbPath);

    const second = open();
    await second.migrate();
    await second.migrate();
    expect(migrationRows(dbPath)).toEqual(before);
    expect((await second.findSession('s-1'))?.id).toBe('s-1');
  });
});

describe('SQLite rotation across connections', () => {
  it('two SqliteStore instances on one file racing one token give exactly one rotated', async () => {
    const a = open();
    const b = open();
    await seedSession(a);
    const inputs = Array.from({ length: 20 }, (_, i) => rotation(`conn-${i % 2 === 0 ? 'a' : 'b'}-${i}`));
    const results = await Promise.all(inputs.map((input, i) => (i % 2 === 0 ? a : b).rotateRefreshToken(input)));

    const winner = expectOneWinner(results, inputs);
    // Neither instance caches: both see the winner's successor and the touched session.
    for (const store of [a, b]) {
      expect((await store.findSessionByRefreshHash(winner.next.hash))?.id).toBe('s-1');
      expect((await store.findSession('s-1'))?.lastUsedAt).toBe(T0 + 100);
    }
    expect(await b.findSessionByRefreshHash(inputs.find((i) => i !== winner)?.next.hash ?? '')).toBeUndefined();
  });

  it('separate processes racing one token (released together) give exactly one rotated', async () => {
    const store = open();
    await seedSession(store);
    const script = buildChildScript(dir);
    const inputs = [0, 1, 2, 3].map((i) => rotation(`proc-${i}`));
    const children = inputs.map((input) => startRotateChild(script, [dbPath], input));
    try {
      await Promise.all(children.map((c) => c.ready));
      const parentInput = rotation('proc-parent');
      // Release every child, then race them from this process on its own connection.
      for (const c of children) c.process.stdin.end('go\n');
      const parentResult = await open().rotateRefreshToken(parentInput);
      const childResults = await Promise.all(children.map((c) => c.result));

      const winner = expectOneWinner([...childResults, parentResult], [...inputs, parentInput]);
      expect((await store.findSessionByRefreshHash(winner.next.hash))?.id).toBe('s-1');
      for (const input of [...inputs, parentInput]) {
        if (input === winner) continue;
        expect(await store.findSessionByRefreshHash(input.next.hash)).toBeUndefined();
      }
    } finally {
      for (const c of children) c.process.kill();
    }
  });
});

/**
 * A CommonJS copy of the adapter for child processes: Node 20 cannot run TypeScript, and tests
 * must not depend on a build, so the current sources are transpiled into the temp dir.
 */
function buildChildScript(into: string): string {
  const src = fileURLToPath(new URL('../src/', import.meta.url));
  const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  // The shared row mappers import only types, so their transpiled copy needs no redirects.
  const storeRows = fileURLToPath(new URL('../../server/src/store-rows.ts', import.meta.url));
  for (const [name, file] of [
    ['sqlite-store', join(src, 'sqlite-store.ts')],
    ['migrations', join(src, 'migrations.ts')],
    ['store-rows', storeRows],
  ] as const) {
    const code = transpileToCommonJs(file)
      .replace('require("better-sqlite3")', `require(${JSON.stringify(betterSqlite)})`)
      .replace('require("./migrations.js")', 'require("./migrations.cjs")')
      .replace('require("@tessera/server/store-rows")', 'require("./store-rows.cjs")');
    if (name === 'store-rows' && /require\(/.test(code)) throw new Error('store-rows gained an import: follow it');
    if (name === 'sqlite-store' && !code.includes(JSON.stringify(betterSqlite))) {
      throw new Error('could not point the transpiled adapter at better-sqlite3');
    }
    writeFileSync(join(into, `${name}.cjs`), code);
  }
  const script = join(into, 'rotate-child.cjs');
  writeFileSync(
    script,
    `const { SqliteStore } = require('./sqlite-store.cjs');
const [dbPath, input] = process.argv.slice(2);
const store = new SqliteStore({ path: dbPath });
process.stdout.write('ready\\n');
process.stdin.once('data', async () => {
  const result = await store.rotateRefreshToken(JSON.parse(input));
  process.stdout.write(JSON.stringify(result) + '\\n');
  await store.close();
  process.stdin.destroy();
});
`,
  );
  return script;
}

describe('SQLite group commit when SQLite aborts the whole transaction', () => {
  it('a batch item that hits SQLITE_FULL fails the whole batch: nothing of it is committed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-full-'));
    const store = new SqliteStore({ path: join(dir, 'db.sqlite') });
    try {
      await store.migrate();
      expect((await store.takeToken('k', 5, 0, 100)).allowed).toBe(true);
      const pages = (store.db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
      store.db.pragma(`max_page_count = ${pages + 1}`);
      const big = 'x'.repeat(200_000);
      const results = await Promise.allSettled([
        store.takeToken('k', 5, 0, 100),
        store.appendAudit({ at: 1, type: 'x', userId: null, sessionId: null, ip: null, userAgent: big, data: {} }),
        store.takeToken('k', 5, 0, 100),
        store.takeToken('k2', 5, 0, 100),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
      expect(store.db.inTransaction).toBe(false);
      store.db.pragma('max_page_count = 1073741823');
      // Every caller was told it failed, so none of it may have been committed.
      expect(store.db.prepare('SELECT key, tokens FROM rate_buckets ORDER BY key').all()).toEqual([
        { key: 'k', tokens: 4 },
      ]);
      expect(store.db.prepare('SELECT count(*) AS n FROM audit_events').get()).toEqual({ n: 0 });
      // The store works again once there is room.
      expect((await store.takeToken('k2', 5, 0, 100)).allowed).toBe(true);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
