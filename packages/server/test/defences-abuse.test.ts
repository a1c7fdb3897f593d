/**
 * Rate limits and progressive login delays with a controllable clock, and no account
 * enumeration through login, lockout or registration.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, PASSWORD, signUp, startHarness } from './support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const login = (email: string, password: string, ip = '203.0.113.7') =>
  h.server.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password }, remoteAddress: ip });

describe('rate limits (token buckets in the ephemeral store)', () => {
  it('login per IP: the burst passes, the next is 429 ERR_RATE_LIMITED with Retry-After, and refill lets one more through', async () => {
    h = await startHarness({
      rateLimit: {
        enabled: true,
        loginPerIp: { burst: 3, perMinute: 6 },
        loginPerAccount: { burst: 100, perMinute: 100 },
      },
    });
    for (let i = 0; i < 3; i++) expect((await login(`u${i}@example.com`, 'wrong password here')).statusCode).toBe(401);
    const limited = await login('u9@example.com', 'wrong password here');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: 'slow_down', code: 'ERR_RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBe(10);
    // Another IP is not affected.
    expect((await login('u9@example.com', 'wrong password here', '198.51.100.2')).statusCode).toBe(401);
    h.clock.advance(10);
    expect((await login('u9@example.com', 'wrong password here')).statusCode).toBe(401);
    expect((await login('u9@example.com', 'wrong password here')).statusCode).toBe(429);
    const hits = (await h.store.listAudit({ limit: 100 })).filter((e) => e.type === 'rate_limit.hit');
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(hits[0]?.data).toEqual({ limit: 'login_ip' });
  });

  it('login per account limits IPs that keep failing, for unknown and known addresses alike, never a clean IP', async () => {
    h = await startHarness({
      rateLimit: {
        enabled: true,
        loginPerIp: { burst: 100, perMinute: 100 },
        loginPerAccount: { burst: 2, perMinute: 1 },
      },
    });
    await signUp(h);
    const answers: number[] = [];
    for (const email of ['alice@example.com', 'nobody@example.com']) {
      // The first failure from an IP is free; later ones spend the account-wide budget.
      for (let i = 0; i < 4; i++) answers.push((await login(email, 'wrong password here', '192.0.2.1')).statusCode);
    }
    expect(answers).toEqual([401, 401, 401, 429, 401, 401, 401, 429]);
    // The owner, from an IP without failures for her address, is not limited by them.
    expect((await login('alice@example.com', PASSWORD, '198.51.100.7')).statusCode).toBe(200);
  });

  it('register per IP and refresh per IP are limited too', async () => {
    h = await startHarness({
      rateLimit: { enabled: true, registerPerIp: { burst: 1, perMinute: 1 }, refreshPerIp: { burst: 2, perMinute: 1 } },
    });
    const reg = (email: string) =>
      h.server.app.inject({ method: 'POST', url: '/auth/register', payload: { email, password: PASSWORD } });
    expect((await reg('a@example.com')).statusCode).toBe(202);
    expect((await reg('b@example.com')).statusCode).toBe(429);
    const refresh = () =>
      h.server.app.inject({ method: 'POST', url: '/auth/refresh', headers: { cookie: '__Secure-tessera_rt=trt_x' } });
    expect((await refresh()).statusCode).toBe(401);
    expect((await refresh()).statusCode).toBe(401);
    expect((await refresh()).statusCode).toBe(429);
    const token = await h.server.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=refresh_token&refresh_token=trt_x',
    });
    expect(token.statusCode).toBe(429);
    expect(token.headers['retry-after']).toBe('60');
  });

  it('limits can be turned off, and bad limit settings stop the server naming the field', async () => {
    h = await startHarness({ rateLimit: { enabled: false } });
    for (let i = 0; i < 30; i++) expect((await login(`x${i}@example.com`, 'wrong password here')).statusCode).toBe(401);
    const { resolveConfig } = await import('@tessera/server');
    expect(() => resolveConfig({ rateLimit: { loginPerIp: { burst: 0, perMinute: 1 } } }, {})).toThrow(
      /rateLimit\.loginPerIp\.burst/,
    );
    expect(() => resolveConfig({}, { TESSERA_RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: 'lots' })).toThrow(
      /rateLimit\.loginPerIp\.perMinute/,
    );
  });
});

describe('progressive login delays', () => {
  const lockout = {
    freeAttempts: 3,
    baseDelaySec: 2,
    maxDelaySec: 60,
    accountFreeAttempts: 100,
    accountMaxDelaySec: 30,
    windowSec: 3600,
  };

  it('after the free attempts each failure doubles the wait, capped; a wait is 429 with Retry-After; success resets', async () => {
    h = await startHarness({ lockout });
    await signUp(h);
    for (let i = 0; i < 3; i++) expect((await login('alice@example.com', 'wrong password here')).statusCode).toBe(401);
    // Third failure reached the threshold: 2 s wait.
    let res = await login('alice@example.com', PASSWORD);
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('2');
    h.clock.advance(2);
    expect((await login('alice@example.com', 'wrong password here')).statusCode).toBe(401);
    res = await login('alice@example.com', 'wrong password here');
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('4');
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await login('alice@example.com', 'wrong password here');
      const wait = Number(r.headers['retry-after']);
      waits.push(wait);
      h.clock.advance(wait);
      expect((await login('alice@example.com', 'wrong password here')).statusCode).toBe(401);
    }
    expect(waits).toEqual([4, 8, 16, 32, 60, 60]);
    h.clock.advance(60);
    expect((await login('alice@example.com', PASSWORD)).statusCode).toBe(200);
    // The success cleared the counter: failures start from zero again.
    expect((await login('alice@example.com', 'wrong password here')).statusCode).toBe(401);
    expect((await login('alice@example.com', PASSWORD)).statusCode).toBe(200);
  });

  it('an attacker failing from other IPs cannot lock the victim out: the victim waits at most accountMaxDelaySec', async () => {
    h = await startHarness({ lockout: { ...lockout, accountFreeAttempts: 5, accountMaxDelaySec: 5 } });
    await signUp(h);
    for (let i = 0; i < 40; i++) {
      const r = await login('alice@example.com', 'wrong password here', `198.51.100.${i}`);
      if (r.statusCode === 429) h.clock.advance(Number(r.headers['retry-after']));
    }
    // The victim, from her own IP, is delayed by the account-wide counter for at most 5 s.
    let res = await login('alice@example.com', PASSWORD, '192.0.2.99');
    if (res.statusCode === 429) {
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(5);
      h.clock.advance(Number(res.headers['retry-after']));
      res = await login('alice@example.com', PASSWORD, '192.0.2.99');
    }
    expect(res.statusCode).toBe(200);
  });

  it('delays apply to unknown addresses exactly as to known ones', async () => {
    h = await startHarness({ lockout });
    await signUp(h);
    const trace = async (email: string) => {
      const out: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await login(email, 'wrong password here');
        out.push(`${r.statusCode}:${r.headers['retry-after'] ?? '-'}:${r.body}`);
      }
      return out;
    };
    expect(await trace('alice@example.com')).toEqual(await trace('nobody@example.com'));
  });
});

describe('no account enumeration', () => {
  it('unknown email and wrong password answer byte-identical bodies with identical headers apart from date', async () => {
    h = await startHarness();
    await signUp(h);
    const a = await login('alice@example.com', 'wrong password here');
    const b = await login('nobody@example.com', 'wrong password here');
    expect(a.statusCode).toBe(401);
    expect(a.rawPayload.equals(b.rawPayload)).toBe(true);
    const strip = (headers: Record<string, unknown>) => {
      const { date: _date, ...rest } = headers;
      return rest;
    };
    expect(strip(a.headers)).toEqual(strip(b.headers));
  });

  it('registering a taken address answers byte-identically to a fresh one', async () => {
    h = await startHarness();
    await signUp(h);
    const reg = (email: string) =>
      h.server.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { email, password: 'another long passphrase' },
      });
    const taken = await reg('alice@example.com');
    const fresh = await reg('bob@example.com');
    expect(taken.statusCode).toBe(fresh.statusCode);
    expect(taken.rawPayload.equals(fresh.rawPayload)).toBe(true);
  });
});
