/**
 * The worker-mode script (`@tessera/client/worker`, built to dist/worker.js): start it as a
 * module worker. It refuses to run anywhere but a dedicated worker, because in a page its
 * message listener would answer any frame that posts to the window.
 */

import { serveAuthWorker, type WorkerHostEndpoint } from './worker-host.js';

const scope = globalThis as unknown as { DedicatedWorkerGlobalScope?: abstract new () => unknown };

if (typeof scope.DedicatedWorkerGlobalScope !== 'function' || !(globalThis instanceof scope.DedicatedWorkerGlobalScope))
  throw new Error('@tessera/client/worker must be started as a dedicated Worker, not imported by a page');

serveAuthWorker(globalThis as unknown as WorkerHostEndpoint);
