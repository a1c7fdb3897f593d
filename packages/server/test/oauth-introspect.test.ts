/**
 * POST /oauth/introspect (RFC 7662) end to end with a registered client: the claims of an
 * active access token, the state of an active refresh token, and exactly {"active": false} for
 * anything revoked, expired, rotated, unknown or malformed. Introspection never writes.
 */

import { AdminService } from '@tessera/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addClient, formPost, fullFingerprint, introspect, type TestClient } from './support/clients.js';
import { expectError } from './support/expect-error.js';
import { claimsOf, type Harness, refreshWith, START, signUp, startHarness, withBearer } from './support/harness.js';

const INACTIVE_BODY = '{"active":false}';

describe('POST /oauth/introspect', () => {
  let h: Harness;
  let client: TestClient;
  let login: Awaited<ReturnType<typeof signUp>>;
  beforeEach(async () => {
    h = await startHarness();
    client = await addClient(h, { scopes: 'introspect' });
    login = await signUp(h);
  });
  afterEach(async () => {
    await h.close();
  });

  async function expectInactive(token: string, hint?: string): Promise<void> {
    const res = await introspect(h, client, { token, ...(hint === undefined ? {} : { token_type_hint: hint }) });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(INACTIVE_BODY);
    expect(res.headers['cache-control']).toBe('no-store');
  }

  it('an active access token: its claims, token_type Bearer, and no email anywhere', async () => {
    const res = await introspect(h, client, { token: login.accessToken });
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    const claims = claimsOf(login.accessToken) as ReturnType<typeof claimsOf> & Record<string, unknown>;
    expect(res.json()).toEqual({
      active: true,
      token_type: 'Bearer',
      scope: 'openid profile',
      client_id: 'tessera-web',
      sub: claims.sub,
      aud: claims.aud,
      iss: h.server.config.issuer,
      exp: START + 600,
      iat: START,
      ...(claims.nbf === undefined ? {} : { nbf: claims.nbf }),
      jti: claims.jti,
      sid: claims.sid,
    });
    expect(res.body).not.toContain('alice');
    expect(res.json()).not.toHaveProperty('username');
  });

  it('an active refresh token: token_type refresh_token, its session, and the earliest expiry', async () => {
    const res = await introspect(h, client, { token: login.refreshToken, token_type_hint: 'refresh_token' });
    const { sub, sid } = claimsOf(login.accessToken);
    expect(res.json()).toEqual({
      active: true,
      token_type: 'refresh_token',
      client_id: 'tessera-web',
      scope: 'openid profile',
      sub,
      exp: START + 14 * 86_400,
      iat: START,
      sid,
    });
  });

  it('a rotated refresh token is inactive at once, even inside the grace window; its successor is active', async () => {
    h.clock.advance(100);
    const rotated = await refreshWith(h, login.refreshToken);
    expect(rotated.statusCode).toBe(200);
    const next = decodeURIComponent(
      /__Secure-tessera_rt=([^;]*)/.exec(String(rotated.headers['set-cookie']))?.[1] ?? '',
    );
    h.clock.advance(2);
    await expectInactive(login.refreshToken);
    const res = await introspect(h, client, { token: next });
    expect(res.json()).toMatchObject({ active: true, iat: START + 100, exp: START + 100 + 14 * 86_400 });
  });

  it('a wrong hint still finds the token: access token hinted as refresh, refresh token hinted as access', async () => {
    const access = await introspect(h, client, { token: login.accessToken, token_type_hint: 'refresh_token' });
    expect(access.json()).toMatchObject({ active: true, token_type: 'Bearer' });
    const refresh = await introspect(h, client, { token: login.refreshToken, token_type_hint: 'access_token' });
    expect(refresh.json()).toMatchObject({ active: true, token_type: 'refresh_token' });
    const odd = await introspect(h, client, { token: login.accessToken, token_type_hint: 'id_token' });
    expect(odd.json()).toMatchObject({ active: true, token_type: 'Bearer' });
  });

  it('an access token past its exp is inactive even within the verification clock tolerance', async () => {
    h.clock.advance(599);
    expect((await introspect(h, client, { token: login.accessToken })).json().active).toBe(true);
    h.clock.advance(1);
    await expectInactive(login.accessToken);
    h.clock.advance(3600);
    await expectInactive(login.accessToken);
  });

  it('a refresh token past its idle expiry is inactive', async () => {
    h.clock.advance(14 * 86_400);
    await expectInactive(login.refreshToken);
  });

  it('after logout both tokens are inactive', async () => {
    const out = await h.server.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { cookie: `__Secure-tessera_rt=${login.refreshToken}`, authorization: `Bearer ${login.accessToken}` },
    });
    expect(out.statusCode).toBe(204);
    await expectInactive(login.accessToken);
    await expectInactive(login.refreshToken);
  });

  it('after logout-all (user cutoff) and after disabling the account, every token is inactive', async () => {
    const second = await signUp(h, 'bob@example.com');
    expect((await withBearer(h, 'POST', '/auth/logout-all', login.accessToken)).statusCode).toBe(200);
    await expectInactive(login.accessToken);
    await expectInactive(login.refreshToken);

    const admin = new AdminService(h.server.context);
    const bob = await admin.findUser('bob@example.com');
    if (bob === undefined) throw new Error('bob missing');
    expect((await introspect(h, client, { token: second.refreshToken })).json().active).toBe(true);
    await admin.disableUser(bob);
    await expectInactive(second.accessToken);
    await expectInactive(second.refreshToken);
  });

  it('a refresh token of a disabled account whose session was not revoked is still inactive', async () => {
    const { sub } = claimsOf(login.accessToken);
    await h.store.updateUser(sub, { status: 'disabled' }, h.clock());
    await expectInactive(login.refreshToken);
    await expectInactive(login.accessToken);
  });

  it.each([
    ['garbage', 'garbage'],
    ['three dots', 'a.b.c'],
    ['an unsigned JWT', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'],
    ['an unknown refresh token', `trt_${'A'.repeat(43)}`],
    ['a refresh token of the wrong length', `trt_${'A'.repeat(42)}`],
    ['a client secret', `tcs_${'A'.repeat(43)}`],
    ['a very long value', 'x'.repeat(8000)],
  ])('%s is exactly {"active": false}', async (_name, token) => {
    await expectInactive(token);
  });

  it('a tampered access token is exactly {"active": false}', async () => {
    const [header, payload, signature] = login.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'usr_someone_else' })).toString('base64url');
    await expectInactive(`${header}.${forged}.${signature}`);
  });

  it('another server\'s access token is exactly {"active": false}', async () => {
    const elsewhere = await startHarness();
    try {
      await expectInactive((await signUp(elsewhere)).accessToken);
    } finally {
      await elsewhere.close();
    }
  });

  it('introspection writes nothing, whether the token is active or not', async () => {
    const before = fullFingerprint(h);
    for (const token of [login.accessToken, login.refreshToken, 'garbage', `trt_${'A'.repeat(43)}`]) {
      expect((await introspect(h, client, { token })).statusCode).toBe(200);
    }
    expect(fullFingerprint(h)).toBe(before);
  });

  it('a missing token is 400 invalid_request', async () => {
    for (const form of [{}, { token: '' }]) expectError(await introspect(h, client, form), 'ERR_VALIDATION', 400);
  });

  it('a JSON body is 415', async () => {
    const res = await h.server.app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      payload: JSON.stringify({ token: login.accessToken }),
    });
    expectError(res, 'ERR_UNSUPPORTED_MEDIA_TYPE', 415);
  });

  it('client_secret_post works the same as Basic', async () => {
    const res = await formPost(h, '/oauth/introspect', {
      token: login.accessToken,
      client_id: client.id,
      client_secret: client.secret,
    });
    expect(res.json()).toMatchObject({ active: true, sub: claimsOf(login.accessToken).sub });
  });
});
