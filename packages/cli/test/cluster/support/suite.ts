/**
 * Declares a cluster suite: skipped loudly when PostgreSQL or Redis is missing, a failing test
 * instead under TESSERA_REQUIRE_SERVICES=1.
 */

import { describe, it } from 'vitest';
import { REQUIRED, servicesMissing } from './services.js';

const missing = await servicesMissing();

export function describeCluster(name: string, body: () => void): void {
  if (missing === undefined) {
    describe(name, body);
  } else if (REQUIRED) {
    describe(name, () => {
      it('PostgreSQL and Redis are reachable (TESSERA_REQUIRE_SERVICES=1)', () => {
        throw new Error(`${missing}; TESSERA_REQUIRE_SERVICES=1 requires them`);
      });
    });
  } else {
    describe.skip(name, body);
  }
}
