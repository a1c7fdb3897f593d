/** Audit rows are batched into multi-row INSERTs; every caller still resolves only once its row is committed. */

import { PostgresStore } from '@tessera/store-postgres';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, probeDatabase, randomSchemaName, requireDatabase } from './support/test-database.js';

function auditEvent(i: number) {
  return {
    at: 1_800_000_000 + i,
    type: 'refresh.rotated',
    userId: `usr_${i % 7}`,
    sessionId: `ses_${i}`,
    ip: '203.0.113.9',
    userAgent: 'test',
    data: { n: i },
  };
}

if (requireDatabase(await probeDatabase())) {
  describe('audit batching', () => {
    const schemas: string[] = [];
    const stores: PostgresStore[] = [];
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      for (const schema of schemas.splice(0)) await dropSchema(schema);
    });

    async function open(): Promise<{ store: PostgresStore; schema: string }> {
      const schema = randomSchemaName();
      schemas.push(schema);
      const store = new PostgresStore({ connectionString: DATABASE_URL, schema, max: 4 });
      stores.push(store);
      await store.migrate();
      return { store, schema };
    }

    it('1,200 concurrent appends: every row once, ids in call order, in far fewer INSERTs than rows', async () => {
      const { store, schema } = await open();
      await Promise.all(Array.from({ length: 1200 }, (_, i) => store.appendAudit(auditEvent(i))));
      const counter = new pg.Client({ connectionString: DATABASE_URL });
      await counter.connect();
      try {
        const { rows } = await counter.query<{ session_id: string; data: { n: number } }>(
          `SELECT session_id, data FROM "${schema}".audit_events ORDER BY id`,
        );
        expect(rows.map((r) => r.data.n)).toEqual(Array.from({ length: 1200 }, (_, i) => i));
        expect(new Set(rows.map((r) => r.session_id)).size).toBe(1200);
        // Rows written by one INSERT share its transaction id (xmin): fewer ids, fewer commits.
        const { rows: txs } = await counter.query<{ n: string }>(
          `SELECT count(DISTINCT xmin::text) AS n FROM "${schema}".audit_events`,
        );
        const commits = Number(txs[0]?.n);
        expect(commits).toBeGreaterThan(0);
        expect(commits).toBeLessThan(1200 / 2);
        const listed = await store.listAudit({ sessionId: 'ses_42', limit: 10 });
        expect(listed).toHaveLength(1);
        expect(listed[0]?.data).toEqual({ n: 42 });
      } finally {
        await counter.end();
      }
    });

    it('an append after close rejects with the unavailable error, and queued appends are not lost silently', async () => {
      const { store } = await open();
      const pending = Array.from({ length: 20 }, (_, i) => store.appendAudit(auditEvent(i)));
      const closed = store.close();
      const settled = await Promise.allSettled(pending);
      await closed;
      // Each caller learns its row's fate: committed, or rejected with the typed error.
      for (const r of settled) {
        if (r.status === 'rejected') expect((r.reason as { code?: string }).code).toBe('ERR_SERVICE_UNAVAILABLE');
      }
      await expect(store.appendAudit(auditEvent(99))).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE' });
    });
  });
}
