/**
 * What the client refuses to take on trust: tokens and lock leases posted on the BroadcastChannel
 * (any script on the origin can post there), token answers whose `expires_in` would make a tab
 * refresh in a loop, and token-endpoint answers that a redirect slipped under a request with the
 * Bearer.
 */

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  acceptSharedToken,
  createAccessToken,
  parseTokenBody,
  readStrictJwtClaims,
  type SharedToken,
} from '../src/access-token.js';
import { MIN_PROACTIVE_GAP_MS } from '../src/auth-engine.js';
import { isTokenEndpointResponse } from '../src/authorized-request.js';
import { createBroadcastLock } from '../src/broadcast-lock.js';
import { createAuthClient } from '../src/index.js';
import { openTabChannel, parseTabMessage } from '../src/tab-channel.js';
import { createFakeTime } from './support/fake-time.js';
import {
  createAccount,
  createCookieJarFetch,
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

const tick = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));
const b64url = (value: string) => Buffer.from(value).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${b64url('{"alg":"ES256"}')}.${b64url(JSON.stringify(claims))}.c2ln`;

const ISSUER = 'https://auth.example.com';
/** Local clock 1 000 000 s ahead of the server's: the checks never compare the two directly. */
const NOW = 2_000_000_000_000;
const SERVER_NOW_SEC = 1_000_000_000;

function sharedToken(overrides: Partial<SharedToken> = {}, claims: Record<string, unknown> = {}): SharedToken {
  return {
    token: jwt({ iss: ISSUER, sub: 'user-1', sid: 's1', iat: SERVER_NOW_SEC, exp: SERVER_NOW_SEC + 600, ...claims }),
    expiresAt: NOW + 600_000,
    lifetimeMs: 600_000,
    scope: 'openid',
    ...overrides,
  };
}

/** The token this client holds: minted 100 s ago by the same server, on the same local clock. */
function currentToken(sub = 'user-1') {
  const value = jwt({ iss: ISSUER, sub, sid: 's1', iat: SERVER_NOW_SEC - 100, exp: SERVER_NOW_SEC + 500 });
  const token = acceptSharedToken(
    { token: value, expiresAt: NOW + 500_000, lifetimeMs: 600_000, scope: 'openid' },
    { now: NOW, issuer: ISSUER },
  );
  if (token === undefined) throw new Error('fixture refused');
  return token;
}

describe('tokens shared on the channel (memory mode)', () => {
  it('accepts a token another tab of this user could have broadcast', () => {
    const token = acceptSharedToken(sharedToken(), { now: NOW, issuer: ISSUER, current: currentToken() });
    expect(token).toMatchObject({ expiresAt: NOW + 600_000, lifetimeMs: 600_000, sub: 'user-1', sid: 's1' });
    // The issuer spelled with a trailing slash is the same issuer; a token without `iss` is fine.
    expect(acceptSharedToken(sharedToken({}, { iss: `${ISSUER}/` }), { now: NOW, issuer: ISSUER })).toBeDefined();
    expect(acceptSharedToken(sharedToken({}, { iss: undefined }), { now: NOW, issuer: ISSUER })).toBeDefined();
  });

  it('refuses lifetimes and expiries no Tessera server grants', () => {
    const context = { now: NOW, issuer: ISSUER };
    const longToken = { iat: SERVER_NOW_SEC, exp: SERVER_NOW_SEC + 7200 };
    const cases: SharedToken[] = [
      sharedToken({ lifetimeMs: 0 }),
      sharedToken({ lifetimeMs: -1 }),
      sharedToken({ lifetimeMs: Number.POSITIVE_INFINITY }),
      // Over the server's maximum of an hour, even when the token's own exp - iat agrees.
      sharedToken({ lifetimeMs: 7_200_000, expiresAt: NOW + 7_200_000 }, longToken),
      // Expiring later than a token minted this instant would.
      sharedToken({ expiresAt: NOW + 600_000 + 2_001 }),
      sharedToken({ expiresAt: NOW + 30 * 365 * 86_400_000 }),
      // Already expired.
      sharedToken({ expiresAt: NOW }),
      sharedToken({ expiresAt: Number.NaN }),
      // Claiming more lifetime than the token itself carries (exp - iat).
      sharedToken({ lifetimeMs: 1_200_000, expiresAt: NOW + 1_200_000 }),
    ];
    for (const shared of cases) expect(acceptSharedToken(shared, context), JSON.stringify(shared)).toBeUndefined();
    // Exactly the maximum passes.
    const hour = { iat: SERVER_NOW_SEC, exp: SERVER_NOW_SEC + 3600 };
    expect(
      acceptSharedToken(sharedToken({ lifetimeMs: 3_600_000, expiresAt: NOW + 3_600_000 }, hour), context),
    ).toMatchObject({ lifetimeMs: 3_600_000 });
  });

  it('refuses anything that is not a well-formed JWT with numeric exp and iat, a sub and the right iss', () => {
    const context = { now: NOW, issuer: ISSUER };
    const payload = b64url(JSON.stringify({ sub: 'u', iat: SERVER_NOW_SEC, exp: SERVER_NOW_SEC + 600 }));
    const malformed = [
      'opaque-token',
      `${b64url('{}')}.${payload}`,
      `${b64url('{}')}.${payload}.sig.extra`,
      `${b64url('{}')}..sig`,
      `${b64url('{}')}.${payload}=.sig`,
      `${b64url('{}')}.${payload.slice(0, -1)}+.sig`,
      `${b64url('{}')}.${b64url('not json')}.sig`,
      `${b64url('{}')}.${b64url('[1,2]')}.sig`,
      `${b64url('{}')}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.sig`,
    ];
    for (const token of malformed) {
      expect(readStrictJwtClaims(token), token).toBeUndefined();
      expect(acceptSharedToken(sharedToken({ token }), context), token).toBeUndefined();
    }
    const badClaims: Array<Record<string, unknown>> = [
      { exp: undefined },
      { exp: String(SERVER_NOW_SEC + 600) },
      { exp: SERVER_NOW_SEC + 600.5 },
      { iat: undefined },
      { iat: SERVER_NOW_SEC + 600 },
      { sub: undefined },
      { sub: '' },
      { sub: 42 },
      { iss: 'https://evil.example' },
      { iss: 7 },
    ];
    for (const claims of badClaims)
      expect(acceptSharedToken(sharedToken({}, claims), context), JSON.stringify(claims)).toBeUndefined();
  });

  it('when signed in, adopts only the same user, with an exp where the current token puts the server clock', () => {
    const current = currentToken();
    const context = { now: NOW, issuer: ISSUER, current };
    expect(acceptSharedToken(sharedToken({}, { sub: 'someone-else' }), context)).toBeUndefined();
    // The user's own token, minted 300 s ago, dressed up as a fresh one: its exp says otherwise.
    const old = { iat: SERVER_NOW_SEC - 300, exp: SERVER_NOW_SEC + 300 };
    expect(acceptSharedToken(sharedToken({}, old), context)).toBeUndefined();
    // The same token with its honest expiry is fine.
    expect(acceptSharedToken(sharedToken({ expiresAt: NOW + 300_000 }, old), context)).toBeDefined();
    // Latency and the Date correction leave some room, not minutes.
    const late = { iat: SERVER_NOW_SEC - 50, exp: SERVER_NOW_SEC + 550 };
    expect(acceptSharedToken(sharedToken({}, late), context)).toBeDefined();
    // A current token without sub (not a JWT) adopts nobody.
    const opaque = { value: 'opaque', expiresAt: NOW + 1000, lifetimeMs: 600_000, scope: '' };
    expect(acceptSharedToken(sharedToken(), { ...context, current: opaque })).toBeUndefined();
  });

  it('the channel drops token messages whose lifetime is over an hour before anyone sees them', () => {
    const message = { v: 1, t: 'token', token: 'a.b.c', expiresAt: NOW, lifetimeMs: 3_600_001, scope: '' };
    expect(parseTabMessage(message)).toBeUndefined();
    expect(parseTabMessage({ ...message, lifetimeMs: 3_600_000 })).toMatchObject({ t: 'token' });
  });

  it('a forged expiry of the user own token is ignored, and the real refresh that follows is still adopted', async () => {
    const jar = createCookieJarFetch(server.issuer);
    const local = createFakeTime(1_000_000_000_000);
    const channelName = uniqueChannel();
    const a = openTab(server, jar, { clock: local.now, timers: local.timers, channelName });
    const b = openTab(server, jar, { clock: local.now, timers: local.timers, channelName });
    await a.client.login(await createAccount(server));
    await vi.waitFor(() => expect(b.client.state).toBe('signed-in'));
    await a.client.fetch(`${server.issuer}/api/echo`);
    const token = jar.requests.at(-1)?.headers.authorization?.slice(7) as string;
    const adopted = b.client.session();

    // 300 s later a page script re-posts the same token as if it had just been minted.
    server.h.clock.advance(300);
    local.advance(300_000);
    const hostile = new BroadcastChannel(channelName);
    hostile.postMessage({
      v: 1,
      t: 'token',
      token,
      expiresAt: local.now() + 600_000,
      lifetimeMs: 600_000,
      scope: 'openid profile',
    });
    await tick();
    hostile.close();
    expect(b.client.session()).toEqual(adopted);

    // The proactive refresh still happens at the real token's refresh point, once, and b adopts it.
    const before = server.refreshes.length;
    server.h.clock.advance(241);
    local.advance(241_000);
    await vi.waitFor(() => {
      for (const tab of [a, b]) expect(tab.events.at(-1)).toMatchObject({ type: 'refreshed' });
    });
    await tick(150);
    expect(server.refreshes.slice(before)).toEqual([200]);
    expect(b.client.session()).toEqual(a.client.session());
    expect(b.client.session()?.expiresAt).toBeGreaterThan(adopted?.expiresAt ?? Number.POSITIVE_INFINITY);
    a.client.close();
    b.client.close();
  });
});

describe('refresh storms', () => {
  it('refuses an expires_in that is not a whole number of at least 10 seconds', () => {
    const body = (expires_in: unknown) => ({ access_token: 'a.b.c', token_type: 'Bearer', expires_in, scope: '' });
    for (const bad of [0, 0.001, 9, 9.5, 10.5, -600, '600', Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])
      expect(parseTokenBody(body(bad)), String(bad)).toBeUndefined();
    expect(parseTokenBody(body(10))).toMatchObject({ expiresInSec: 10 });
    expect(parseTokenBody(body(600))).toMatchObject({ expiresInSec: 600 });
  });

  it('keeps proactive refreshes at least 5 s apart even when every answer is stale on arrival', async () => {
    expect(MIN_PROACTIVE_GAP_MS).toBe(5_000);
    const time = createFakeTime(1_700_000_000_000);
    const serverEpochMs = 1_600_000_000_000;
    let refreshes = 0;
    // A 10 s token whose exp (against the Date header) says it was minted 15 s ago: the Date
    // correction makes it expire 16 s before it arrives.
    const answer = () => {
      const date = serverEpochMs + (time.now() - 1_700_000_000_000);
      const exp = Math.floor(date / 1000) - 15 + 10;
      const access_token = jwt({ sub: 'u', sid: 's', iat: exp - 10, exp, n: refreshes });
      return new Response(JSON.stringify({ access_token, token_type: 'Bearer', expires_in: 10, scope: '' }), {
        status: 200,
        headers: { 'content-type': 'application/json', date: new Date(date).toUTCString() },
      });
    };
    // The fixture really produces a token that is stale on arrival.
    const sample = parseTokenBody(await answer().clone().json());
    const stale = createAccessToken(sample as NonNullable<typeof sample>, {
      sentAt: time.now(),
      receivedAt: time.now(),
      date: answer().headers.get('date'),
    });
    expect(stale.expiresAt).toBeLessThan(time.now());

    const client = createAuthClient({
      issuer: 'http://localhost:9',
      channelName: uniqueChannel(),
      clock: time.now,
      timers: time.timers,
      fetch: (async (input: RequestInfo | URL) => {
        if (String(input).endsWith('/auth/refresh')) refreshes += 1;
        return answer();
      }) as typeof fetch,
    });
    await client.login({ email: 'a@example.com', password: 'pw' });
    // 30 s of page life in 1 s steps (the fallback lock's claim window is real time).
    for (let i = 0; i < 30; i++) {
      time.advance(1000);
      await tick(60);
    }
    client.close();
    // One refresh per 5 s at most: 30 s make at most 6 (plus the first at once), and at least a few.
    expect(refreshes).toBeGreaterThanOrEqual(4);
    expect(refreshes).toBeLessThanOrEqual(7);
  });
});

describe('fallback lock leases', () => {
  it('believes a lock-held lease for one lease at most, however far its until', async () => {
    const name = uniqueChannel();
    const channel = openTabChannel(BroadcastChannel, name);
    const lock = createBroadcastLock(channel, { claimWindowMs: 10, leaseMs: 300 });
    const hostile = new BroadcastChannel(name);
    hostile.postMessage({ v: 1, t: 'lock-held', id: 'evil', until: Date.now() + 86_400_000 });
    await tick(20);
    const started = Date.now();
    const outcome = await Promise.race([lock.run(async () => 'ran'), tick(2_000).then(() => 'starved')]);
    expect(outcome).toBe('ran');
    const waited = Date.now() - started;
    // The message still counted, for about one lease (a real holder's lease is renewed by heartbeats).
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(300 + 75 + 250);
    lock.close();
    channel.close();
    hostile.close();
  });
});

describe('redirects onto the token endpoints', () => {
  const issuer = 'https://auth.example.com';
  const tokenAnswer = (n: number) =>
    JSON.stringify({ access_token: `tok-${n}`, token_type: 'Bearer', expires_in: 600, scope: '' });

  /** A Response as fetch returns it after following redirects to `finalUrl`. */
  function redirectedTo(finalUrl: string, body: string, status = 200): Response {
    const response = new Response(body, { status, headers: { 'content-type': 'application/json' } });
    Object.defineProperty(response, 'url', { value: finalUrl });
    Object.defineProperty(response, 'redirected', { value: true });
    return response;
  }

  it('isTokenEndpointResponse judges the final URL', () => {
    expect(isTokenEndpointResponse(redirectedTo(`${issuer}/auth/refresh`, ''), issuer)).toBe(true);
    expect(isTokenEndpointResponse(redirectedTo(`${issuer}/AUTH//login/`, ''), issuer)).toBe(true);
    expect(isTokenEndpointResponse(redirectedTo(`${issuer}/oauth/token`, ''), issuer)).toBe(true);
    expect(isTokenEndpointResponse(redirectedTo(`${issuer}/api/other`, ''), issuer)).toBe(false);
    expect(isTokenEndpointResponse(redirectedTo('https://other.example/auth/refresh', ''), issuer)).toBe(false);
    expect(isTokenEndpointResponse(new Response(''), issuer)).toBe(false);
  });

  it('memory mode: withholds a token answer reached by a redirect, on the first request and on the retry', async () => {
    let tokens = 0;
    const client = createAuthClient({
      issuer,
      channelName: uniqueChannel(),
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input, init);
        const path = new URL(request.url).pathname;
        if (path === '/auth/login' || path === '/auth/refresh')
          return new Response(tokenAnswer(++tokens), { status: 200 });
        if (path === '/api/moved') return redirectedTo(`${issuer}/auth/refresh`, tokenAnswer(++tokens));
        if (path === '/api/elsewhere') return redirectedTo(`${issuer}/api/landing`, '{"ok":true}');
        if (path === '/api/stale') {
          if (request.headers.get('authorization') === 'Bearer tok-1')
            return new Response('{}', {
              status: 401,
              headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
            });
          return redirectedTo(`${issuer}/auth/refresh`, tokenAnswer(++tokens));
        }
        return new Response('nope', { status: 404 });
      }) as typeof fetch,
    });
    await client.login({ email: 'a@example.com', password: 'pw' });
    await expect(client.fetch(`${issuer}/api/moved`, { method: 'POST' })).rejects.toMatchObject({
      name: 'AuthClientError',
      code: 'ERR_REDIRECTED_TO_TOKEN_ENDPOINT',
    });
    // A redirect to an ordinary route is followed as before.
    const ok = await client.fetch(`${issuer}/api/elsewhere`);
    expect(await ok.json()).toEqual({ ok: true });
    // The one retry after invalid_token (tok-1 refused, tok-2 redirected) is checked too.
    await expect(client.fetch(`${issuer}/api/stale`)).rejects.toMatchObject({
      code: 'ERR_REDIRECTED_TO_TOKEN_ENDPOINT',
    });
    expect(client.state).toBe('signed-in');
    client.close();
  });
});
