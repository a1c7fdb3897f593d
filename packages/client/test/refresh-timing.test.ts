/** Proactive refresh: when it fires, with a local clock far from the server's, short tokens, sleeping tabs. */

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAccessToken, refreshDueAt } from '../src/access-token.js';
import { MAX_TIMER_MS } from '../src/auth-engine.js';
import { createFakeTime } from './support/fake-time.js';
import {
  createAccount,
  createCookieJarFetch,
  openTab,
  startTestAuthServer,
  type TestAuthServer,
} from './support/servers.js';

let server: TestAuthServer;
let shortServer: TestAuthServer;

beforeAll(async () => {
  server = await startTestAuthServer();
  shortServer = await startTestAuthServer({ accessTokenTtlSec: 60 });
});
afterAll(async () => {
  await server?.close();
  await shortServer?.close();
});
afterEach(() => {
  vi.unstubAllGlobals();
});

/** Waits until `check` passes, giving real HTTP round trips time to finish. */
async function eventually(check: () => void): Promise<void> {
  await vi.waitFor(check, { timeout: 5000, interval: 5 });
}

/** Lets in-flight HTTP round trips finish when nothing should change. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe('proactive refresh', () => {
  it('refreshes leeway seconds before expiry on a local clock 7 minutes behind the server, and not again', async () => {
    // The server's clock says 2030; this laptop's clock is years and 7 minutes away from it.
    const local = createFakeTime((server.h.clock() - 420) * 1000 - 123_456_000_000);
    const tab = openTab(server, createCookieJarFetch(server.issuer), { clock: local.now, timers: local.timers });
    const loginAt = local.now();
    await tab.client.login(await createAccount(server));
    expect(tab.client.session()?.expiresAt).toBe(loginAt + 600_000);
    const before = server.refreshes.length;

    const step = (sec: number) => {
      server.h.clock.advance(sec);
      local.advance(sec * 1000);
    };
    step(539);
    await settle();
    expect(server.refreshes.length).toBe(before);
    step(2);
    await eventually(() => expect(server.refreshes.length).toBe(before + 1));
    await eventually(() => expect(tab.events.at(-1)).toMatchObject({ type: 'refreshed', trigger: 'proactive' }));
    expect(tab.client.session()?.expiresAt).toBeGreaterThanOrEqual(loginAt + 541_000 + 600_000);
    step(120);
    await settle();
    expect(server.refreshes.length).toBe(before + 1);
    // Long waits are chopped into short timers that re-read the clock.
    expect(Math.max(...local.scheduled)).toBeLessThanOrEqual(MAX_TIMER_MS);
    tab.client.close();
  });

  it('clamps the leeway to half the lifetime: a 60 s token refreshes after 30 s, not in a loop', async () => {
    const local = createFakeTime(1_000_000_000_000);
    const tab = openTab(shortServer, createCookieJarFetch(shortServer.issuer), {
      clock: local.now,
      timers: local.timers,
      refreshLeewaySec: 60,
    });
    await tab.client.login(await createAccount(shortServer));
    const before = shortServer.refreshes.length;
    const step = (sec: number) => {
      shortServer.h.clock.advance(sec);
      local.advance(sec * 1000);
    };
    step(29);
    await settle();
    expect(shortServer.refreshes.length).toBe(before);
    step(2);
    await eventually(() => expect(shortServer.refreshes.length).toBe(before + 1));
    step(10);
    await settle();
    expect(shortServer.refreshes.length).toBe(before + 1);
    tab.client.close();
  });

  it('re-checks when the tab becomes visible or the network returns, even if no timer ran', async () => {
    const doc = Object.assign(new EventTarget(), { visibilityState: 'hidden' });
    const win = new EventTarget();
    vi.stubGlobal('document', doc);
    vi.stubGlobal('addEventListener', win.addEventListener.bind(win));
    vi.stubGlobal('removeEventListener', win.removeEventListener.bind(win));
    const local = createFakeTime(1_000_000_000_000);
    const tab = openTab(server, createCookieJarFetch(server.issuer), { clock: local.now, timers: local.timers });
    await tab.client.login(await createAccount(server));
    const before = server.refreshes.length;

    // The laptop slept for 20 minutes: no timer fired, the token expired meanwhile.
    server.h.clock.advance(1200);
    local.jump(1_200_000);
    doc.dispatchEvent(new Event('visibilitychange')); // still hidden: nothing
    await settle();
    expect(server.refreshes.length).toBe(before);
    doc.visibilityState = 'visible';
    doc.dispatchEvent(new Event('visibilitychange'));
    await eventually(() => expect(server.refreshes.length).toBe(before + 1));
    await eventually(() => expect(tab.client.session()?.expiresAt).toBe(local.now() + 600_000));

    server.h.clock.advance(1200);
    local.jump(1_200_000);
    win.dispatchEvent(new Event('online'));
    await eventually(() => expect(server.refreshes.length).toBe(before + 2));
    tab.client.close();
  });

  it('does nothing in the background when proactiveRefresh is false', async () => {
    const local = createFakeTime(1_000_000_000_000);
    const tab = openTab(server, createCookieJarFetch(server.issuer), {
      clock: local.now,
      timers: local.timers,
      proactiveRefresh: false,
    });
    await tab.client.login(await createAccount(server));
    const before = server.refreshes.length;
    server.h.clock.advance(3600);
    local.advance(3_600_000);
    await settle();
    expect(server.refreshes.length).toBe(before);
    expect(local.pending()).toEqual([]);
    tab.client.close();
  });
});

describe('expiry on the local clock', () => {
  const jwt = (claims: Record<string, unknown>) =>
    `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

  it('takes expires_in from when the request was sent, whatever the local clock says', () => {
    const token = createAccessToken(
      { accessToken: jwt({ exp: 2_000_000_600, sub: 'u', sid: 's' }), expiresInSec: 600, scope: 'a' },
      { sentAt: 5_000, receivedAt: 5_200, date: null },
    );
    expect(token).toMatchObject({ expiresAt: 605_000, lifetimeMs: 600_000, sub: 'u', sid: 's', scope: 'a' });
  });

  it('shortens the expiry by what Date and exp say was already used (a grace-window replay)', () => {
    // Minted 8 s before this answer: exp is 592 s after the server's Date, expires_in still says 600.
    const date = new Date(2_000_000_008_000).toUTCString();
    const token = createAccessToken(
      { accessToken: jwt({ exp: 2_000_000_600 }), expiresInSec: 600, scope: '' },
      { sentAt: 10_000, receivedAt: 10_100, date },
    );
    expect(token.expiresAt).toBe(10_100 + 591_000);
  });

  it('ignores Date when it disagrees by more than a replay could explain (a server clock far off)', () => {
    const date = new Date(1_000_000_000_000).toUTCString();
    for (const exp of [2_000_000_600, 1_000_000_100]) {
      const token = createAccessToken(
        { accessToken: jwt({ exp }), expiresInSec: 600, scope: '' },
        { sentAt: 10_000, receivedAt: 10_100, date },
      );
      expect(token.expiresAt).toBe(610_000);
    }
  });

  it('refreshes leeway seconds early, at most half the lifetime early', () => {
    const base = { value: 'x', scope: '', expiresAt: 1_000_000 };
    expect(refreshDueAt({ ...base, lifetimeMs: 600_000 }, 60)).toBe(940_000);
    expect(refreshDueAt({ ...base, lifetimeMs: 60_000 }, 60)).toBe(970_000);
    expect(refreshDueAt({ ...base, lifetimeMs: 600_000 }, 0)).toBe(1_000_000);
  });
});
