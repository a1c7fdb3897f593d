/**
 * Named prepared statements (PostgresStore #query): names that always mean one statement text,
 * recovery when a table changes under a prepared plan (0A000) and when the connection does not
 * hold what node-postgres believes it prepared (26000, as behind a pooler), and the opt-out.
 */

import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_URL, openTestStore, probeDatabase, requireDatabase } from './support/test-database.js';

/** A pg.Client that remembers every instance the store's pool creates. */
function spyClients(): { Client: typeof pg.Client; clients: pg.Client[] } {
  const clients: pg.Client[] = [];
  class SpyClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      clients.push(this);
    }
  }
  return { Client: SpyClient, clients };
}

/** The prepared statements a pooled client's own session holds (it must be idle). */
async function preparedOn(client: pg.Client): Promise<{ name: string; statement: string }[]> {
  return (await client.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements'))
    .rows;
}

if (requireDatabase(await probeDatabase())) {
  describe('prepared statements', () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });
    async function open(options: Parameters<typeof openTestStore>[0] = {}) {
      const spy = spyClients();
      const made = await openTestStore({ max: 1, pool: { Client: spy.Client } as pg.PoolConfig, ...options });
      cleanups.push(made.cleanup);
      return { ...made, clients: spy.clients };
    }

    it('a statement is prepared once per connection under a name derived from its text, which names the schema', async () => {
      const a = await open();
      const b = await open();
      await a.store.findSession('s-none');
      await a.store.findSession('s-none');
      await b.store.findSession('s-none');
      const onA = (await preparedOn(a.clients.at(-1) as pg.Client)).filter((p) => p.statement.includes('sessions'));
      const onB = (await preparedOn(b.clients.at(-1) as pg.Client)).filter((p) => p.statement.includes('sessions'));
      expect(onA).toHaveLength(1);
      expect(onB).toHaveLength(1);
      expect(onA[0]?.statement).toContain(`"${a.schema}"`);
      expect(onB[0]?.statement).toContain(`"${b.schema}"`);
      // Two schemas (two deployments sharing a pooler): never the same name for different texts.
      expect(onA[0]?.name).not.toBe(onB[0]?.name);
    });

    it('a table changed under a prepared plan (0A000): calls retry under new names and succeed', async () => {
      const { store, schema } = await open({ max: 3 });
      await Promise.all(Array.from({ length: 6 }, () => store.findSession('s-none')));
      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      try {
        await admin.query(`ALTER TABLE "${schema}".sessions ADD COLUMN added_later INT`);
      } finally {
        await admin.end();
      }
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => store.findSession('s-none')));
      expect(results.map((r) => r.status)).toEqual(Array(6).fill('fulfilled'));
    });

    it('a connection that lost its prepared statements (26000, as behind a pooler) still answers', async () => {
      const { store, clients } = await open();
      await store.findSession('s-none');
      const client = clients.at(-1) as pg.Client;
      // node-postgres still believes the statements are prepared on this connection.
      await client.query('DEALLOCATE ALL');
      expect(await store.findSession('s-none')).toBeUndefined();
      expect(await store.findSession('s-none')).toBeUndefined();
    });

    it('preparedStatements: false prepares nothing and the store works', async () => {
      const { store, clients } = await open({ preparedStatements: false });
      await store.findSession('s-none');
      await store.listUsers(10, 0);
      expect(await preparedOn(clients.at(-1) as pg.Client)).toEqual([]);
    });
  });
}
