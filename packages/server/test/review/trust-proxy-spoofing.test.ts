/**
 * Review: security.md says "Behind a proxy set trustProxy so the client IP is the real one".
 * `trustProxy: true` is handed to Fastify as is, which trusts *every* hop and takes the
 * left-most X-Forwarded-For entry: the one the client wrote itself (a proxy such as nginx with
 * `$proxy_add_x_forwarded_for` appends the real address on the right). Every per-IP defence
 * (login/register/refresh buckets, the (account, IP) login delay, the IPs in the audit trail and
 * the sessions list) then keys on an attacker-chosen value.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('review: trustProxy and X-Forwarded-For', () => {
  it('behind one proxy, a client-written X-Forwarded-For entry does not give it a fresh per-IP login bucket', async () => {
    h = await startHarness({
      trustProxy: true,
      rateLimit: {
        enabled: true,
        loginPerIp: { burst: 3, perMinute: 1 },
        loginPerAccount: { burst: 1000, perMinute: 1000 },
      },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await h.server.app.inject({
        method: 'POST',
        url: '/auth/login',
        remoteAddress: '10.0.0.2', // the reverse proxy
        // client-supplied entry first, then the real client address the proxy appended
        headers: { 'x-forwarded-for': `192.0.2.${i}, 198.51.100.9` },
        payload: { email: `u${i}@example.com`, password: 'wrong password here' },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toContain(429);
  });

  it('with trustProxy off (the default), X-Forwarded-For is ignored', async () => {
    h = await startHarness({
      rateLimit: {
        enabled: true,
        loginPerIp: { burst: 3, perMinute: 1 },
        loginPerAccount: { burst: 1000, perMinute: 1000 },
      },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await h.server.app.inject({
        method: 'POST',
        url: '/auth/login',
        headers: { 'x-forwarded-for': `192.0.2.${i}` },
        payload: { email: `u${i}@example.com`, password: 'wrong password here' },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
  });
});
