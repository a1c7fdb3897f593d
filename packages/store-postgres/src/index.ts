/** @tessera/store-postgres: the PostgreSQL DurableStore for scale-out mode (node-postgres pool). */

export type { PostgresMigration } from './migrations.js';
export { MIGRATIONS } from './migrations.js';
export type { PostgresStoreOptions } from './postgres-store.js';
export { PostgresStore } from './postgres-store.js';
export type { StoreUnavailableReason } from './store-unavailable.js';
export { classifyPgError, StoreUnavailableError } from './store-unavailable.js';
