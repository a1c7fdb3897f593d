/** The shared conformance suite against SQLite: every test gets its own file in its own temp dir. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@tessera/store-sqlite';
import { runDurableStoreConformance, runEphemeralStoreConformance } from '@tessera/store-testing';

async function freshStore(): Promise<{ store: SqliteStore; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-conformance-'));
  const store = new SqliteStore({ path: join(dir, 'tessera.sqlite') });
  return {
    store,
    async cleanup() {
      await store.close(); // idempotent: some tests close the store themselves
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

runDurableStoreConformance('SqliteStore', freshStore);
runEphemeralStoreConformance('SqliteStore', freshStore);
