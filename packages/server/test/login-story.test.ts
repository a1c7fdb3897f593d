import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cookieValue, type Harness, refreshWith, START, signUp, startHarness, whoami } from './support/harness.js';

describe('login → refresh → refresh → logout', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('the refresh cookie has the exact secure attributes and a Max-Age within the session ceiling', async () => {
    const { setCookie } = await signUp(h);
    expect(setCookie).toMatch(/^__Secure-tessera_rt=trt_[A-Za-z0-9_-]{43}; /);
    const attrs = setCookie.split('; ').slice(1);
    expect(attrs).toEqual(
      expect.arrayContaining(['Max-Age=2592000', 'Path=/auth', 'HttpOnly', 'Secure', 'SameSite=Strict']),
    );
    expect(attrs.some((a) => a.startsWith('Domain='))).toBe(false);
    expect(attrs).toHaveLength(5);
  });

  it('a full story works and every step rotates the refresh token', async () => {
    const first = await signUp(h);
    expect((await whoami(h, first.accessToken)).statusCode).toBe(200);

    h.clock.advance(60);
    const r1 = await refreshWith(h, first.refreshToken);
    expect(r1.statusCode).toBe(200);
    const body1 = r1.json();
    expect(Object.keys(body1).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(body1.token_type).toBe('Bearer');
    expect(body1.expires_in).toBe(600);
    expect(r1.headers['cache-control']).toBe('no-store');
    expect(r1.headers.pragma).toBe('no-cache');
    const second = cookieValue(String(r1.headers['set-cookie']));
    expect(second).not.toBe(first.refreshToken);
    // Max-Age counts down to the absolute end, it is not reset by a refresh.
    expect(String(r1.headers['set-cookie'])).toContain(`Max-Age=${30 * 86_400 - 60}`);

    h.clock.advance(60);
    const r2 = await refreshWith(h, second);
    expect(r2.statusCode).toBe(200);
    const third = cookieValue(String(r2.headers['set-cookie']));
    const access = r2.json().access_token as string;
    const me = await whoami(h, access);
    expect(me.statusCode).toBe(200);
    expect(me.json().user.email).toBe('alice@example.com');
    expect(me.json().claims.sid).toMatch(/^ses_/);

    const out = await h.server.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { cookie: `__Secure-tessera_rt=${third}`, authorization: `Bearer ${access}` },
    });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/__Secure-tessera_rt=; .*Expires=Thu, 01 Jan 1970/);
    // The access token is dead at once (jti denylisted and session revoked), and so is the refresh token.
    const after = await whoami(h, access);
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('ERR_TOKEN_REVOKED');
    expect(after.headers['www-authenticate']).toMatch(/^Bearer realm="tessera", error="invalid_token"/);
    const refreshAfter = await refreshWith(h, third);
    expect(refreshAfter.statusCode).toBe(401);
    expect(refreshAfter.json()).toMatchObject({ error: 'invalid_grant', code: 'ERR_REFRESH_REVOKED' });
  });

  it('issues tokens with the RFC 9068 header and claims', async () => {
    const { accessToken } = await signUp(h);
    const [header, payload] = accessToken
      .split('.')
      .slice(0, 2)
      .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    expect(payload).toMatchObject({
      iss: 'http://localhost:8080',
      aud: 'tessera-api',
      iat: START,
      exp: START + 600,
      client_id: 'tessera-web',
      auth_time: START,
    });
    expect(Object.keys(payload).sort()).toEqual([
      'aud',
      'auth_time',
      'client_id',
      'exp',
      'iat',
      'iss',
      'jti',
      'scope',
      'sid',
      'sub',
    ]);
  });

  it('the Bearer scheme name is case-insensitive (RFC 7235 2.1)', async () => {
    const { accessToken } = await signUp(h);
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const res = await h.server.app.inject({
        method: 'GET',
        url: '/auth/whoami',
        headers: { authorization: `${scheme} ${accessToken}` },
      });
      expect(res.statusCode).toBe(200);
    }
  });
});
