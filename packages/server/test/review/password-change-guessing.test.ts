/**
 * Review: POST /auth/password checks `current_password` with no rate limit, no progressive
 * delay and no audit of failures. Whoever holds an access token (10 min; e.g. read by XSS,
 * since access tokens live in JS) gets an unthrottled, unlogged password-guessing oracle,
 * and on a hit can change the password, which ends every other session of the victim.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, signUp, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const change = (token: string, current: string) =>
  h.server.app.inject({
    method: 'POST',
    url: '/auth/password',
    headers: { authorization: `Bearer ${token}` },
    payload: { current_password: current, new_password: 'a brand new passphrase 123' },
  });

describe('review: /auth/password is not a free password oracle', () => {
  it('wrong current passwords are throttled like logins (429 after the free attempts)', async () => {
    h = await startHarness({
      rateLimit: {
        enabled: true,
        loginPerIp: { burst: 20, perMinute: 10 },
        loginPerAccount: { burst: 10, perMinute: 5 },
      },
      lockout: { freeAttempts: 5, baseDelaySec: 1, maxDelaySec: 900, accountFreeAttempts: 20, accountMaxDelaySec: 30 },
    });
    const { accessToken } = await signUp(h);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await change(accessToken, `guess number ${i}`)).statusCode);
    expect(statuses).toContain(429);
  });

  it('a wrong current password is audited', async () => {
    h = await startHarness();
    const { accessToken } = await signUp(h);
    expect((await change(accessToken, 'not the password')).statusCode).toBe(401);
    const types = (await h.store.listAudit({ limit: 50 })).map((e) => e.type);
    expect(types.filter((t) => t === 'login.failed' || t.startsWith('user.password')).length).toBeGreaterThan(0);
  });
});
