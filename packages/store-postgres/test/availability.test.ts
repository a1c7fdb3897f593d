/**
 * Availability failures surface as StoreUnavailableError (an AuthError, code
 * ERR_SERVICE_UNAVAILABLE), which the auth server answers with a 503, never a raw pg error in a 500.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock } from '@tessera/core';
import { createAuthServer } from '@tessera/server';
import { PostgresStore, StoreUnavailableError } from '@tessera/store-postgres';
import { SqliteStore } from '@tessera/store-sqlite';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rotateInput, seedSession, sessionRecord, sha256Hex, T0, userRecord } from './support/seed.js';
import { DATABASE_URL, openTestStore, probeDatabase, requireDatabase } from './support/test-database.js';

async function expectUnavailable(promise: Promise<unknown>, reason: StoreUnavailableError['reason']): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreUnavailableError);
  expect(error).toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE', status: 503, retryAfterSec: 1, reason });
}

describe('unreachable PostgreSQL', () => {
  it('a refused connection is StoreUnavailableError (connection), not a raw socket error', async () => {
    const store = new PostgresStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      connectionTimeoutMs: 2000,
    });
    try {
      await expectUnavailable(store.ping(), 'connection');
      await expectUnavailable(store.migrate(), 'connection');
      await expectUnavailable(store.rotateRefreshToken(rotateInput('x', 'refused')), 'connection');
    } finally {
      await store.close();
    }
  });
});

if (requireDatabase(await probeDatabase())) {
  describe('availability', () => {
    let store: PostgresStore;
    let schema: string;
    let cleanup: () => Promise<void>;
    let admin: pg.Client;
    let applicationName: string;

    beforeEach(async () => {
      applicationName = `tessera-test-${randomBytes(6).toString('hex')}`;
      ({ store, schema, cleanup } = await openTestStore({
        max: 1,
        statementTimeoutMs: 1000,
        connectionTimeoutMs: 300,
        applicationName,
      }));
      admin = new pg.Client({ connectionString: DATABASE_URL });
      admin.on('error', () => {});
      await admin.connect();
    });
    afterEach(async () => {
      await admin.end().catch(() => {});
      await cleanup();
    });

    /** Holds the family's session row lock on the admin connection until the returned release. */
    async function holdFamilyLock(sessionId: string): Promise<() => Promise<void>> {
      await admin.query('BEGIN');
      await admin.query(`SELECT 1 FROM "${schema}".sessions WHERE id = $1 FOR UPDATE`, [sessionId]);
      return async () => {
        await admin.query('COMMIT');
      };
    }

    it('a closed store rejects every call with StoreUnavailableError (closed), and close is idempotent', async () => {
      await store.close();
      await store.close();
      await expectUnavailable(store.ping(), 'closed');
      await expectUnavailable(store.findUserById('u-1'), 'closed');
      await expectUnavailable(store.rotateRefreshToken(rotateInput('x', 'closed')), 'closed');
      await expectUnavailable(store.migrate(), 'closed');
    });

    it('a statement past statementTimeoutMs is StoreUnavailableError (timeout), and the store recovers', async () => {
      const first = await seedSession(store, 's-timeout');
      const release = await holdFamilyLock('s-timeout');
      const started = Date.now();
      await expectUnavailable(store.rotateRefreshToken(rotateInput(first, 'blocked')), 'timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(Date.now() - started).toBeLessThan(5000);
      await release();
      // Nothing of the timed-out attempt remains: the same token still rotates, once.
      expect((await store.rotateRefreshToken(rotateInput(first, 'after'))).outcome).toBe('rotated');
      expect(await store.findRefreshToken(rotateInput(first, 'blocked').next.hash)).toBeUndefined();
    });

    it('a grace replay does not wait on the family lock; a rotation and a reuse check still do', async () => {
      const first = await seedSession(store, 's-grace-lock');
      expect((await store.rotateRefreshToken(rotateInput(first, 'winner'))).outcome).toBe('rotated');
      const release = await holdFamilyLock('s-grace-lock');
      const started = Date.now();
      const replay = await store.rotateRefreshToken(rotateInput(first, 'duplicate', { now: T0 + 65 }));
      expect(replay).toMatchObject({ outcome: 'grace', graceResponse: 'sealed-grant-winner' });
      expect(Date.now() - started).toBeLessThan(900);
      // Past the window it is a reuse check, which takes the lock (and here times out).
      await expectUnavailable(store.rotateRefreshToken(rotateInput(first, 'late', { now: T0 + 71 })), 'timeout');
      await release();
      expect((await store.findSession('s-grace-lock'))?.revokedAt).toBeNull();
    });

    it('no free pooled connection within connectionTimeoutMs is StoreUnavailableError (pool_timeout)', async () => {
      const first = await seedSession(store, 's-pool');
      const release = await holdFamilyLock('s-pool');
      // The pool's only connection waits on the lock inside a rotation...
      const blocked = store.rotateRefreshToken(rotateInput(first, 'holder'));
      blocked.catch(() => undefined);
      // ...so another call cannot get a connection in time.
      await expectUnavailable(store.ping(), 'pool_timeout');
      await release();
      expect((await blocked).outcome).toBe('rotated');
      await expect(store.ping()).resolves.toBeUndefined();
    });

    /** Terminates this store's connections only (by unique application_name): other suites share the server. */
    async function killConnections(): Promise<number> {
      const { rows } = await admin.query<{ n: number }>(
        'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      return rows[0]?.n ?? 0;
    }

    it('a connection killed while idle (server restart, failover) is dropped without crashing; the next call reconnects', async () => {
      await store.ping();
      expect(await killConnections()).toBe(1);
      // Let the idle client see its socket end: the pool reports that as an 'error' event, which
      // would be an uncaught exception without the store's listener.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(store.ping()).resolves.toBeUndefined();
      expect(await store.findUserById('nobody')).toBeUndefined();
    });

    it('a call that meets a just-killed connection fails as unavailable, and the one after it works', async () => {
      await store.ping();
      expect(await killConnections()).toBe(1);
      const first = await store.ping().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (first !== undefined) expect(first).toBeInstanceOf(StoreUnavailableError);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    /** The pid of the store's only backend (max: 1), found by its unique application_name. */
    async function storeBackendPid(): Promise<number> {
      const { rows } = await admin.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      expect(rows).toHaveLength(1);
      return (rows[0] as { pid: number }).pid;
    }

    async function waitUntilWaitingOnLock(pid: number): Promise<void> {
      for (let i = 0; i < 100; i++) {
        const { rows } = await admin.query<{ wait: string | null }>(
          'SELECT wait_event_type AS wait FROM pg_stat_activity WHERE pid = $1',
          [pid],
        );
        if (rows[0]?.wait === 'Lock') return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('the store never waited on the family lock');
    }

    it('a backend terminated mid-statement (57P01, a PostgreSQL restart) fails that call as unavailable and crashes nothing', async () => {
      const first = await seedSession(store, 's-kill-busy');
      const pid = await storeBackendPid();
      const release = await holdFamilyLock('s-kill-busy');
      // The store's connection is checked out inside a rotation, its statement waiting on the lock.
      const rotation = store.rotateRefreshToken(rotateInput(first, 'killed'));
      rotation.catch(() => undefined);
      await waitUntilWaitingOnLock(pid);
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await expectUnavailable(rotation, 'server_unavailable');
      await release();
      expect((await store.rotateRefreshToken(rotateInput(first, 'after'))).outcome).toBe('rotated');
    });

    it('a backend terminated while its client is checked out between statements crashes nothing (no unhandled pg error event)', async () => {
      await store.createUser(userRecord('u-1'));
      const pid = await storeBackendPid();
      // An uncommitted row with the same id makes createSession's first INSERT wait on it.
      await admin.query('BEGIN');
      await admin.query(
        `INSERT INTO "${schema}".sessions (id, user_id, client_id, scope, auth_time, created_at, last_used_at,
          idle_expires_at, absolute_expires_at) VALUES ('s-kill-idle', 'u-1', 'web', 'openid', $1, $1, $1, $2, $2)`,
        [T0, T0 + 1800],
      );
      const created = store.createSession(sessionRecord('s-kill-idle', 'u-1'), {
        hash: sha256Hex('kill idle'),
        expiresAt: T0 + 1800,
      });
      created.catch(() => undefined);
      await waitUntilWaitingOnLock(pid);
      // Roll back, and 150 ms later (the store's INSERT has been answered and its backend sits
      // idle in the transaction, before the second INSERT) terminate it, while this process's
      // event loop is blocked: the answer and the FATAL 57P01 then arrive in one read, the
      // FATAL on a checked-out client with no statement in flight, which pg reports as an
      // 'error' event on the client: without a listener, an uncaught exception.
      const killer = new pg.Client({ connectionString: DATABASE_URL });
      killer.on('error', () => {});
      await killer.connect();
      try {
        const rollback = admin.query('ROLLBACK');
        const kill = killer.query('SELECT pg_sleep(0.15), pg_terminate_backend($1)', [pid]);
        const until = Date.now() + 600;
        while (Date.now() < until) {
          // Busy-wait: nothing of this process runs, the socket buffers fill.
        }
        await rollback;
        await kill;
      } finally {
        await killer.end();
      }
      await expectUnavailable(created, 'server_unavailable');
      // Nothing of the killed transaction remains, and the store reconnects.
      expect(await store.findSession('s-kill-idle')).toBeUndefined();
      await store.createSession(sessionRecord('s-kill-idle', 'u-1'), {
        hash: sha256Hex('again'),
        expiresAt: T0 + 1800,
      });
      expect((await store.findSession('s-kill-idle'))?.id).toBe('s-kill-idle');
    });

    it('the auth server answers a PostgreSQL outage with 503 ERR_SERVICE_UNAVAILABLE and no pg detail', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-server-'));
      const ephemeral = new SqliteStore({ path: ':memory:' });
      const server = await createAuthServer({
        durable: store,
        ephemeral,
        clock: createManualClock(T0),
        env: {},
        masterKey: randomBytes(32),
        keyTimer: false,
        config: {
          environment: 'test',
          argon2: { memoryCostKiB: 8192, timeCost: 1, parallelism: 1 },
          masterKeyFile: join(dir, 'master.key'),
          databasePath: join(dir, 'unused.sqlite'),
          rateLimit: { enabled: false },
        },
      });
      try {
        const login = () =>
          server.app.inject({
            method: 'POST',
            url: '/auth/login',
            payload: { email: 'alice@example.com', password: 'correct horse battery staple' },
          });
        expect((await login()).statusCode).toBe(401); // the server works on PostgreSQL
        await store.close();
        const res = await login();
        expect(res.statusCode).toBe(503);
        expect(res.headers['retry-after']).toBe('1');
        expect(res.json()).toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE', error: 'temporarily_unavailable' });
        expect(res.body).not.toMatch(/postgres|store is closed|connection/i);
      } finally {
        await server.close();
        await ephemeral.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
