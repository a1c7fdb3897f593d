/**
 * POST /oauth/token, grant_type=refresh_token (RFC 6749 section 6) for non-browser clients:
 * form-encoded, the refresh token in the body both ways, the section 5.1 response and the
 * section 5.2 errors (status 400), the same rotation and reuse detection as /auth/refresh.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectBearerError, expectError } from './support/expect-error.js';
import { claimsOf, dbFingerprint, type Harness, signUp, startHarness, whoami } from './support/harness.js';

function token(h: Harness, form: Record<string, string> | string) {
  return h.server.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
  });
}

function refreshGrant(refreshToken: string, extra: Record<string, string> = {}) {
  return { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra };
}

/** RFC 6749 5.2: status 400, JSON with `error` (and our `error_description`, `code`). */
function expectOAuthError(
  res: Awaited<ReturnType<typeof token>>,
  code: Parameters<typeof expectError>[1],
  error: string,
) {
  expectError(res, code, 400);
  expect(res.json().error).toBe(error);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['set-cookie']).toBeUndefined();
}

describe('POST /oauth/token grant_type=refresh_token', () => {
  let h: Harness;
  let login: Awaited<ReturnType<typeof signUp>>;
  beforeEach(async () => {
    h = await startHarness();
    login = await signUp(h);
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers 200 with the RFC 6749 5.1 body including a new refresh_token, uncacheable, no cookie', async () => {
    const res = await token(h, refreshGrant(login.refreshToken));
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    expect(res.headers['set-cookie']).toBeUndefined();
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'openid profile' });
    expect(body.refresh_token).toMatch(/^trt_[A-Za-z0-9_-]{43}$/);
    expect(body.refresh_token).not.toBe(login.refreshToken);
    expect((await whoami(h, body.access_token)).statusCode).toBe(200);
    expect(claimsOf(body.access_token).sid).toBe(claimsOf(login.accessToken).sid);
  });

  it('rotates like /auth/refresh: the new token works, a reuse after the grace window revokes the family (400 invalid_grant)', async () => {
    const first = (await token(h, refreshGrant(login.refreshToken))).json();
    h.clock.advance(30);
    const second = await token(h, refreshGrant(first.refresh_token));
    expect(second.statusCode).toBe(200);
    const next = second.json().refresh_token as string;

    h.clock.advance(11);
    expectOAuthError(await token(h, refreshGrant(first.refresh_token)), 'ERR_REFRESH_REUSED', 'invalid_grant');
    expectOAuthError(await token(h, refreshGrant(next)), 'ERR_REFRESH_REVOKED', 'invalid_grant');
    expectBearerError(await whoami(h, second.json().access_token), 'ERR_TOKEN_REVOKED');
    const sid = claimsOf(login.accessToken).sid;
    expect(await h.store.findSession(sid)).toMatchObject({ revokedReason: 'refresh_reuse' });
  });

  it('a duplicate within the grace window gets the same refresh_token and access_token back', async () => {
    const first = await token(h, refreshGrant(login.refreshToken));
    h.clock.advance(3);
    const again = await token(h, refreshGrant(login.refreshToken));
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(first.body);
  });

  it('a token rotated here is reused at /auth/refresh, and vice versa: one family, one rotation rule', async () => {
    const viaForm = (await token(h, refreshGrant(login.refreshToken))).json().refresh_token as string;
    h.clock.advance(11);
    const viaCookie = await h.server.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      headers: { cookie: `__Secure-tessera_rt=${login.refreshToken}` },
    });
    expectError(viaCookie, 'ERR_REFRESH_REUSED');
    expectOAuthError(await token(h, refreshGrant(viaForm)), 'ERR_REFRESH_REVOKED', 'invalid_grant');
  });

  it('a JSON body is refused with 415 and the token is not used', async () => {
    const before = dbFingerprint(h);
    const res = await h.server.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: refreshGrant(login.refreshToken),
    });
    expectError(res, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    expect(dbFingerprint(h)).toBe(before);
    expect((await token(h, refreshGrant(login.refreshToken))).statusCode).toBe(200);
  });

  it.each([
    ['no grant_type', (rt: string) => ({ refresh_token: rt })],
    ['no refresh_token', () => ({ grant_type: 'refresh_token' })],
    ['an empty refresh_token', () => ({ grant_type: 'refresh_token', refresh_token: '' })],
  ])('%s: 400 invalid_request', async (_name, form) => {
    const before = dbFingerprint(h);
    expectOAuthError(await token(h, form(login.refreshToken)), 'ERR_VALIDATION', 'invalid_request');
    expect(dbFingerprint(h)).toBe(before);
  });

  it('grant_type=password: 400 unsupported_grant_type, and no session is made', async () => {
    const before = dbFingerprint(h);
    const res = await token(h, {
      grant_type: 'password',
      username: 'alice@example.com',
      password: 'correct horse battery staple',
    });
    expectOAuthError(res, 'ERR_UNSUPPORTED_GRANT_TYPE', 'unsupported_grant_type');
    expect(dbFingerprint(h)).toBe(before);
  });

  it('a scope within the grant is accepted; one beyond it is refused before the token is used', async () => {
    const before = dbFingerprint(h);
    const beyond = await token(h, refreshGrant(login.refreshToken, { scope: 'openid admin' }));
    expectOAuthError(beyond, 'ERR_VALIDATION', 'invalid_request');
    expect(dbFingerprint(h)).toBe(before);
    // The refused request did not consume the token: it still rotates normally, not by replay.
    h.clock.advance(60);
    const narrower = await token(h, refreshGrant(login.refreshToken, { scope: 'openid' }));
    expect(narrower.statusCode).toBe(200);
    const sid = claimsOf(login.accessToken).sid;
    const types = (await h.store.listAudit({ sessionId: sid, limit: 50 })).map((e) => e.type);
    expect(types.filter((t) => t.startsWith('refresh.'))).toEqual(['refresh.rotated']);
  });

  it('unrecognised parameters are ignored (RFC 6749 section 3.2)', async () => {
    const res = await token(h, refreshGrant(login.refreshToken, { client_id: 'cli', foo: 'bar' }));
    expect(res.statusCode).toBe(200);
  });
});
