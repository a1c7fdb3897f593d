/**
 * The server's log never holds a secret: no access token, refresh token, cookie value or
 * password, through a full story including failures, at info and at trace level. The log is
 * captured with `createAuthServer({ logStream })`.
 */

import { describe, expect, it } from 'vitest';
import { claimsOf, cookieValue, type Harness, PASSWORD, startHarness } from './support/harness.js';

const NEW_PASSWORD = 'a brand new passphrase for alice';
const WRONG_PASSWORD = 'definitely-not-the-passphrase';
const POLICY_PASSWORD = 'BOB@example.com';

/** Runs the story and returns every secret that was in play. */
async function story(h: Harness): Promise<string[]> {
  const app = h.server.app;
  const secrets = new Set<string>([PASSWORD, NEW_PASSWORD, WRONG_PASSWORD]);
  const keep = (res: Awaited<ReturnType<typeof app.inject>>) => {
    const setCookie = res.headers['set-cookie'];
    if (setCookie !== undefined && /tessera_rt=trt_/.test(String(setCookie))) {
      secrets.add(String(setCookie));
      secrets.add(cookieValue(String(setCookie)));
    }
    if (res.headers['content-type']?.toString().startsWith('application/json') && res.body.startsWith('{')) {
      const body = res.json() as Record<string, unknown>;
      for (const key of ['access_token', 'refresh_token'] as const) {
        if (typeof body[key] === 'string') secrets.add(body[key] as string);
      }
    }
    return res;
  };
  const json = (url: string, payload: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, payload, headers }).then(keep);
  const bearer = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: object) =>
    app
      .inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) })
      .then(keep);
  const cookie = (url: string, token: string) =>
    app.inject({ method: 'POST', url, headers: { cookie: `__Secure-tessera_rt=${token}` } }).then(keep);

  expect((await json('/auth/register', { email: 'alice@example.com', password: PASSWORD })).statusCode).toBe(202);
  expect((await json('/auth/register', { email: 'alice@example.com', password: WRONG_PASSWORD })).statusCode).toBe(202);
  expect((await json('/auth/register', { email: 'bob@example.com', password: POLICY_PASSWORD })).statusCode).toBe(400);
  expect((await json('/auth/login', { email: 'alice@example.com', password: WRONG_PASSWORD })).statusCode).toBe(401);
  expect((await json('/auth/login', { email: 'nobody@example.com', password: WRONG_PASSWORD })).statusCode).toBe(401);
  expect((await json('/auth/login', { email: 'alice@example.com', password: 'x'.repeat(1025) })).statusCode).toBe(400);
  const login = await json(
    '/auth/login',
    { email: 'alice@example.com', password: PASSWORD },
    { 'user-agent': 'Story/1.0' },
  );
  const access = login.json().access_token as string;
  let refresh = cookieValue(String(login.headers['set-cookie']));
  const second = await json('/auth/login', { email: 'alice@example.com', password: PASSWORD });

  expect((await bearer('GET', '/auth/whoami', access)).statusCode).toBe(200);
  expect((await bearer('GET', '/auth/sessions', access)).statusCode).toBe(200);
  expect((await bearer('GET', '/auth/whoami', `${access}x`)).statusCode).toBeGreaterThanOrEqual(400);
  expect(
    (await app.inject({ method: 'GET', url: '/auth/whoami', headers: { authorization: `Bearer  ${access}` } }))
      .statusCode,
  ).toBe(400);

  h.clock.advance(30);
  const r1 = await cookie('/auth/refresh', refresh);
  expect(r1.statusCode).toBe(200);
  const replay = await cookie('/auth/refresh', refresh); // grace replay
  expect(replay.statusCode).toBe(200);
  const stolen = refresh;
  refresh = cookieValue(String(r1.headers['set-cookie']));

  const form = await app
    .inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=refresh_token&refresh_token=${refresh}`,
    })
    .then(keep);
  expect(form.statusCode).toBe(200);
  refresh = form.json().refresh_token;
  // Misplaced secrets: a token in the query string, a password in a JSON field name.
  await app
    .inject({
      method: 'POST',
      url: `/oauth/token?grant_type=refresh_token&refresh_token=${refresh}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    })
    .then(keep);
  // ... and in a URL the router refuses (its error message echoes the whole URL).
  expect((await app.inject({ method: 'GET', url: `/auth/sessions/%?refresh_token=${refresh}` })).statusCode).toBe(400);
  const long = `/auth/sessions/${'A'.repeat(200)}?refresh_token=${refresh}`;
  expect(
    (await app.inject({ method: 'DELETE', url: long, headers: { authorization: `Bearer ${access}` } })).statusCode,
  ).toBe(404);
  await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email: 'alice@example.com', password: PASSWORD, [PASSWORD.replace(/ /g, '_')]: 1 },
  });
  await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `grant_type=refresh_token&refresh_token=${refresh}&refresh_token=${refresh}`,
  });

  h.clock.advance(11);
  expect((await cookie('/auth/refresh', stolen)).statusCode).toBe(401); // reuse: the family is revoked

  const third = await json('/auth/login', { email: 'alice@example.com', password: PASSWORD });
  const thirdAccess = third.json().access_token as string;
  const pw = await bearer('POST', '/auth/password', thirdAccess, {
    current_password: PASSWORD,
    new_password: NEW_PASSWORD,
  });
  expect(pw.statusCode).toBe(204);
  expect(
    (
      await bearer('POST', '/auth/password', thirdAccess, {
        current_password: WRONG_PASSWORD,
        new_password: NEW_PASSWORD,
      })
    ).statusCode,
  ).toBe(401);
  await bearer('DELETE', `/auth/sessions/${claimsOf(second.json().access_token).sid}`, thirdAccess);
  await app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: {
      cookie: `__Secure-tessera_rt=${cookieValue(String(third.headers['set-cookie']))}`,
      authorization: `Bearer ${thirdAccess}`,
    },
  });
  const fourth = await json('/auth/login', { email: 'alice@example.com', password: NEW_PASSWORD });
  expect((await bearer('POST', '/auth/logout-all', fourth.json().access_token)).statusCode).toBe(200);
  return [...secrets];
}

describe('the server log holds no secret', () => {
  it.each(['info', 'trace'] as const)('through a full story at %s level', async (logLevel) => {
    const lines: string[] = [];
    const h = await startHarness({ logLevel }, { logStream: { write: (line) => lines.push(line) } });
    try {
      const secrets = await story(h);
      expect(secrets.length).toBeGreaterThan(10);
      const log = lines.join('');
      // The capture works: requests, audit events and rejections are there.
      expect(log).toContain('incoming request');
      expect(log).toContain('refresh.reuse_detected');
      expect(log).toContain('request rejected');
      expect(log).toContain(claimsOf(secrets.find((s) => s.startsWith('ey')) as string).sid);
      for (const secret of secrets) {
        expect(log.includes(secret), `a secret of ${secret.length} characters is in the log`).toBe(false);
        // Nor the parts of a JWT that make it usable, nor the base64url body of a refresh token.
        if (secret.startsWith('ey')) expect(log).not.toContain(secret.split('.')[2] as string);
        if (secret.startsWith('trt_')) expect(log).not.toContain(secret.slice(4));
      }
      // Every line is JSON (pino), none is a raw dump.
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    } finally {
      await h.close();
    }
  });
});
