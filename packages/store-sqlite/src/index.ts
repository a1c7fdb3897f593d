/** @tessera/store-sqlite: the embedded default store (better-sqlite3, WAL). */

export { MIGRATIONS } from './migrations.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export { createSqliteStore, SqliteStore } from './sqlite-store.js';
