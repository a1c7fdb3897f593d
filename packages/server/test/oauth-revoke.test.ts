/**
 * POST /oauth/revoke (RFC 7009) end to end with a registered client: a refresh token revokes
 * its whole family, an access token is denylisted by jti, the hint orders the search but is not
 * trusted, and whatever the token the answer is 200 with an empty body.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addClient, formPost, fullFingerprint, introspect, revoke, type TestClient } from './support/clients.js';
import { expectBearerError, expectError } from './support/expect-error.js';
import { claimsOf, type Harness, refreshWith, signUp, startHarness, whoami } from './support/harness.js';

function expectRevoked200(res: Awaited<ReturnType<typeof revoke>>): void {
  expect(res.statusCode).toBe(200);
  expect(res.body).toBe('');
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['set-cookie']).toBeUndefined();
}

describe('POST /oauth/revoke', () => {
  let h: Harness;
  let client: TestClient;
  let login: Awaited<ReturnType<typeof signUp>>;
  beforeEach(async () => {
    h = await startHarness();
    client = await addClient(h, { scopes: 'revoke introspect' });
    login = await signUp(h);
  });
  afterEach(async () => {
    await h.close();
  });

  async function isActive(token: string): Promise<boolean> {
    const res = await introspect(h, client, { token });
    expect(res.statusCode).toBe(200);
    return res.json().active === true;
  }

  it('revoking a refresh token kills the family: its refresh is 401, its access token dead at whoami and introspect', async () => {
    expect(await isActive(login.accessToken)).toBe(true);
    expectRevoked200(await revoke(h, client, { token: login.refreshToken, token_type_hint: 'refresh_token' }));

    expectError(await refreshWith(h, login.refreshToken), 'ERR_REFRESH_REVOKED');
    expectBearerError(await whoami(h, login.accessToken), 'ERR_TOKEN_REVOKED');
    expect(await isActive(login.accessToken)).toBe(false);
    expect(await isActive(login.refreshToken)).toBe(false);

    const sid = claimsOf(login.accessToken).sid;
    expect(await h.store.findSession(sid)).toMatchObject({ revokedReason: 'client_revocation' });
    const events = await h.store.listRevocations(0, 100, h.clock());
    expect(events).toContainEqual(expect.objectContaining({ kind: 'sid', value: sid }));
  });

  it('audits the session revocation with the revoking client as "by"', async () => {
    await revoke(h, client, { token: login.refreshToken });
    const sid = claimsOf(login.accessToken).sid;
    const audit = await h.store.listAudit({ sessionId: sid, limit: 10 });
    expect(audit[0]).toMatchObject({
      type: 'session.revoked',
      userId: claimsOf(login.accessToken).sub,
      data: { reason: 'client_revocation', by: client.id },
    });
  });

  it('an already rotated refresh token still revokes its family, the current token included', async () => {
    const rotated = await refreshWith(h, login.refreshToken);
    expect(rotated.statusCode).toBe(200);
    const current = /__Secure-tessera_rt=([^;]*)/.exec(String(rotated.headers['set-cookie']))?.[1] as string;
    h.clock.advance(60);
    expectRevoked200(await revoke(h, client, { token: login.refreshToken }));
    expectError(await refreshWith(h, decodeURIComponent(current)), 'ERR_REFRESH_REVOKED');
    expectBearerError(await whoami(h, rotated.json().access_token), 'ERR_TOKEN_REVOKED');
  });

  it('revoking an access token kills it at whoami and introspect, and leaves its session and refresh token alive', async () => {
    expectRevoked200(await revoke(h, client, { token: login.accessToken, token_type_hint: 'access_token' }));
    expectBearerError(await whoami(h, login.accessToken), 'ERR_TOKEN_REVOKED');
    expect(await isActive(login.accessToken)).toBe(false);

    const { jti, exp, sid } = claimsOf(login.accessToken);
    expect(await h.store.isJtiDenied(jti, h.clock())).toBe(true);
    expect(h.store.db.prepare('SELECT expires_at FROM jti_denylist WHERE jti = ?').get(jti)).toEqual({
      expires_at: exp + 30, // the verifier's clock tolerance
    });
    expect((await h.store.listRevocations(0, 100, h.clock())).map((e) => [e.kind, e.value])).toEqual([['jti', jti]]);
    expect((await h.store.findSession(sid))?.revokedAt).toBeNull();

    const refreshed = await refreshWith(h, login.refreshToken);
    expect(refreshed.statusCode).toBe(200);
    expect((await whoami(h, refreshed.json().access_token)).statusCode).toBe(200);
    const audit = await h.store.listAudit({ sessionId: sid, limit: 10 });
    expect(audit.find((e) => e.type === 'token.revoked')).toMatchObject({
      data: { token_type: 'access_token', jti, by: client.id },
    });
  });

  it('a wrong hint does not stop the revocation: each type is found under the other hint', async () => {
    expectRevoked200(await revoke(h, client, { token: login.accessToken, token_type_hint: 'refresh_token' }));
    expectBearerError(await whoami(h, login.accessToken), 'ERR_TOKEN_REVOKED');

    const second = await signUp(h, 'bob@example.com');
    expectRevoked200(await revoke(h, client, { token: second.refreshToken, token_type_hint: 'access_token' }));
    expectError(await refreshWith(h, second.refreshToken), 'ERR_REFRESH_REVOKED');
  });

  it('an unknown hint value is ignored, not an error', async () => {
    expectRevoked200(await revoke(h, client, { token: login.refreshToken, token_type_hint: 'id_token' }));
    expectError(await refreshWith(h, login.refreshToken), 'ERR_REFRESH_REVOKED');
  });

  it('unknown, garbage, expired and already revoked tokens all get 200 with an empty body and write nothing', async () => {
    // Already revoked (session ended by logout) and an expired access token, set up first.
    const other = await signUp(h, 'carol@example.com');
    await revoke(h, client, { token: other.refreshToken });
    const before = fullFingerprint(h);
    const tokens = [
      `trt_${'A'.repeat(43)}`,
      'garbage',
      'a.b.c',
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      other.refreshToken,
      other.accessToken,
    ];
    for (const token of tokens) expectRevoked200(await revoke(h, client, { token }));
    expect(fullFingerprint(h)).toBe(before);

    // Past exp plus the verifier's 30 s tolerance the token is dead anyway: nothing to write.
    h.clock.advance(631);
    const afterClock = fullFingerprint(h);
    expectRevoked200(await revoke(h, client, { token: login.accessToken }));
    expect(fullFingerprint(h)).toBe(afterClock);
  });

  it("another server's access token (unknown key) is not ours: 200, nothing written", async () => {
    const elsewhere = await startHarness();
    try {
      const foreign = await signUp(elsewhere);
      const before = fullFingerprint(h);
      expectRevoked200(await revoke(h, client, { token: foreign.accessToken }));
      expect(fullFingerprint(h)).toBe(before);
    } finally {
      await elsewhere.close();
    }
  });

  it('a missing or empty token parameter is 400 invalid_request and writes nothing', async () => {
    const before = fullFingerprint(h);
    for (const form of [{}, { token: '' }, { token_type_hint: 'refresh_token' }]) {
      const res = await revoke(h, client, form);
      expectError(res, 'ERR_VALIDATION', 400);
      expect(res.json().error_description).toContain('token');
    }
    expect(fullFingerprint(h)).toBe(before);
  });

  it('a repeated token parameter is 400 invalid_request', async () => {
    const res = await formPost(
      h,
      '/oauth/revoke',
      `token=${login.refreshToken}&token=${login.accessToken}&client_id=${client.id}&client_secret=${client.secret}`,
    );
    expectError(res, 'ERR_VALIDATION', 400);
    expect((await refreshWith(h, login.refreshToken)).statusCode).toBe(200);
  });

  it('JSON, text and body-less requests are 415 and revoke nothing', async () => {
    const before = fullFingerprint(h);
    const auth = { authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}` };
    const json = await h.server.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ token: login.refreshToken }),
    });
    expectError(json, 'ERR_UNSUPPORTED_MEDIA_TYPE', 415);
    const text = await h.server.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { ...auth, 'content-type': 'text/plain' },
      payload: `token=${login.refreshToken}`,
    });
    expectError(text, 'ERR_UNSUPPORTED_MEDIA_TYPE', 415);
    const empty = await h.server.app.inject({ method: 'POST', url: '/oauth/revoke', headers: auth });
    expectError(empty, 'ERR_UNSUPPORTED_MEDIA_TYPE', 415);
    expect(fullFingerprint(h)).toBe(before);
    expect((await refreshWith(h, login.refreshToken)).statusCode).toBe(200);
  });
});
