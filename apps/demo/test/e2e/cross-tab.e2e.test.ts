/**
 * Several tabs of one browser profile against the real demo server: two tabs refreshing at the
 * same moment share ONE network refresh (Web Locks + the broadcast token) and never trip reuse
 * detection; a logout in one tab signs the other out; and a refresh token stolen from the
 * cookie jar and replayed after the victim rotated it is detected as reuse, which ends the
 * victim's session at its next refresh.
 */

import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, describe, it } from 'vitest';
import { launchChromium, openContext } from './support/browser.js';
import {
  byTestId,
  callApiThroughButton,
  openDemo,
  readStatusEntries,
  registerAndLogin,
  uniqueEmail,
  waitForSettled,
  waitForSignedOut,
} from './support/demo-page.js';
import { type DemoServer, startDemoServer } from './support/demo-server.js';
import { prepareSuite, skipE2e } from './support/prerequisites.js';
import { TrafficRecorder } from './support/traffic.js';

const REFRESH_COOKIE = '__Secure-tessera_rt';
/** The server's default `refreshGraceSec`: within it a replay gets the same answer, by design. */
const GRACE_SEC = 10;

let browser: Browser;
let demo: DemoServer;
const contexts: BrowserContext[] = [];

async function newContext(): Promise<BrowserContext> {
  const context = await openContext(browser);
  contexts.push(context);
  return context;
}

async function readRefreshCookie(context: BrowserContext): Promise<string | undefined> {
  const cookies = await context.cookies(`${demo.url}/auth/refresh`);
  return cookies.find((c) => c.name === REFRESH_COOKIE)?.value;
}

function readClaim(token: string, name: string): unknown {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  return (payload as Record<string, unknown>)[name];
}

describe.skipIf(skipE2e)('tabs of one browser', { timeout: 120_000 }, () => {
  prepareSuite(async () => {
    // 60 s access tokens: the proactive refresh (at most half the lifetime before expiry) fires
    // about 30 s after a token was issued, in every tab holding that token.
    [browser, demo] = await Promise.all([launchChromium(), startDemoServer({ config: { accessTokenTtlSec: 60 } })]);
  });

  afterAll(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close();
    await demo?.close();
  });

  it.concurrent('two tabs refreshing at the same moment send one refresh and both keep working', async ({ expect }) => {
    const context = await newContext();
    const traffic = new TrafficRecorder(context);
    const first = await openDemo(context, demo.url);
    await registerAndLogin(first, uniqueEmail('two-tabs'));
    const second = await openDemo(context, demo.url);
    expect(await waitForSettled(second)).toBe('signed-in');
    await traffic.settle();

    // Both tabs now hold a token (adopted or restored); their proactive timers come due at
    // about the same moment. Exactly one of them may go to the network.
    const mark = traffic.mark();
    const refreshed = await context.waitForEvent('response', {
      predicate: (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/auth/refresh',
      timeout: 45_000,
    });
    expect(refreshed.status()).toBe(200);
    // Give the other tab time to have refreshed too, had it not adopted the shared token.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await traffic.settle();
    expect(traffic.since(mark, 'POST', '/auth/refresh').map((e) => e.status)).toEqual([200]);
    const newToken = (JSON.parse((await refreshed.text()) || '{}') as { access_token?: string }).access_token;
    expect(newToken).toBeTypeOf('string');

    // Both tabs keep working, with the one refreshed token, without refreshing again.
    const apiMark = traffic.mark();
    expect(await Promise.all([callApiThroughButton(first), callApiThroughButton(second)])).toEqual([200, 200]);
    await traffic.settle();
    const calls = traffic.since(apiMark, 'GET', '/api/hello');
    expect(calls.map((e) => e.status)).toEqual([200, 200]);
    expect(calls.map((e) => e.headers.authorization)).toEqual([`Bearer ${newToken}`, `Bearer ${newToken}`]);
    expect(traffic.since(apiMark, 'POST', '/auth/refresh')).toEqual([]);

    // No reuse detection anywhere: no such event, and the session is still listed.
    for (const page of [first, second]) {
      const entries = await readStatusEntries(page);
      expect(entries.some((text) => /reuse/i.test(text))).toBe(false);
      expect(entries.some((text) => /session-expired/i.test(text))).toBe(false);
    }
    const listed = first.waitForResponse(
      (r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/auth/sessions',
    );
    await byTestId(first, 'sessions-refresh').click();
    const response = await listed;
    expect(response.status()).toBe(200);
    const { sessions } = (await response.json()) as { sessions: { id: string }[] };
    expect(sessions.map((session) => session.id)).toContain(readClaim(newToken as string, 'sid'));
    await expect.poll(() => first.locator('[data-testid="session-row"][data-current="true"]').count()).toBe(1);
  });

  it.concurrent('a logout in one tab signs the other tab out', async ({ expect }) => {
    const context = await newContext();
    const traffic = new TrafficRecorder(context);
    const first = await openDemo(context, demo.url);
    await registerAndLogin(first, uniqueEmail('cross-logout'));
    const second = await openDemo(context, demo.url);
    expect(await waitForSettled(second)).toBe('signed-in');
    expect(await callApiThroughButton(second)).toBe(200);

    const mark = traffic.mark();
    await byTestId(first, 'logout').click();
    await waitForSignedOut(first);
    await waitForSignedOut(second);
    await traffic.settle();
    // One logout request for the whole browser; the other tab learned it from the broadcast.
    expect(traffic.since(mark, 'POST', '/auth/logout').map((e) => e.status)).toEqual([204]);
    expect(await readRefreshCookie(context)).toBeUndefined();
    // The signed-out tab does not come back on reload.
    await second.reload();
    expect(await waitForSettled(second)).toBe('signed-out');
  });

  it.concurrent('a stolen refresh token replayed after rotation revokes the family; the victim is signed out', async ({
    expect,
  }) => {
    const context = await newContext();
    const traffic = new TrafficRecorder(context);
    const victim = await openDemo(context, demo.url);
    await registerAndLogin(victim, uniqueEmail('stolen'));
    const stolen = await readRefreshCookie(context);
    expect(stolen, 'the login set the refresh cookie').toBeTypeOf('string');
    // A page script cannot read it: HttpOnly.
    expect(await victim.evaluate(() => document.cookie)).not.toContain(stolen as string);

    // The victim rotates it (a reload restores through the cookie).
    let mark = traffic.mark();
    await victim.reload();
    expect(await waitForSettled(victim)).toBe('signed-in');
    await traffic.settle();
    expect(traffic.since(mark, 'POST', '/auth/refresh').map((e) => e.status)).toEqual([200]);
    const rotated = await readRefreshCookie(context);
    expect(rotated).toBeTypeOf('string');
    expect(rotated).not.toBe(stolen);

    // The thief replays the old value from another client once the grace window is over.
    await new Promise((resolve) => setTimeout(resolve, (GRACE_SEC + 1) * 1000));
    const replay = await fetch(`${demo.url}/auth/refresh`, {
      method: 'POST',
      headers: {
        origin: demo.url,
        'x-tessera-csrf': '1',
        'content-type': 'application/json',
        cookie: `${REFRESH_COOKIE}=${stolen}`,
      },
      body: '{}',
    });
    const answer = (await replay.json()) as { error?: string; code?: string; access_token?: string };
    expect(replay.status).toBe(401);
    expect(answer).toMatchObject({ error: 'invalid_grant', code: 'ERR_REFRESH_REUSED' });
    expect(answer.access_token).toBeUndefined();

    // The victim's next refresh (its access token is revoked with the family, so the API call
    // is refused and the SDK refreshes) ends the session cleanly.
    mark = traffic.mark();
    await byTestId(victim, 'call-api').click();
    await waitForSignedOut(victim);
    await traffic.settle();
    const refreshes = traffic.since(mark, 'POST', '/auth/refresh');
    expect(refreshes.map((e) => e.status)).toEqual([401]);
    const code = (JSON.parse(refreshes[0]?.body ?? '{}') as { code?: string }).code;
    expect(['ERR_REFRESH_REVOKED', 'ERR_REFRESH_REUSED']).toContain(code);
    const entries = await readStatusEntries(victim);
    expect(entries.some((text) => /session-expired|reuse-detected/.test(text))).toBe(true);
    // No retry loop: nothing more is sent after the session ended.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(traffic.since(mark, 'POST', '/auth/refresh')).toHaveLength(1);
  });
});
