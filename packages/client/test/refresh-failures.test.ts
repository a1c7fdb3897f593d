/** When refresh fails: invalid_grant ends the session once, network trouble backs off and keeps it, reuse is reported. */

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { refreshWith } from '../../server/test/support/harness.js';
import { computeBackoffDelay, parseRetryAfter } from '../src/backoff.js';
import { createFakeTime } from './support/fake-time.js';
import {
  createAccount,
  createCookieJarFetch,
  nextEvent,
  openTab,
  startTestAuthServer,
  type TestAuthServer,
} from './support/servers.js';

let server: TestAuthServer;

beforeAll(async () => {
  server = await startTestAuthServer();
});
afterAll(async () => {
  await server?.close();
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 150));
const isRefresh = (request: Request) => new URL(request.url).pathname === '/auth/refresh';

async function expiredTabs(count: number, options: Parameters<typeof openTab>[2] = {}) {
  const jar = createCookieJarFetch(server.issuer);
  const local = createFakeTime(1_000_000_000_000);
  const channelName = `failures-${Math.random()}`;
  const tabs = Array.from({ length: count }, () =>
    openTab(server, jar, { clock: local.now, timers: local.timers, channelName, ...options }),
  );
  const first = tabs[0];
  if (first === undefined) throw new Error('no tab');
  await first.client.login(await createAccount(server));
  for (const tab of tabs.slice(1)) await vi.waitFor(() => expect(tab.client.state).toBe('signed-in'));
  return { jar, local, tabs, first };
}

describe('invalid_grant', () => {
  it('a revoked session ends cleanly: one session-expired event, every tab told, no more refreshes', async () => {
    const { jar, local, tabs, first } = await expiredTabs(2);
    const other = tabs[1];
    const me = await first.client.getUser();
    const bearer = jar.requests.find((r) => r.url.endsWith('/auth/whoami'))?.headers.authorization ?? '';
    // Another device ends this session (DELETE /auth/sessions/:id).
    const sid = first.client.session()?.sid;
    const del = await server.h.server.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${sid}`,
      headers: { authorization: bearer },
    });
    expect(del.statusCode).toBe(204);
    expect(me.user.id).toBe(first.client.session()?.sub);

    const before = server.refreshes.length;
    const otherTold = nextEvent(other?.client ?? first.client, 'session-expired');
    server.h.clock.advance(541);
    local.advance(541_000);
    await vi.waitFor(() => expect(first.client.state).toBe('signed-out'));
    expect(server.refreshes.slice(before)).toEqual([401]);
    expect(first.events.at(-1)).toEqual({ type: 'session-expired', code: 'ERR_REFRESH_REVOKED' });
    expect(await otherTold).toEqual({ type: 'session-expired', code: 'ERR_REFRESH_REVOKED' });
    expect(other?.client.state).toBe('signed-out');
    expect(first.client.session()).toBeUndefined();

    server.h.clock.advance(7200);
    local.advance(7_200_000);
    await settle();
    expect(server.refreshes.length).toBe(before + 1);
    expect(first.events.filter((e) => e.type === 'session-expired')).toHaveLength(1);
    await expect(first.client.fetch(`${server.issuer}/api/echo`)).rejects.toMatchObject({
      code: 'ERR_NOT_SIGNED_IN',
    });
    for (const tab of tabs) tab.client.close();
  });

  it('an idle-expired session reports its code through restore() = false', async () => {
    const jar = createCookieJarFetch(server.issuer);
    const tab = openTab(server, jar);
    await tab.client.login(await createAccount(server));
    tab.client.close();
    server.h.clock.advance(15 * 86_400);
    const reloaded = openTab(server, jar);
    await expect(reloaded.client.restore()).resolves.toBe(false);
    expect(reloaded.client.state).toBe('signed-out');
    expect(server.refreshes.at(-1)).toBe(401);
    reloaded.client.close();
  });

  it('reuse of a rotated refresh token is reported as reuse-detected and ends the session everywhere', async () => {
    const { jar, local, tabs, first } = await expiredTabs(2);
    // Malware copied the cookie and rotated it elsewhere; this browser still holds the old one.
    const stolen = jar.cookie('__Secure-tessera_rt') ?? '';
    const rotated = await refreshWith(server.h, stolen);
    expect(rotated.statusCode).toBe(200);
    const otherTold = nextEvent(tabs[1]?.client ?? first.client, 'reuse-detected');
    // Past the 10 s grace window, and past this tab's token expiry, so its next request refreshes.
    server.h.clock.advance(601);
    local.jump(601_000);
    await expect(first.client.fetch(`${server.issuer}/api/echo`)).rejects.toMatchObject({
      code: 'ERR_REFRESH_REUSED',
    });
    expect(first.events.at(-1)).toEqual({ type: 'reuse-detected', code: 'ERR_REFRESH_REUSED' });
    expect(await otherTold).toEqual({ type: 'reuse-detected', code: 'ERR_REFRESH_REUSED' });
    expect(first.client.state).toBe('signed-out');
    for (const tab of tabs) tab.client.close();
  });
});

describe('network trouble', () => {
  it('backs off with jitter on network errors and keeps the session, then succeeds', async () => {
    const { jar, local, first } = await expiredTabs(1, { retry: { baseDelayMs: 4, maxDelayMs: 50, maxAttempts: 5 } });
    let failures = 2;
    jar.interceptors.push((request) => {
      if (isRefresh(request) && failures > 0) {
        failures -= 1;
        throw new TypeError('fetch failed');
      }
      return undefined;
    });
    server.h.clock.advance(601);
    local.jump(601_000);
    // Backoff sleeps run on the injected timers: release them as they are scheduled.
    const pump = setInterval(() => local.advance(100), 5);
    const res = await first.client.fetch(`${server.issuer}/api/echo`);
    clearInterval(pump);
    expect(res.status).toBe(200);
    const failed = first.events.filter((e) => e.type === 'refresh-failed');
    expect(failed.map((e) => e.error)).toEqual(['ERR_NETWORK', 'ERR_NETWORK']);
    const [one, two] = failed.map((e) => e.retryInMs as number);
    expect(one).toBeGreaterThanOrEqual(2);
    expect(one).toBeLessThanOrEqual(4);
    expect(two).toBeGreaterThanOrEqual(4);
    expect(two).toBeLessThanOrEqual(8);
    expect(first.events.at(-1)).toMatchObject({ type: 'refreshed', trigger: 'expired' });
    expect(first.client.state).toBe('signed-in');
    first.client.close();
  });

  it('gives the caller ERR_NETWORK after the attempt budget but keeps the session for later', async () => {
    const { jar, local, first } = await expiredTabs(1, {
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 },
      proactiveRefresh: false,
    });
    let offline = true;
    jar.interceptors.push((request) => {
      if (offline && isRefresh(request)) throw new TypeError('fetch failed');
      return undefined;
    });
    server.h.clock.advance(601);
    local.jump(601_000);
    const pump = setInterval(() => local.advance(10), 2);
    await expect(first.client.fetch(`${server.issuer}/api/echo`)).rejects.toMatchObject({ code: 'ERR_NETWORK' });
    clearInterval(pump);
    expect(first.events.filter((e) => e.type === 'refresh-failed')).toHaveLength(3);
    expect(first.client.state).toBe('signed-in');
    expect(first.client.session()).toBeDefined();
    offline = false;
    expect((await first.client.fetch(`${server.issuer}/api/echo`)).status).toBe(200);
    first.client.close();
  });

  it('cuts a backoff wait short when the browser says it is online again', async () => {
    const win = new EventTarget();
    vi.stubGlobal('addEventListener', win.addEventListener.bind(win));
    vi.stubGlobal('removeEventListener', win.removeEventListener.bind(win));
    const { jar, local, first } = await expiredTabs(1, {
      retry: { baseDelayMs: 600_000, maxDelayMs: 600_000, maxAttempts: 3 },
    });
    let offline = true;
    jar.interceptors.push((request) => {
      if (offline && isRefresh(request)) throw new TypeError('fetch failed');
      return undefined;
    });
    server.h.clock.advance(601);
    local.jump(601_000);
    const pending = first.client.fetch(`${server.issuer}/api/echo`);
    await vi.waitFor(() => expect(first.events.some((e) => e.type === 'refresh-failed')).toBe(true));
    offline = false;
    win.dispatchEvent(new Event('online'));
    expect((await pending).status).toBe(200);
    first.client.close();
    vi.unstubAllGlobals();
  });

  it('retries a 503 like a network error', async () => {
    const { jar, local, first } = await expiredTabs(1, { retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 } });
    let outages = 1;
    jar.interceptors.push((request) => {
      if (!isRefresh(request) || outages === 0) return undefined;
      outages -= 1;
      return new Response(JSON.stringify({ error: 'temporarily_unavailable', code: 'ERR_UNAVAILABLE' }), {
        status: 503,
        headers: { 'content-type': 'application/json' },
      });
    });
    server.h.clock.advance(601);
    local.jump(601_000);
    const pump = setInterval(() => local.advance(10), 2);
    expect((await first.client.fetch(`${server.issuer}/api/echo`)).status).toBe(200);
    clearInterval(pump);
    expect(first.events.find((e) => e.type === 'refresh-failed')).toMatchObject({ error: 'ERR_UNAVAILABLE' });
    first.client.close();
  });

  it('honours Retry-After on a 429', async () => {
    const { jar, local, first } = await expiredTabs(1, { retry: { baseDelayMs: 10, maxDelayMs: 100, maxAttempts: 3 } });
    let limited = true;
    jar.interceptors.push((request) => {
      if (!isRefresh(request) || !limited) return undefined;
      limited = false;
      return new Response(JSON.stringify({ error: 'slow_down', code: 'ERR_RATE_LIMITED' }), {
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': '7' },
      });
    });
    server.h.clock.advance(601);
    local.jump(601_000);
    const pending = first.client.fetch(`${server.issuer}/api/echo`);
    await vi.waitFor(() => expect(first.events.some((e) => e.type === 'refresh-failed')).toBe(true));
    expect(first.events.find((e) => e.type === 'refresh-failed')).toEqual({
      type: 'refresh-failed',
      error: 'ERR_RATE_LIMITED',
      retryInMs: 7000,
    });
    const attempts = () => jar.requests.filter((r) => r.url.endsWith('/auth/refresh')).length;
    const sent = attempts();
    local.advance(6_900);
    await settle();
    expect(attempts()).toBe(sent);
    local.advance(100);
    expect((await pending).status).toBe(200);
    expect(attempts()).toBe(sent + 1);
    first.client.close();
  });
});

describe('backoff arithmetic', () => {
  it('doubles from the base up to the cap, with up to half of it random', () => {
    expect(computeBackoffDelay(1, 500, 30_000, () => 0)).toBe(250);
    expect(computeBackoffDelay(1, 500, 30_000, () => 1)).toBe(500);
    expect(computeBackoffDelay(4, 500, 30_000, () => 1)).toBe(4000);
    expect(computeBackoffDelay(20, 500, 30_000, () => 1)).toBe(30_000);
  });

  it('reads Retry-After as seconds or an HTTP date, bounded', () => {
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter('99999999', 0)).toBe(3_600_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});
