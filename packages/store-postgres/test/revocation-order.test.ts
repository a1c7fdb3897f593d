/**
 * Revocation ids are in commit order: a guard that resumes from Last-Event-ID (the highest id
 * it has seen) never misses an event whose id was handed out before another event committed.
 */

import type { RevocationEvent } from '@tessera/server/contracts';
import { PostgresStore } from '@tessera/store-postgres';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { T0 } from './support/seed.js';
import { DATABASE_URL, openTestStore, probeDatabase, requireDatabase } from './support/test-database.js';

const event = (value: string): Omit<RevocationEvent, 'id'> => ({ kind: 'sid', value, at: T0, expiresAt: T0 + 3600 });

/** Pages like a guard: always from the highest id seen so far, until `done()` and one last page. */
async function pageUntil(store: PostgresStore, done: () => boolean): Promise<RevocationEvent[]> {
  const seen: RevocationEvent[] = [];
  let afterId = 0;
  for (;;) {
    const finished = done();
    for (;;) {
      const page = await store.listRevocations(afterId, 50, T0);
      seen.push(...page);
      const last = page.at(-1);
      if (last === undefined) break;
      afterId = last.id;
    }
    if (finished) return seen;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

if (requireDatabase(await probeDatabase())) {
  describe('appendRevocation ordering', () => {
    let store: PostgresStore;
    let schema: string;
    let cleanup: () => Promise<void>;
    const extra: PostgresStore[] = [];

    beforeEach(async () => {
      ({ store, schema, cleanup } = await openTestStore());
    });
    afterEach(async () => {
      await Promise.all(extra.splice(0).map((s) => s.close()));
      await cleanup();
    });

    it('an append that commits late still gets the lower id only if it commits first: the reader misses nothing', async () => {
      // A trigger makes the append of 'slow' sit 400 ms between taking its id and committing.
      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      try {
        await admin.query(`CREATE FUNCTION "${schema}".slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.value = 'slow' THEN PERFORM pg_sleep(0.4); END IF; RETURN NEW; END $$`);
        await admin.query(`CREATE TRIGGER slow_commit AFTER INSERT ON "${schema}".revocations
          FOR EACH ROW EXECUTE FUNCTION "${schema}".slow_commit()`);
      } finally {
        await admin.end();
      }
      const other = new PostgresStore({ connectionString: DATABASE_URL, schema, max: 2 });
      extra.push(other);
      await other.ping();

      const settled: string[] = [];
      const slow = store.appendRevocation(event('slow')).then((e) => {
        settled.push('slow');
        return e;
      });
      await new Promise((resolve) => setTimeout(resolve, 100)); // 'slow' now holds its id, uncommitted
      const fast = other.appendRevocation(event('fast')).then((e) => {
        settled.push('fast');
        return e;
      });
      let writing = true;
      const reader = pageUntil(store, () => !writing);
      const [slowEvent, fastEvent] = await Promise.all([slow, fast]);
      writing = false;

      // 'fast' had to wait for 'slow' to commit, so its id is higher; with a plain sequence it
      // would commit first with id 2 and a reader at afterId 2 would never see id 1.
      expect(settled).toEqual(['slow', 'fast']);
      expect(fastEvent.id).toBeGreaterThan(slowEvent.id);
      expect((await reader).map((e) => e.value)).toEqual(['slow', 'fast']);
    });

    it('concurrent appends from several pools while a reader pages: the reader sees every id, in order, once', async () => {
      const writers = [store];
      for (let i = 0; i < 3; i++) {
        const w = new PostgresStore({ connectionString: DATABASE_URL, schema, max: 4 });
        extra.push(w);
        writers.push(w);
      }
      const reading = new PostgresStore({ connectionString: DATABASE_URL, schema, max: 1 });
      extra.push(reading);

      let writing = true;
      const reader = pageUntil(reading, () => !writing);
      const appended = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (writers[i % writers.length] as PostgresStore).appendRevocation(event(`e-${i}`)),
        ),
      );
      writing = false;
      const seen = await reader;

      const appendedIds = appended.map((e) => e.id).sort((a, b) => a - b);
      expect(appendedIds).toEqual(Array.from({ length: 200 }, (_, i) => i + 1)); // no gaps either
      expect(seen.map((e) => e.id)).toEqual(appendedIds);
    });
  });
}
