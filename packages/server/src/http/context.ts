/** What every route needs, built once by createAuthServer. */

import type { AccessTokenVerifier } from '@tessera/core';
import type { AuthServerConfig } from '../config.js';
import type { DurableStore, EphemeralStore } from '../contracts.js';
import type { AuditTrail } from '../services/audit.js';
import type { AuthService } from '../services/auth-service.js';
import type { Metrics } from '../services/metrics.js';
import type { RevocationService } from '../services/revocation.js';
import type { SigningKeyManager } from '../services/signing-keys.js';

export interface RouteContext {
  readonly config: AuthServerConfig;
  readonly durable: DurableStore;
  readonly ephemeral: EphemeralStore;
  readonly auth: AuthService;
  readonly keys: SigningKeyManager;
  readonly revocation: RevocationService;
  readonly audit: AuditTrail;
  readonly metrics: Metrics;
  readonly verifier: AccessTokenVerifier;
  readonly clock: () => number;
}
