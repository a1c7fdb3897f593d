/**
 * Review: docs/security.md promises that an attacker "can slow a victim down but never lock
 * them out". The per-account token bucket (rateLimit.loginPerAccount, keyed by the email only)
 * and the per-account delay are both consumed by the attacker's wrong guesses, so an attacker
 * who keeps the bucket empty (5 requests a minute, under the per-IP limit) keeps the victim out
 * indefinitely, even with the right password, from her own IP.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, PASSWORD, signUp, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const login = (email: string, password: string, ip: string) =>
  h.server.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password }, remoteAddress: ip });

describe('review: an attacker cannot lock a victim out', () => {
  it('with the default limits, a sustained 5 guesses/min from one attacker IP does not keep the victim (right password, own IP) out', async () => {
    h = await startHarness({
      // The documented defaults (the harness turns them off).
      rateLimit: {
        enabled: true,
        loginPerIp: { burst: 20, perMinute: 10 },
        loginPerAccount: { burst: 10, perMinute: 5 },
        registerPerIp: { burst: 10, perMinute: 2 },
        refreshPerIp: { burst: 120, perMinute: 60 },
      },
      lockout: { freeAttempts: 5, baseDelaySec: 1, maxDelaySec: 900, accountFreeAttempts: 20, accountMaxDelaySec: 30 },
    });
    await signUp(h);
    h.clock.advance(3600);
    // The attacker drains the account bucket first, then takes each token as it refills
    // (one request every 12 s = 5/min, half the per-IP limit).
    for (let i = 0; i < 10; i++) await login('alice@example.com', 'wrong password here', '203.0.113.66');
    const victimAnswers: number[] = [];
    for (let step = 0; step < 50; step++) {
      h.clock.advance(6);
      // The victim tries between two attacker requests, from her own IP, with her password.
      victimAnswers.push((await login('alice@example.com', PASSWORD, '198.51.100.7')).statusCode);
      h.clock.advance(6);
      await login('alice@example.com', 'wrong password here', '203.0.113.66');
    }
    // The victim should get in at least once in ten minutes; today every attempt is 429.
    expect(victimAnswers).toContain(200);
  });
});
