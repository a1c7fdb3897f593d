/** Memory mode against a real auth server: login, whoami, logout, register, restore. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthClientError, createAuthClient } from '../src/index.js';
import {
  createAccount,
  createCookieJarFetch,
  nextEvent,
  openTab,
  startTestAuthServer,
  type TestAuthServer,
  uniqueChannel,
} from './support/servers.js';

let server: TestAuthServer;

beforeAll(async () => {
  server = await startTestAuthServer();
});
afterAll(async () => {
  await server?.close();
});

const REFRESH_COOKIE = '__Secure-tessera_rt';

describe('memory mode session', () => {
  it('logs in, reads the user, and logs out: the bearer is denylisted and the cookie cleared', async () => {
    const jar = createCookieJarFetch(server.issuer);
    const { client, events } = openTab(server, jar);
    const account = await createAccount(server);
    expect(client.state).toBe('unknown');
    await client.login(account);
    expect(client.state).toBe('signed-in');
    expect(events).toEqual([{ type: 'signed-in', source: 'login' }]);
    expect(jar.cookie(REFRESH_COOKIE)).toMatch(/^trt_/);

    const me = await client.getUser();
    expect(me.user.email).toBe(account.email);
    const whoami = jar.requests.find((r) => r.url.endsWith('/auth/whoami'));
    const token = whoami?.headers.authorization?.slice('Bearer '.length) ?? '';
    expect(token.split('.')).toHaveLength(3);
    // whoami is bearer-only: the refresh cookie stays home.
    expect(whoami?.headers.cookie).toBeUndefined();

    const session = client.session();
    expect(session).toMatchObject({ scope: 'openid profile', sub: me.user.id });
    expect(typeof session?.sid).toBe('string');
    expect(JSON.stringify(session)).not.toContain(token);

    await client.logout();
    expect(client.state).toBe('signed-out');
    expect(client.session()).toBeUndefined();
    expect(events.at(-1)).toEqual({ type: 'signed-out', source: 'logout' });
    expect(jar.cookie(REFRESH_COOKIE)).toBeUndefined();
    const logout = jar.requests.find((r) => r.url.endsWith('/auth/logout'));
    expect(logout?.headers).toMatchObject({
      'x-tessera-csrf': '1',
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
    });
    // The old access token is dead on the server too (jti denylisted).
    const res = await server.h.server.app.inject({
      method: 'GET',
      url: '/auth/whoami',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(401);
    await expect(client.getUser()).rejects.toMatchObject({ code: 'ERR_NOT_SIGNED_IN' });
    // No event ever carried the token.
    expect(JSON.stringify(events)).not.toContain(token);
    client.close();
  });

  it('surfaces server errors as AuthClientError with the server code', async () => {
    const jar = createCookieJarFetch(server.issuer);
    const { client } = openTab(server, jar);
    const account = await createAccount(server);
    const error = await client.login({ email: account.email, password: 'wrong password entirely' }).catch((e) => e);
    expect(error).toBeInstanceOf(AuthClientError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_CREDENTIALS', status: 401 });
    expect(client.state).toBe('unknown');
    client.close();
  });

  it('registers through the server (202, no sign-in), then logs in', async () => {
    const jar = createCookieJarFetch(server.issuer);
    const { client, events } = openTab(server, jar);
    const email = `reg-${Date.now()}@example.com`;
    await client.register({ email, password: 'correct horse battery staple' });
    expect(client.state).toBe('unknown');
    expect(events).toEqual([]);
    await client.login({ email, password: 'correct horse battery staple' });
    expect((await client.getUser()).user.email).toBe(email);
    client.close();
  });

  it('restores a session on page load through the cookie, and reports no session without throwing', async () => {
    const jar = createCookieJarFetch(server.issuer);
    const first = openTab(server, jar);
    const account = await createAccount(server);
    await first.client.login(account);
    first.client.close();

    // A reload: a new client, same cookie jar.
    const reloaded = openTab(server, jar);
    const signedIn = nextEvent(reloaded.client, 'signed-in');
    await expect(reloaded.client.restore()).resolves.toBe(true);
    expect(await signedIn).toEqual({ type: 'signed-in', source: 'restore' });
    expect(reloaded.client.state).toBe('signed-in');
    expect((await reloaded.client.getUser()).user.email).toBe(account.email);
    const refresh = jar.requests.filter((r) => r.url.endsWith('/auth/refresh')).at(-1);
    expect(refresh?.headers).toMatchObject({ 'x-tessera-csrf': '1', 'content-type': 'application/json' });
    expect(refresh?.credentials).toBe('include');
    // Signed in with a fresh token: restore needs no network.
    const before = server.refreshes.length;
    await expect(reloaded.client.restore()).resolves.toBe(true);
    expect(server.refreshes.length).toBe(before);
    reloaded.client.close();

    const stranger = openTab(server, createCookieJarFetch(server.issuer));
    await expect(stranger.client.restore()).resolves.toBe(false);
    expect(stranger.client.state).toBe('signed-out');
    expect(stranger.events).toEqual([]);
    stranger.client.close();
  });

  it('logs out everywhere: every session of the user ends', async () => {
    const account = await createAccount(server);
    const laptop = openTab(server, createCookieJarFetch(server.issuer));
    const phoneJar = createCookieJarFetch(server.issuer);
    const phone = openTab(server, phoneJar);
    await laptop.client.login(account);
    await phone.client.login(account);
    await laptop.client.logoutEverywhere();
    expect(laptop.client.state).toBe('signed-out');
    expect(laptop.events.at(-1)).toEqual({ type: 'signed-out', source: 'logout-everywhere' });
    // The phone's refresh token is revoked: its next refresh ends its session cleanly.
    const expired = nextEvent(phone.client, 'session-expired');
    await expect(phone.client.restore()).resolves.toBe(true); // its access token is still fresh
    // The per-user cutoff kills its access token, and the one refresh finds the session revoked.
    await expect(phone.client.getUser()).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED', status: 401 });
    expect(await expired).toEqual({ type: 'session-expired', code: 'ERR_REFRESH_REVOKED' });
    expect(phone.client.state).toBe('signed-out');
    laptop.client.close();
    phone.client.close();
  });

  it('rejects every call after close with ERR_CLIENT_CLOSED', async () => {
    const client = createAuthClient({ issuer: server.issuer, channelName: uniqueChannel() });
    client.close();
    await expect(client.restore()).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' });
    await expect(client.fetch(`${server.issuer}/api/echo`)).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' });
    await expect(client.login({ email: 'a@example.com', password: 'x' })).rejects.toMatchObject({
      code: 'ERR_CLIENT_CLOSED',
    });
  });
});
