/**
 * A user's sessions: listing, ending one, ending all (logout everywhere with the per-user
 * cutoff), and the password change that ends every other session.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectBearerError, expectError } from './support/expect-error.js';
import {
  claimsOf,
  clearsRefreshCookie,
  cookieValue,
  dbFingerprint,
  type Harness,
  logIn,
  PASSWORD,
  refreshWith,
  START,
  signUp,
  startHarness,
  whoami,
  withBearer,
} from './support/harness.js';

interface Device {
  accessToken: string;
  refreshToken: string;
  sid: string;
}

async function loginFrom(h: Harness, userAgent: string, ip: string, email = 'alice@example.com', password = PASSWORD) {
  const res = await h.server.app.inject({
    method: 'POST',
    url: '/auth/login',
    remoteAddress: ip,
    headers: { 'user-agent': userAgent },
    payload: { email, password },
  });
  expect(res.statusCode).toBe(200);
  const accessToken = res.json().access_token as string;
  return { accessToken, refreshToken: cookieValue(String(res.headers['set-cookie'])), sid: claimsOf(accessToken).sid };
}

function changePassword(h: Harness, accessToken: string, current: string, next: string) {
  return h.server.app.inject({
    method: 'POST',
    url: '/auth/password',
    headers: { authorization: `Bearer ${accessToken}` },
    payload: { current_password: current, new_password: next },
  });
}

describe('sessions', () => {
  let h: Harness;
  let laptop: Device;
  let phone: Device;
  beforeEach(async () => {
    h = await startHarness();
    await h.server.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: 'alice@example.com', password: PASSWORD },
    });
    laptop = await loginFrom(h, 'Laptop/1.0', '203.0.113.1');
    h.clock.advance(100);
    phone = await loginFrom(h, 'Phone/2.0', '203.0.113.2');
  });
  afterEach(async () => {
    await h.close();
  });

  it('GET /auth/sessions lists the live sessions with created, last used, user agent and the current flag', async () => {
    h.clock.advance(50);
    const rotated = await refreshWith(h, laptop.refreshToken);
    expect(rotated.statusCode).toBe(200);
    const ended = await loginFrom(h, 'Tablet/3.0', '203.0.113.3');
    await withBearer(h, 'DELETE', `/auth/sessions/${ended.sid}`, laptop.accessToken);
    // Another user's sessions never show.
    await signUp(h, 'bob@example.com');

    const res = await withBearer(h, 'GET', '/auth/sessions', phone.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const sessions = res.json().sessions as Record<string, unknown>[];
    expect(sessions.map((s) => s.id).sort()).toEqual([laptop.sid, phone.sid].sort());
    const byId = Object.fromEntries(sessions.map((s) => [s.id, s]));
    expect(byId[laptop.sid]).toEqual({
      id: laptop.sid,
      created_at: START,
      last_used_at: START + 150,
      expires_at: START + 150 + 14 * 86_400,
      user_agent: 'Laptop/1.0',
      ip: '203.0.113.1',
      current: false,
    });
    expect(byId[phone.sid]).toMatchObject({
      created_at: START + 100,
      last_used_at: START + 100,
      user_agent: 'Phone/2.0',
      current: true,
    });
    // The flag follows the token presented.
    const fromLaptop = await withBearer(h, 'GET', '/auth/sessions', rotated.json().access_token);
    const current = (fromLaptop.json().sessions as { id: string; current: boolean }[]).filter((s) => s.current);
    expect(current.map((s) => s.id)).toEqual([laptop.sid]);
  });

  it('DELETE /auth/sessions/:id ends that session: its refresh fails and its access token dies at once', async () => {
    const res = await withBearer(h, 'DELETE', `/auth/sessions/${phone.sid}`, laptop.accessToken);
    expect(res.statusCode).toBe(204);
    expectError(await refreshWith(h, phone.refreshToken), 'ERR_REFRESH_REVOKED');
    expectBearerError(await whoami(h, phone.accessToken), 'ERR_TOKEN_REVOKED');
    // The other session is untouched.
    expect((await whoami(h, laptop.accessToken)).statusCode).toBe(200);
    expect((await refreshWith(h, laptop.refreshToken)).statusCode).toBe(200);
    const list = await withBearer(h, 'GET', '/auth/sessions', laptop.accessToken);
    expect((list.json().sessions as { id: string }[]).map((s) => s.id)).toEqual([laptop.sid]);
    expect(await h.store.findSession(phone.sid)).toMatchObject({ revokedReason: 'user_ended' });
  });

  it('a session can end itself: DELETE with its own token', async () => {
    expect((await withBearer(h, 'DELETE', `/auth/sessions/${laptop.sid}`, laptop.accessToken)).statusCode).toBe(204);
    expectBearerError(await whoami(h, laptop.accessToken), 'ERR_TOKEN_REVOKED');
    expectError(await refreshWith(h, laptop.refreshToken), 'ERR_REFRESH_REVOKED');
  });

  it('deleting another user’s session answers 404 exactly like a missing one and changes nothing', async () => {
    const bob = await signUp(h, 'bob@example.com');
    const bobSid = claimsOf(bob.accessToken).sid;
    const before = dbFingerprint(h);
    const foreign = await withBearer(h, 'DELETE', `/auth/sessions/${bobSid}`, laptop.accessToken);
    const missing = await withBearer(h, 'DELETE', `/auth/sessions/ses_${'A'.repeat(22)}`, laptop.accessToken);
    expectError(foreign, 'ERR_NOT_FOUND');
    expect(foreign.statusCode).toBe(missing.statusCode);
    expect(foreign.body).toBe(missing.body);
    expect(dbFingerprint(h)).toBe(before);
    expect((await whoami(h, bob.accessToken)).statusCode).toBe(200);
    expect((await refreshWith(h, bob.refreshToken)).statusCode).toBe(200);
  });

  it('logout-all revokes every session, sets the cutoff, clears the cookie; the user can log in again', async () => {
    const third = await loginFrom(h, 'Tablet/3.0', '203.0.113.3');
    const rotated = await refreshWith(h, laptop.refreshToken);
    const rotatedAccess = rotated.json().access_token as string;
    const rotatedRefresh = cookieValue(String(rotated.headers['set-cookie']));
    h.clock.advance(5);

    const res = await withBearer(h, 'POST', '/auth/logout-all', phone.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ sessions_revoked: 3 });
    expect(clearsRefreshCookie(res.headers['set-cookie'])).toBe(true);

    for (const refresh of [rotatedRefresh, phone.refreshToken, third.refreshToken]) {
      expectError(await refreshWith(h, refresh), 'ERR_REFRESH_REVOKED');
    }
    for (const access of [laptop.accessToken, rotatedAccess, phone.accessToken, third.accessToken]) {
      expectBearerError(await whoami(h, access), 'ERR_TOKEN_REVOKED');
    }
    const user = await h.store.findUserByEmail('alice@example.com');
    expect(user?.tokensValidAfter).toBe(h.clock());

    // Logging in again works at once, in the very second of the cutoff, and later.
    const again = await logIn(h);
    expect((await whoami(h, again.accessToken)).statusCode).toBe(200);
    h.clock.advance(1);
    const later = await logIn(h);
    expect((await whoami(h, later.accessToken)).statusCode).toBe(200);
    expect((await refreshWith(h, later.refreshToken)).statusCode).toBe(200);
  });

  it('the logout-all cutoff alone kills older access tokens (with their session reinstated behind its back)', async () => {
    h.clock.advance(5);
    expect((await withBearer(h, 'POST', '/auth/logout-all', phone.accessToken)).statusCode).toBe(200);
    // Undo the session lever in the store, so only the per-user cutoff stands.
    h.store.db.prepare('UPDATE sessions SET revoked_at = NULL, revoked_reason = NULL').run();
    expectBearerError(await whoami(h, laptop.accessToken), 'ERR_TOKEN_REVOKED');
    const fresh = await refreshWith(h, laptop.refreshToken);
    expect(fresh.statusCode).toBe(200);
    expect((await whoami(h, fresh.json().access_token)).statusCode).toBe(200);
  });

  it('a password change ends every other session and keeps the current one', async () => {
    const third = await loginFrom(h, 'Tablet/3.0', '203.0.113.3');
    const res = await changePassword(h, laptop.accessToken, PASSWORD, 'a brand new passphrase');
    expect(res.statusCode).toBe(204);

    for (const other of [phone, third]) {
      expectError(await refreshWith(h, other.refreshToken), 'ERR_REFRESH_REVOKED');
      expectBearerError(await whoami(h, other.accessToken), 'ERR_TOKEN_REVOKED');
    }
    expect((await whoami(h, laptop.accessToken)).statusCode).toBe(200);
    h.clock.advance(60);
    expect((await refreshWith(h, laptop.refreshToken)).statusCode).toBe(200);

    const oldLogin = await h.server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'alice@example.com', password: PASSWORD },
    });
    expectError(oldLogin, 'ERR_INVALID_CREDENTIALS');
    expect((await logIn(h, 'alice@example.com', 'a brand new passphrase')).accessToken).toMatch(/^ey/);
  });

  it('a wrong current password gets 401 ERR_INVALID_CREDENTIALS and changes nothing', async () => {
    const before = dbFingerprint(h);
    const res = await changePassword(h, laptop.accessToken, 'not the passphrase', 'a brand new passphrase');
    expectError(res, 'ERR_INVALID_CREDENTIALS');
    expect(dbFingerprint(h)).toBe(before);
    expect((await refreshWith(h, phone.refreshToken)).statusCode).toBe(200);
    expect((await logIn(h)).accessToken).toMatch(/^ey/);
  });

  it('a new password that breaks the policy gets 400 ERR_PASSWORD_POLICY and changes nothing', async () => {
    const before = dbFingerprint(h);
    for (const next of ['short', 'password123', 'alice@example.com', 'x'.repeat(1025)]) {
      expectError(await changePassword(h, laptop.accessToken, PASSWORD, next), 'ERR_PASSWORD_POLICY');
    }
    expect(dbFingerprint(h)).toBe(before);
  });

  it('a revoked session’s token cannot change the password', async () => {
    await withBearer(h, 'DELETE', `/auth/sessions/${phone.sid}`, laptop.accessToken);
    const before = dbFingerprint(h);
    expectBearerError(
      await changePassword(h, phone.accessToken, PASSWORD, 'a brand new passphrase'),
      'ERR_TOKEN_REVOKED',
    );
    expect(dbFingerprint(h)).toBe(before);
  });
});
