/** `createAuthClient`: validates the options, then builds the memory-mode or worker-mode client. */

import { createMemoryClient } from './memory-client.js';
import { resolveOptions } from './options.js';
import type { AuthClient, AuthClientOptions } from './types.js';
import { createWorkerClient } from './worker-client.js';

export function createAuthClient(options: AuthClientOptions): AuthClient {
  const resolved = resolveOptions(options);
  return resolved.mode === 'worker' ? createWorkerClient(resolved) : createMemoryClient(resolved);
}
