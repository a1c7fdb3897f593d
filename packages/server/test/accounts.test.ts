/**
 * Accounts: registration (normalised emails, no enumeration, password policy, closed
 * registration) and login (no enumeration by answer or by time, disabled accounts).
 */

import { performance } from 'node:perf_hooks';
import { resolveConfig } from '@tessera/server';
import { afterEach, describe, expect, it } from 'vitest';
import { expectBearerError, expectError } from './support/expect-error.js';
import {
  claimsOf,
  type Harness,
  logIn,
  PASSWORD,
  refreshWith,
  rowCounts,
  signUp,
  startHarness,
  whoami,
} from './support/harness.js';

function register(h: Harness, email: string, password: string) {
  return h.server.app.inject({ method: 'POST', url: '/auth/register', payload: { email, password } });
}
function login(h: Harness, email: string, password: string) {
  return h.server.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } });
}
function passwordHashOf(h: Harness, email: string): string {
  return (h.store.db.prepare('SELECT password_hash FROM users WHERE email = ?').get(email) as { password_hash: string })
    .password_hash;
}

/** The parts of a response an observer can compare: status, body and header names. */
function observable(res: Awaited<ReturnType<typeof login>>) {
  return { status: res.statusCode, body: res.body, headers: Object.keys(res.headers).sort() };
}

describe('registration', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('normalises the email: case and surrounding whitespace do not make another account', async () => {
    h = await startHarness();
    expect((await register(h, '  Alice@Example.COM \t', PASSWORD)).statusCode).toBe(202);
    expect(h.store.db.prepare('SELECT email FROM users').all()).toEqual([{ email: 'alice@example.com' }]);
    expect((await register(h, 'ALICE@EXAMPLE.COM', 'another good passphrase')).statusCode).toBe(202);
    expect(rowCounts(h).users).toBe(1);
    for (const variant of ['alice@example.com', 'ALICE@example.com', ' alice@EXAMPLE.com ']) {
      expect((await login(h, variant, PASSWORD)).statusCode).toBe(200);
    }
  });

  it('normalises the email to NFC: composed and decomposed accents are one account', async () => {
    h = await startHarness();
    const decomposed = 'rene\u0301@example.com';
    const composed = 'ren\u00e9@example.com';
    expect((await register(h, decomposed, PASSWORD)).statusCode).toBe(202);
    expect((await register(h, composed.toUpperCase(), 'another good passphrase')).statusCode).toBe(202);
    expect(h.store.db.prepare('SELECT email FROM users').all()).toEqual([{ email: composed }]);
    expect((await login(h, composed, PASSWORD)).statusCode).toBe(200);
  });

  it('a duplicate registration answers exactly like a fresh one and leaves the existing password alone', async () => {
    h = await startHarness();
    const fresh = await register(h, 'alice@example.com', PASSWORD);
    const hash = passwordHashOf(h, 'alice@example.com');
    const duplicate = await register(h, 'alice@example.com', 'the attacker’s passphrase');
    const duplicateOtherCase = await register(h, 'Alice@Example.com', 'the attacker’s passphrase');

    expect(fresh.statusCode).toBe(202);
    expect(observable(duplicate)).toEqual(observable(fresh));
    expect(observable(duplicateOtherCase)).toEqual(observable(fresh));
    expect(rowCounts(h).users).toBe(1);
    expect(passwordHashOf(h, 'alice@example.com')).toBe(hash);
    expectError(await login(h, 'alice@example.com', 'the attacker’s passphrase'), 'ERR_INVALID_CREDENTIALS');
    expect((await login(h, 'alice@example.com', PASSWORD)).statusCode).toBe(200);
  });

  it.each([
    ['7 characters', 'alice@example.com', 'abcdefg'],
    ['1,025 characters', 'alice@example.com', 'x'.repeat(1025)],
    ['a common password', 'alice@example.com', 'password123'],
    ['a common password in another case', 'alice@example.com', 'PassWord123'],
    ['the email address', 'alexander.hamilton@example.com', 'alexander.hamilton@example.com'],
    ['the email address upper-cased', 'alexander.hamilton@example.com', 'ALEXANDER.HAMILTON@EXAMPLE.COM'],
    ['the local part of the email', 'alexander.hamilton@example.com', 'Alexander.Hamilton'],
  ])('a password of %s is refused with 400 ERR_PASSWORD_POLICY and no account', async (_name, email, password) => {
    h = await startHarness();
    expectError(await register(h, email, password), 'ERR_PASSWORD_POLICY');
    expect(rowCounts(h).users).toBe(0);
  });

  it('passwords of exactly 8 and 1,024 characters (code points) are accepted', async () => {
    h = await startHarness();
    expect((await register(h, 'a@example.com', 'q7#vLp2!')).statusCode).toBe(202);
    expect((await register(h, 'b@example.com', '😀'.repeat(1024))).statusCode).toBe(202);
    expect((await login(h, 'b@example.com', '😀'.repeat(1024))).statusCode).toBe(200);
    expectError(await register(h, 'c@example.com', '😀'.repeat(1025)), 'ERR_PASSWORD_POLICY');
    expect(rowCounts(h).users).toBe(2);
  });

  it.each(['not-an-email', 'a@b', 'a b@example.com', 'alice@@example.com', '<alice>@example.com'])(
    'an invalid email %j is refused with 400 ERR_VALIDATION',
    async (email) => {
      h = await startHarness();
      expectError(await register(h, email, PASSWORD), 'ERR_VALIDATION');
      expect(rowCounts(h).users).toBe(0);
    },
  );

  it('registrationOpen false refuses with 403 ERR_REGISTRATION_CLOSED and the metadata stops advertising it', async () => {
    h = await startHarness({ registrationOpen: false });
    const res = await register(h, 'alice@example.com', PASSWORD);
    expectError(res, 'ERR_REGISTRATION_CLOSED');
    expect(res.json().error).toBe('access_denied');
    expect(rowCounts(h).users).toBe(0);
    const metadata = await h.server.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    expect(metadata.json().tessera_endpoints).not.toHaveProperty('register_endpoint');
    expect(metadata.json().tessera_endpoints).toHaveProperty('login_endpoint');
  });

  it('NODE_ENV=production closes registration by default; an explicit setting opens it', () => {
    const https = { issuer: 'https://auth.example.com' };
    expect(resolveConfig({ ...https, environment: 'production' }, {}).config.registrationOpen).toBe(false);
    expect(resolveConfig(https, { NODE_ENV: 'production' }).config.registrationOpen).toBe(false);
    expect(
      resolveConfig({ ...https, environment: 'production', registrationOpen: true }, {}).config.registrationOpen,
    ).toBe(true);
    expect(
      resolveConfig(https, { NODE_ENV: 'production', TESSERA_REGISTRATION_OPEN: 'true' }).config.registrationOpen,
    ).toBe(true);
    expect(resolveConfig({}, { NODE_ENV: 'development' }).config.registrationOpen).toBe(true);
    expect(resolveConfig({}, {}).config.registrationOpen).toBe(true);
    // Production also refuses a plain-http issuer.
    expect(() => resolveConfig({ environment: 'production' }, {})).toThrow(/issuer must be https/);
  });
});

describe('login', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('an unknown email and a wrong password get the identical answer', async () => {
    h = await startHarness();
    await signUp(h);
    const unknown = await login(h, 'nobody@example.com', PASSWORD);
    const wrong = await login(h, 'alice@example.com', 'not the passphrase');
    const malformed = await login(h, 'not-an-email', PASSWORD);
    expectError(unknown, 'ERR_INVALID_CREDENTIALS');
    expect(unknown.json().error).toBe('invalid_grant');
    expect(observable(wrong)).toEqual(observable(unknown));
    expect(observable(malformed)).toEqual(observable(unknown));
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(rowCounts(h).sessions).toBe(1);
  });

  it('an unknown email and a wrong password both cost an argon2 verification (median times within 0.5x-2x)', async () => {
    // A costlier hash than the other tests' so that the signal dwarfs scheduling noise.
    h = await startHarness({ argon2: { memoryCostKiB: 16_384, timeCost: 2, parallelism: 1 } });
    await signUp(h);
    const time = async (email: string, password: string) => {
      const start = performance.now();
      const res = await login(h, email, password);
      const ms = performance.now() - start;
      expect(res.statusCode).toBe(email.includes('@') ? 401 : 400);
      return ms;
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    // Warm up both paths, then interleave so drift hits both alike.
    await time('nobody@example.com', 'wrong wrong wrong');
    await time('alice@example.com', 'wrong wrong wrong');
    const unknown: number[] = [];
    const wrong: number[] = [];
    const noHash: number[] = [];
    for (let i = 0; i < 15; i++) {
      unknown.push(await time(`nobody${i}@example.com`, `wrong password ${i}`));
      wrong.push(await time('alice@example.com', `wrong password ${i}`));
      noHash.push(await time('x', `wrong password ${i}`)); // refused by the schema: no argon2
    }
    const ratio = median(unknown) / median(wrong);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
    // Both really hash: each takes clearly longer than a request that never reaches argon2.
    expect(median(unknown)).toBeGreaterThan(2 * median(noHash));
    expect(median(wrong)).toBeGreaterThan(2 * median(noHash));
  });

  it('a disabled account gets 403 ERR_ACCOUNT_DISABLED for the right password only, and its sessions stop', async () => {
    h = await startHarness();
    const before = await signUp(h);
    const user = await h.store.findUserByEmail('alice@example.com');
    await h.store.updateUser(user?.id as string, { status: 'disabled' }, h.clock());
    const sessions = rowCounts(h).sessions;

    const right = await login(h, 'alice@example.com', PASSWORD);
    expectError(right, 'ERR_ACCOUNT_DISABLED');
    expect(right.json().error).toBe('access_denied');
    expect(right.headers['set-cookie']).toBeUndefined();
    expectError(await login(h, 'alice@example.com', 'not the passphrase'), 'ERR_INVALID_CREDENTIALS');
    expect(rowCounts(h).sessions).toBe(sessions);

    // The session from before: its access token is dead and its refresh token mints nothing.
    expectBearerError(await whoami(h, before.accessToken), 'ERR_TOKEN_REVOKED');
    const tokensBefore = rowCounts(h).refreshTokens;
    expectError(await refreshWith(h, before.refreshToken), 'ERR_REFRESH_REVOKED');
    expect(rowCounts(h).refreshTokens).toBe(tokensBefore);

    // Enabled again, the account logs in.
    await h.store.updateUser(user?.id as string, { status: 'active' }, h.clock());
    const again = await logIn(h);
    expect((await whoami(h, again.accessToken)).statusCode).toBe(200);
    expect(claimsOf(again.accessToken).sub).toBe(user?.id);
  });

  it('every failed login is audited without the password', async () => {
    h = await startHarness();
    await signUp(h);
    await login(h, 'alice@example.com', 'not the passphrase');
    await login(h, 'nobody@example.com', 'another wrong one');
    const failed = (await h.store.listAudit({ limit: 50 })).filter((e) => e.type === 'login.failed');
    expect(failed.map((e) => e.data.reason).sort()).toEqual(['unknown_email', 'wrong_password']);
    const text = JSON.stringify(await h.store.listAudit({ limit: 50 }));
    for (const secret of [PASSWORD, 'not the passphrase', 'another wrong one']) expect(text).not.toContain(secret);
  });
});

describe('email addresses with control or format characters', () => {
  it('fail the email check that registration and login run first', async () => {
    const { isValidEmail } = await import('@tessera/server');
    for (const email of [
      'a\u0000b@example.com',
      'ad\u202Emin@example.com',
      'a\u200Bb@example.com',
      'a@exa\u0007mple.com',
    ]) {
      expect(isValidEmail(email)).toBe(false);
    }
    expect(isValidEmail('plain.user+tag@example.co.uk')).toBe(true);
  });
});
