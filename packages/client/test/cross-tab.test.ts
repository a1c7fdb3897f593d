/**
 * Tabs of one browser: two memory-mode clients in one process sharing a cookie jar and a
 * BroadcastChannel name. Node 20 has BroadcastChannel but no navigator.locks, so these also
 * exercise the fallback lock.
 */

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBroadcastLock } from '../src/broadcast-lock.js';
import { openTabChannel } from '../src/tab-channel.js';
import { createFakeTime } from './support/fake-time.js';
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

function browser(tabCount: number) {
  const jar = createCookieJarFetch(server.issuer);
  const local = createFakeTime(1_000_000_000_000);
  const channelName = uniqueChannel();
  const tabs = Array.from({ length: tabCount }, () =>
    openTab(server, jar, { clock: local.now, timers: local.timers, channelName }),
  );
  return { jar, local, tabs, channelName };
}

describe('across tabs (memory mode)', () => {
  it('a login in one tab signs in the others with the same token, without a refresh', async () => {
    expect((globalThis as { navigator?: { locks?: unknown } }).navigator?.locks).toBeUndefined();
    const { tabs } = browser(2);
    const [a, b] = tabs as [(typeof tabs)[0], (typeof tabs)[0]];
    const before = server.refreshes.length;
    const signedIn = nextEvent(b.client, 'signed-in');
    await a.client.login(await createAccount(server));
    expect(await signedIn).toEqual({ type: 'signed-in', source: 'other-tab' });
    expect(b.client.session()).toEqual(a.client.session());
    expect((await b.client.fetch(`${server.issuer}/api/echo`)).status).toBe(200);
    expect(server.refreshes.length).toBe(before);
    for (const tab of tabs) tab.client.close();
  });

  it('tabs whose timers fire together make one network refresh; the others adopt its token', async () => {
    const { local, tabs } = browser(3);
    const [a] = tabs as [(typeof tabs)[0]];
    await a.client.login(await createAccount(server));
    for (const tab of tabs) await vi.waitFor(() => expect(tab.client.state).toBe('signed-in'));
    const before = server.refreshes.length;
    server.h.clock.advance(541);
    local.advance(541_000); // every tab's proactive timer fires now
    await vi.waitFor(() => {
      for (const tab of tabs) expect(tab.events.at(-1)).toMatchObject({ type: 'refreshed' });
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.refreshes.slice(before)).toEqual([200]);
    const triggers = tabs.map((t) => t.events.at(-1)?.trigger).sort();
    expect(triggers).toEqual(['other-tab', 'other-tab', 'proactive']);
    const sessions = tabs.map((t) => t.client.session());
    expect(sessions[1]).toEqual(sessions[0]);
    expect(sessions[2]).toEqual(sessions[0]);
    for (const tab of tabs) tab.client.close();
  });

  it('a reloaded tab restores through the cookie while another is signed in: a normal rotation, no reuse', async () => {
    const { jar, local, tabs, channelName } = browser(1);
    const [a] = tabs as [(typeof tabs)[0]];
    await a.client.login(await createAccount(server));
    server.h.clock.advance(5);
    local.advance(5000);
    const reloaded = openTab(server, jar, { clock: local.now, timers: local.timers, channelName });
    const adopted = nextEvent(a.client, 'refreshed');
    await expect(reloaded.client.restore()).resolves.toBe(true);
    expect(await adopted).toMatchObject({ trigger: 'other-tab' });
    expect(a.client.session()).toEqual(reloaded.client.session());
    server.h.clock.advance(541);
    local.advance(541_000);
    await vi.waitFor(() => expect(a.events.filter((e) => e.type === 'refreshed')).toHaveLength(2));
    await vi.waitFor(() => expect(reloaded.events.filter((e) => e.type === 'refreshed')).toHaveLength(1));
    expect(a.client.state).toBe('signed-in');
    expect(reloaded.client.state).toBe('signed-in');
    expect(server.refreshes.slice(-2)).toEqual([200, 200]);
    a.client.close();
    reloaded.client.close();
  });

  it('logout in one tab signs out every tab', async () => {
    const { tabs } = browser(2);
    const [a, b] = tabs as [(typeof tabs)[0], (typeof tabs)[0]];
    await a.client.login(await createAccount(server));
    await vi.waitFor(() => expect(b.client.state).toBe('signed-in'));
    const signedOut = nextEvent(b.client, 'signed-out');
    await a.client.logout();
    expect(await signedOut).toEqual({ type: 'signed-out', source: 'other-tab' });
    expect(b.client.state).toBe('signed-out');
    expect(b.client.session()).toBeUndefined();
    for (const tab of tabs) tab.client.close();
  });

  it('ignores malformed or foreign messages on the channel', async () => {
    const { tabs, channelName } = browser(1);
    const [a] = tabs as [(typeof tabs)[0]];
    await a.client.login(await createAccount(server));
    const intruder = new BroadcastChannel(channelName);
    intruder.postMessage({ v: 1, t: 'signed-out', reason: 'because' });
    intruder.postMessage({ v: 2, t: 'signed-out', reason: 'logout' });
    intruder.postMessage({ t: 'token', token: 'x' });
    intruder.postMessage('signed-out');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(a.client.state).toBe('signed-in');
    intruder.close();
    a.client.close();
  });
});

describe('fallback lock over BroadcastChannel', () => {
  it('lets one holder at a time run, across participants', async () => {
    const name = uniqueChannel();
    const channels = [0, 1, 2].map(() => openTabChannel(BroadcastChannel, name));
    const locks = channels.map((c) => createBroadcastLock(c, { claimWindowMs: 20, leaseMs: 1000 }));
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      locks.flatMap((lock, i) =>
        [0, 1].map(() =>
          lock.run(async () => {
            inside += 1;
            maxInside = Math.max(maxInside, inside);
            order.push(i);
            await new Promise((resolve) => setTimeout(resolve, 15));
            inside -= 1;
          }),
        ),
      ),
    );
    expect(maxInside).toBe(1);
    expect(order).toHaveLength(6);
    for (const lock of locks) lock.close();
    for (const channel of channels) channel.close();
  });

  it('a holder that vanished without releasing blocks the others for one lease at most', async () => {
    const name = uniqueChannel();
    const ghost = new BroadcastChannel(name);
    const channel = openTabChannel(BroadcastChannel, name);
    const lock = createBroadcastLock(channel, { claimWindowMs: 20, leaseMs: 300 });
    // A tab announced it holds the lock and then was closed (no release ever comes).
    ghost.postMessage({ v: 1, t: 'lock-held', id: 'ghost', until: Date.now() + 300 });
    ghost.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await lock.run(async () => undefined);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(1500);
    lock.close();
    channel.close();
  });

  it('rejects waiting and later tasks with ERR_CLIENT_CLOSED once closed', async () => {
    const name = uniqueChannel();
    const channel = openTabChannel(BroadcastChannel, name);
    const lock = createBroadcastLock(channel, { claimWindowMs: 10 });
    lock.close();
    await expect(lock.run(async () => 1)).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' });
    channel.close();
  });
});
