/**
 * @tessera/store-testing: the conformance suite every storage adapter runs. Call the runners
 * from a vitest test file; each test gets a fresh store from your factory.
 *
 * ```ts
 * import { runDurableStoreConformance, runEphemeralStoreConformance } from '@tessera/store-testing';
 * runDurableStoreConformance('my-store', async () => {
 *   const store = await openMyStore();
 *   return { store, cleanup: async () => { await store.close(); await dropIt(); } };
 * });
 * ```
 */

export type { DurableStoreFactory } from './durable.js';
export { runDurableStoreConformance } from './durable.js';
export type { EphemeralStoreFactory } from './ephemeral.js';
export { runEphemeralStoreConformance } from './ephemeral.js';
export type { RotateChild } from './rotate-child.js';
export { startRotateChild, transpileToCommonJs } from './rotate-child.js';
