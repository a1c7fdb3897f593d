/** Versioned migrations: idempotent, and safe when several instances start at once. */

import { MIGRATIONS, PostgresStore } from '@tessera/store-postgres';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { userRecord } from './support/seed.js';
import { DATABASE_URL, dropSchema, probeDatabase, randomSchemaName, requireDatabase } from './support/test-database.js';

async function appliedVersions(schema: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
    );
    return rows.map((r) => r.version);
  } finally {
    await client.end();
  }
}

if (requireDatabase(await probeDatabase())) {
  describe('migrate', () => {
    const schemas: string[] = [];
    const stores: PostgresStore[] = [];
    const open = (schema: string) => {
      const store = new PostgresStore({ connectionString: DATABASE_URL, schema, max: 2 });
      stores.push(store);
      return store;
    };

    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      for (const schema of schemas.splice(0)) await dropSchema(schema);
    });

    it('creates its schema, records every version once, and a second run changes nothing', async () => {
      const schema = randomSchemaName();
      schemas.push(schema);
      const store = open(schema);
      await store.migrate();
      const versions = MIGRATIONS.map((m) => m.version);
      expect(await appliedVersions(schema)).toEqual(versions);
      await store.createUser(userRecord('u-kept'));
      await store.migrate();
      expect(await appliedVersions(schema)).toEqual(versions);
      expect((await store.findUserById('u-kept'))?.id).toBe('u-kept');
      // The revocation counter was seeded once, not once per run.
      expect((await store.appendRevocation({ kind: 'jti', value: 'j', at: 1, expiresAt: 2 ** 40 })).id).toBe(1);
    });

    it('six instances migrating a fresh schema at once all succeed and apply each version once', async () => {
      const schema = randomSchemaName();
      schemas.push(schema);
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => open(schema).migrate()));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(await appliedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version));
      const store = open(schema);
      expect(await store.createUser(userRecord('u-1'))).toBe('created');
    });

    it('stores in different schemas of one database are independent', async () => {
      const [a, b] = [randomSchemaName(), randomSchemaName()];
      schemas.push(a, b);
      const [storeA, storeB] = [open(a), open(b)];
      await Promise.all([storeA.migrate(), storeB.migrate()]);
      await storeA.createUser(userRecord('u-a'));
      expect(await storeB.findUserById('u-a')).toBeUndefined();
      expect(await storeB.createUser(userRecord('u-a'))).toBe('created');
    });
  });
}

describe('PostgresStore options', () => {
  it('rejects a schema name that is not a plain identifier, at construction', () => {
    for (const schema of ['', 'a"b', 'public; DROP TABLE x', '1abc', 'x'.repeat(64), 'with space']) {
      expect(() => new PostgresStore({ connectionString: DATABASE_URL, schema })).toThrow(TypeError);
    }
  });

  it('rejects missing connection settings and invalid limits, at construction', () => {
    expect(() => new PostgresStore({})).toThrow(TypeError);
    expect(() => new PostgresStore({ connectionString: '' })).toThrow(TypeError);
    expect(() => new PostgresStore({ connectionString: DATABASE_URL, max: 0 })).toThrow(TypeError);
    expect(() => new PostgresStore({ connectionString: DATABASE_URL, statementTimeoutMs: -1 })).toThrow(TypeError);
    expect(() => new PostgresStore({ connectionString: DATABASE_URL, connectionTimeoutMs: 1.5 })).toThrow(TypeError);
  });
});
