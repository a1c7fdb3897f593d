/** Rotation races between real processes, each with its own pool: exactly one winner. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PostgresStore } from '@tessera/store-postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRotateChild, type RotateChild, startPostgresRotateChild } from './support/child-processes.js';
import { rotateInput, seedSession } from './support/seed.js';
import { DATABASE_URL, openTestStore, probeDatabase, requireDatabase } from './support/test-database.js';

const PROCESSES = 5;

if (requireDatabase(await probeDatabase())) {
  describe('rotateRefreshToken across processes', () => {
    let dir: string;
    let script: string;
    let store: PostgresStore;
    let schema: string;
    let cleanup: () => Promise<void>;
    let children: RotateChild[] = [];

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'tessera-pg-children-'));
      script = buildRotateChild(dir);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    beforeEach(async () => {
      ({ store, schema, cleanup } = await openTestStore());
    });
    afterEach(async () => {
      for (const child of children) child.process.kill();
      children = [];
      await cleanup();
    });

    /** Starts every child, waits until all hold a live connection, then releases them together. */
    async function race(presentedHash: string, graceSec: number) {
      children = Array.from({ length: PROCESSES }, (_, i) =>
        startPostgresRotateChild(script, DATABASE_URL, schema, rotateInput(presentedHash, `child-${i}`, { graceSec })),
      );
      await Promise.all(children.map((c) => c.ready));
      for (const child of children) child.process.stdin.write('go\n');
      return Promise.all(children.map((c) => c.result));
    }

    it(`${PROCESSES} processes rotating one token at once: one rotated, the rest grace with the winner's response`, async () => {
      const first = await seedSession(store, 's-race');
      const results = await race(first, 10);

      const outcomes = results.map((r) => r.outcome).sort();
      expect(outcomes).toEqual(['grace', 'grace', 'grace', 'grace', 'rotated']);
      const winner = results.findIndex((r) => r.outcome === 'rotated');
      for (const r of results) if (r.outcome === 'grace') expect(r.graceResponse).toBe(`sealed-grant-child-${winner}`);
      // Only the winner's successor exists, and it is the family's current token.
      for (let i = 0; i < PROCESSES; i++) {
        const successor = await store.findRefreshToken(rotateInput(first, `child-${i}`).next.hash);
        if (i === winner) expect(successor?.rotatedAt).toBeNull();
        else expect(successor).toBeUndefined();
      }
      expect((await store.findSession('s-race'))?.revokedAt).toBeNull();
    });

    it('with graceSec 0: one rotated, one reuse that revokes the family, the rest see it revoked', async () => {
      const first = await seedSession(store, 's-race0');
      const results = await race(first, 0);

      const outcomes = results.map((r) => r.outcome).sort();
      expect(outcomes).toEqual(['reused', 'revoked', 'revoked', 'revoked', 'rotated']);
      const reused = results.find((r) => r.outcome === 'reused');
      expect(reused?.outcome === 'reused' && reused.revokedNow).toBe(true);
      const session = await store.findSession('s-race0');
      expect([session?.revokedAt, session?.revokedReason]).toEqual([rotateInput(first, 'x').now, 'refresh_reuse']);
    });
  });
}
