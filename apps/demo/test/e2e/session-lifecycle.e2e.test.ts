/**
 * The whole life of a browser session in real Chromium against the real demo server, once in
 * memory mode and once in worker mode (concurrently: both wait out a 60 s access token):
 * register, log in, call the protected API, let the access token expire, call again through
 * exactly one silent refresh, reload (the session comes back without a login form), log out
 * (the API then rejects the last token), reload (still signed out). Asserted on the network
 * traffic the browser really sent, not on what the page claims.
 */

import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, describe, type ExpectStatic, it } from 'vitest';
import { launchChromium, openContext } from './support/browser.js';
import {
  byTestId,
  callApiThroughButton,
  openDemo,
  readExp,
  readStatusEntries,
  registerAndLogin,
  sleepUntilPast,
  uniqueEmail,
  waitForSettled,
  waitForSignedOut,
} from './support/demo-page.js';
import { type DemoServer, startDemoServer } from './support/demo-server.js';
import { prepareSuite, skipE2e } from './support/prerequisites.js';
import { saveScreenshot } from './support/screenshots.js';
import { TrafficRecorder } from './support/traffic.js';

let browser: Browser;
let demo: DemoServer;
const contexts: BrowserContext[] = [];

async function newContext(options?: Parameters<typeof openContext>[1]): Promise<BrowserContext> {
  const context = await openContext(browser, options);
  contexts.push(context);
  return context;
}

/** Polls the demo API from Node with `token` until it answers `expected` (revocation is pushed, not instant). */
async function apiStatusFor(token: string, expected: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const res = await fetch(`${demo.url}/api/hello`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (res.status === expected || Date.now() > deadline) return res.status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Records whether the login form was ever visible on this page load. */
const WATCH_LOGIN_FORM = `(() => {
  window.__loginFormShown = false;
  const check = () => {
    const form = document.querySelector('[data-testid="login-form"]');
    if (form && !form.hidden && !form.closest('[hidden]')) window.__loginFormShown = true;
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
})();`;

async function runSessionStory(expect: ExpectStatic, mode: 'memory' | 'worker'): Promise<void> {
  const context = await newContext();
  const traffic = new TrafficRecorder(context);
  const page = await openDemo(context, demo.url, { mode, proactive: false });
  expect(await waitForSettled(page)).toBe('signed-out');
  await expect.poll(() => byTestId(page, 'mode').textContent()).toContain(mode);
  if (mode === 'memory') await saveScreenshot(page, 'demo-signed-out');

  const email = uniqueEmail(`story-${mode}`);
  await registerAndLogin(page, email);
  const [loginToken] = await traffic.issuedAccessTokens();
  expect(loginToken, 'the login response carried an access token').toBeTypeOf('string');
  const token = loginToken as string;

  // A protected call with the login token.
  let mark = traffic.mark();
  expect(await callApiThroughButton(page)).toBe(200);
  await traffic.settle();
  const firstCalls = traffic.since(mark, 'GET', '/api/hello');
  expect(firstCalls.map((e) => e.status)).toEqual([200]);
  expect(firstCalls[0]?.headers.authorization).toBe(`Bearer ${token}`);
  if (mode === 'memory') await saveScreenshot(page, 'demo-signed-in');

  // Past the access token's expiry (TTL 60 s, guard tolerance 0, proactive refresh off): the next
  // call goes through exactly one silent refresh.
  const loginRefreshes = traffic.countAnswered(0, 'POST', '/auth/refresh');
  await sleepUntilPast(readExp(token), 1);
  expect(traffic.countAnswered(0, 'POST', '/auth/refresh'), 'no refresh while proactive refresh is off').toBe(
    loginRefreshes,
  );
  mark = traffic.mark();
  expect(await callApiThroughButton(page)).toBe(200);
  await traffic.settle();
  const refreshes = traffic.since(mark, 'POST', '/auth/refresh');
  expect(refreshes.map((e) => e.status)).toEqual([200]);
  expect(refreshes[0]?.headers['x-tessera-csrf']).toBe('1');
  const refreshed = JSON.parse(refreshes[0]?.body ?? '{}') as { access_token?: string };
  expect(refreshed.access_token).toBeTypeOf('string');
  expect(refreshed.access_token).not.toBe(token);
  const calls = traffic.since(mark, 'GET', '/api/hello');
  const lastCall = calls.at(-1);
  expect(lastCall?.status).toBe(200);
  expect(lastCall?.headers.authorization).toBe(`Bearer ${refreshed.access_token}`);
  // The old token really is dead at the API now: the 200 came from the refreshed one.
  expect(await apiStatusFor(token, 401)).toBe(401);
  const entries = await readStatusEntries(page);
  expect(entries.some((text) => text.includes('refreshed'))).toBe(true);
  if (mode === 'memory') await saveScreenshot(page, 'demo-after-refresh');

  // Reload: the session comes back through the cookie, and the login form is never shown, not
  // even for a moment while restore() runs (an observer from the first parsed element on).
  await page.addInitScript(WATCH_LOGIN_FORM);
  mark = traffic.mark();
  await page.reload();
  expect(await waitForSettled(page)).toBe('signed-in');
  await expect.poll(() => byTestId(page, 'signed-in-as').textContent()).toContain(email);
  expect(await byTestId(page, 'login-form').isVisible()).toBe(false);
  expect(await page.evaluate(() => (window as unknown as { __loginFormShown?: boolean }).__loginFormShown)).toBe(false);
  await traffic.settle();
  expect(traffic.since(mark, 'POST', '/auth/refresh').map((e) => e.status)).toEqual([200]);
  expect(await callApiThroughButton(page)).toBe(200);
  const tokens = await traffic.issuedAccessTokens();
  const current = tokens.at(-1) as string;
  expect(await apiStatusFor(current, 200)).toBe(200);

  // Log out: the cookie session ends and the API rejects the last access token.
  mark = traffic.mark();
  await byTestId(page, 'logout').click();
  await waitForSignedOut(page);
  expect(await waitForSettled(page)).toBe('signed-out');
  await traffic.settle();
  const logout = traffic.since(mark, 'POST', '/auth/logout');
  expect(logout.map((e) => e.status)).toEqual([204]);
  expect(logout[0]?.headers['x-tessera-csrf']).toBe('1');
  expect(logout[0]?.headers.authorization, 'logout sends the bearer so its jti is denylisted').toBe(
    `Bearer ${current}`,
  );
  expect(await apiStatusFor(current, 401)).toBe(401);

  // Reload: still signed out; the restore attempt is refused by the server.
  mark = traffic.mark();
  await page.reload();
  expect(await waitForSettled(page)).toBe('signed-out');
  await traffic.settle();
  expect(traffic.since(mark, 'POST', '/auth/refresh').every((e) => e.status === 401)).toBe(true);
  expect(traffic.since(mark, 'GET', '/api/hello')).toEqual([]);
}

describe.skipIf(skipE2e)('a browser session from registration to logout', { timeout: 150_000 }, () => {
  prepareSuite(async () => {
    // The shortest allowed access token and no guard tolerance, so expiry happens within the test.
    [browser, demo] = await Promise.all([
      launchChromium(),
      startDemoServer({ config: { accessTokenTtlSec: 60 }, guardClockToleranceSec: 0 }),
    ]);
  });

  afterAll(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close();
    await demo?.close();
  });

  it.concurrent('memory mode: login, expiry, one silent refresh, restore on reload, logout', async ({ expect }) => {
    await runSessionStory(expect, 'memory');
  });

  it.concurrent('worker mode: login, expiry, one silent refresh, restore on reload, logout', async ({ expect }) => {
    await runSessionStory(expect, 'worker');
  });

  it.concurrent('the demo is usable at phone size (390x844), signed out and signed in', async ({ expect }) => {
    const context = await newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await openDemo(context, demo.url);
    expect(await waitForSettled(page)).toBe('signed-out');
    await saveScreenshot(page, 'demo-phone-signed-out');
    await registerAndLogin(page, uniqueEmail('phone'));
    expect(await callApiThroughButton(page)).toBe(200);
    // Nothing wider than the screen: no horizontal scrolling on a phone.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await saveScreenshot(page, 'demo-phone-signed-in');
  });
});
