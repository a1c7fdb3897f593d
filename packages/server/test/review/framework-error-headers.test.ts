/**
 * Review: security.md "Headers on every response". Errors Fastify raises before routing
 * (malformed percent-encoding, an over-long path parameter) go through `frameworkErrors`,
 * which answers before the onSend hooks run: no nosniff, no CSP, no X-Frame-Options, no
 * Cache-Control: no-store, no CORS/Vary, even under /auth/.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('review: security headers on pre-routing errors', () => {
  for (const url of ['/auth/sessions/%', `/auth/sessions/${'a'.repeat(200)}`]) {
    it(`DELETE ${url.slice(0, 24)}... still carries the documented security headers`, async () => {
      h = await startHarness();
      const res = await h.server.app.inject({ method: 'DELETE', url });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect({
        nosniff: res.headers['x-content-type-options'],
        frame: res.headers['x-frame-options'],
        csp: res.headers['content-security-policy'] !== undefined,
        cache: res.headers['cache-control'],
      }).toEqual({ nosniff: 'nosniff', frame: 'DENY', csp: true, cache: 'no-store' });
    });
  }
});
