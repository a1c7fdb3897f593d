/**
 * The JWT decoder page in Chromium: decoding and verifying against a pasted JWKS send NOTHING
 * over the network (watched from the moment the page finished loading); the warnings for
 * unsigned, never-expiring, long-lived and personal-data tokens are shown; and "use this
 * server's JWKS" costs exactly one request, to /.well-known/jwks.json.
 */

import { createJwks, generateKey, signAccessToken } from '@tessera/core';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, describe, it } from 'vitest';
import { launchChromium, openContext } from './support/browser.js';
import { byTestId, PASSWORD, uniqueEmail } from './support/demo-page.js';
import { type DemoServer, startDemoServer } from './support/demo-server.js';
import { prepareSuite, skipE2e } from './support/prerequisites.js';
import { saveScreenshot } from './support/screenshots.js';

let browser: Browser;
let demo: DemoServer;
const contexts: BrowserContext[] = [];

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A token with an arbitrary header and payload and a meaningless signature. */
function craftToken(header: Record<string, unknown>, payload: Record<string, unknown>, signature = 'c2lnbmF0dXJl') {
  return `${encodeSegment(header)}.${encodeSegment(payload)}.${signature}`;
}

/** Opens the decoder, waits until the page and everything it loads is done, then watches the network. */
async function openDecoder(): Promise<{ page: Page; requests: Request[] }> {
  const context = await openContext(browser);
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${demo.url}/decoder`, { waitUntil: 'networkidle' });
  const requests: Request[] = [];
  page.on('request', (request) => requests.push(request));
  return { page, requests };
}

async function warningsOf(page: Page): Promise<string[]> {
  return byTestId(page, 'decoder-warnings').locator('[data-testid="decoder-warning"]').allTextContents();
}

async function pasteToken(page: Page, token: string): Promise<void> {
  await byTestId(page, 'decoder-input').fill(token);
}

async function verifyWithPastedJwks(page: Page, jwks: string): Promise<string> {
  await byTestId(page, 'decoder-jwks-input').fill(jwks);
  await byTestId(page, 'decoder-signature').evaluate((el) => {
    el.textContent = '';
  });
  await byTestId(page, 'decoder-verify').click();
  await page.waitForFunction(
    () => (document.querySelector('[data-testid="decoder-signature"]')?.textContent ?? '').trim() !== '',
  );
  return ((await byTestId(page, 'decoder-signature').textContent()) ?? '').trim();
}

describe.skipIf(skipE2e)('the JWT decoder page', { timeout: 60_000 }, () => {
  prepareSuite(async () => {
    [browser, demo] = await Promise.all([launchChromium(), startDemoServer()]);
  });

  afterAll(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close();
    await demo?.close();
  });

  it.concurrent('decodes and verifies a pasted token against a pasted JWKS without any network request', async ({
    expect,
  }) => {
    const key = await generateKey('ES256');
    const other = await generateKey('ES256');
    const { token, claims } = signAccessToken({ sub: 'usr_decoder', scope: 'openid' }, key, {
      issuer: 'https://issuer.example',
      audience: 'tessera-api',
      ttlSec: 300,
    });
    const { page, requests } = await openDecoder();

    await pasteToken(page, token);
    await expect.poll(() => byTestId(page, 'decoder-header').textContent()).toContain('ES256');
    const shownClaims = JSON.parse((await byTestId(page, 'decoder-claims').textContent()) ?? '{}');
    expect(shownClaims).toEqual(JSON.parse(JSON.stringify(claims)));
    await expect.poll(() => byTestId(page, 'decoder-times').textContent()).toMatch(/in [45] min/);
    expect(await warningsOf(page)).toEqual([]);

    expect(await verifyWithPastedJwks(page, JSON.stringify(createJwks([key])))).toMatch(/^valid/i);
    // The same token against somebody else's key set, and a tampered token against the right one.
    expect(await verifyWithPastedJwks(page, JSON.stringify(createJwks([other])))).not.toMatch(/^valid/i);
    const [h, , s] = token.split('.');
    await pasteToken(page, `${h}.${encodeSegment({ ...claims, scope: 'admin' })}.${s}`);
    expect(await verifyWithPastedJwks(page, JSON.stringify(createJwks([key])))).toMatch(/^invalid/i);

    expect(requests.map((r) => `${r.method()} ${r.url()}`)).toEqual([]);
  });

  it.concurrent('warns about alg none, a missing exp, a long lifetime and personal claims', async ({ expect }) => {
    const now = Math.floor(Date.now() / 1000);
    const { page, requests } = await openDecoder();

    await pasteToken(page, craftToken({ alg: 'nOnE', typ: 'JWT' }, { sub: 'x', iat: now, exp: now + 60 }, ''));
    await expect.poll(() => warningsOf(page)).toContainEqual(expect.stringMatching(/nOnE|unsigned/));

    await pasteToken(page, craftToken({ alg: 'ES256', kid: 'k1' }, { sub: 'x', iat: now }));
    await expect.poll(() => warningsOf(page)).toContainEqual(expect.stringMatching(/no exp/i));

    await pasteToken(page, craftToken({ alg: 'ES256', kid: 'k1' }, { sub: 'x', iat: now, exp: now + 86_400 }));
    await expect.poll(() => warningsOf(page)).toContainEqual(expect.stringMatching(/lifetime/i));

    // Everything at once, for the screenshot.
    await pasteToken(
      page,
      craftToken(
        { alg: 'none' },
        { sub: 'x', iat: now, exp: now + 7 * 86_400, email: 'a@example.com', phone_number: '+1 555 0100' },
        '',
      ),
    );
    await expect.poll(() => warningsOf(page)).toContainEqual(expect.stringMatching(/email.*phone_number/));
    const all = await warningsOf(page);
    expect(all.some((w) => /none|unsigned/i.test(w))).toBe(true);
    expect(all.some((w) => /lifetime/i.test(w))).toBe(true);
    await saveScreenshot(page, 'decoder-warnings');

    // Not a JWT at all: a clear error, no exception.
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await pasteToken(page, 'not-a-token');
    await expect.poll(() => byTestId(page, 'decoder-error').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    expect(requests.map((r) => `${r.method()} ${r.url()}`)).toEqual([]);
  });

  it.concurrent("'use this server's JWKS' sends exactly one request, to /.well-known/jwks.json", async ({ expect }) => {
    // A real token from this server: register and log in from Node.
    const email = uniqueEmail('decoder');
    const headers = { origin: demo.url, 'content-type': 'application/json', 'x-tessera-csrf': '1' };
    const body = JSON.stringify({ email, password: PASSWORD });
    expect((await fetch(`${demo.url}/auth/register`, { method: 'POST', headers, body })).status).toBe(202);
    const login = await fetch(`${demo.url}/auth/login`, { method: 'POST', headers, body });
    expect(login.status).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };

    const { page, requests } = await openDecoder();
    await pasteToken(page, token);
    await expect.poll(() => byTestId(page, 'decoder-header').textContent()).toContain('at+jwt');
    expect(requests).toEqual([]);
    await byTestId(page, 'decoder-use-server-jwks').click();
    await expect.poll(() => byTestId(page, 'decoder-signature').textContent()).toMatch(/^\s*valid/i);
    expect(requests.map((r) => `${r.method()} ${new URL(r.url()).pathname}`)).toEqual(['GET /.well-known/jwks.json']);
    await saveScreenshot(page, 'decoder-verified');
  });
});
