/** The shared DurableStore conformance suite against a real PostgreSQL, one fresh schema per test. */

import { runDurableStoreConformance } from '@tessera/store-testing';
import { openTestStore, probeDatabase, requireDatabase } from './support/test-database.js';

if (requireDatabase(await probeDatabase())) {
  runDurableStoreConformance('PostgresStore', openTestStore);
}
