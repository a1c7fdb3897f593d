/**
 * Security review, decoder page in Chromium (needs the build: `npm run build`). `it.fails` = a
 * reproduced defect (flip to `it` once fixed).
 */

import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium, openContext } from '../e2e/support/browser.js';
import { byTestId } from '../e2e/support/demo-page.js';
import { type DemoServer, startDemoServer } from '../e2e/support/demo-server.js';
import { prepareSuite, skipE2e } from '../e2e/support/prerequisites.js';

let browser: Browser;
let demo: DemoServer;
const contexts: BrowserContext[] = [];

const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function openDecoderAt(fragment: string) {
  const context = await openContext(browser);
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${demo.url}/decoder#${fragment}`, { waitUntil: 'networkidle' });
  return { page, errors };
}

describe.skipIf(skipE2e)('decoder page, hostile input', { timeout: 60_000 }, () => {
  prepareSuite(async () => {
    [browser, demo] = await Promise.all([launchChromium(), startDemoServer()]);
  });
  afterAll(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close();
    await demo?.close();
  });

  it.fails('a link with a malformed %-escape in the fragment (/decoder#%E0%A4%A) throws URIError at start-up', async () => {
    const { page, errors } = await openDecoderAt('%E0%A4%A');
    await page.waitForTimeout(300);
    expect(errors).toEqual([]);
  });

  it.fails('a token with a deeply nested claim, pasted or linked, throws RangeError in render() and leaves the panels half-updated', async () => {
    const first = `${enc({ alg: 'HS256', kid: 'first' })}.${enc({ sub: 'first-token' })}.c2ln`;
    const { page, errors } = await openDecoderAt(first);
    await expect.poll(() => byTestId(page, 'decoder-claims').textContent()).toContain('first-token');
    const depth = 200_000;
    const payload = Buffer.from(`{"sub":"second","deep":${'['.repeat(depth)}${']'.repeat(depth)}}`).toString(
      'base64url',
    );
    await byTestId(page, 'decoder-input').fill(`${enc({ alg: 'HS256', kid: 'second' })}.${payload}.c2ln`);
    await page.waitForTimeout(500);
    expect(errors).toEqual([]);
    // Header and claims must describe the same token.
    const header = (await byTestId(page, 'decoder-header').textContent()) ?? '';
    const claims = (await byTestId(page, 'decoder-claims').textContent()) ?? '';
    expect(header.includes('second')).toBe(!claims.includes('first-token'));
  });

  it('renders markup in a linked token as text: no element, no script runs (sound)', async () => {
    const xss = '<img src=x onerror="window.__pwned=1">';
    const token = `${enc({ alg: xss, kid: xss })}.${enc({ sub: xss, [xss]: xss, exp: xss })}.c2ln`;
    const { page, errors } = await openDecoderAt(token);
    await expect.poll(() => byTestId(page, 'decoder-claims').textContent()).toContain('onerror');
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    // The fragment is gone from the address bar after reading it.
    expect(new URL(page.url()).hash).toBe('');
    expect(errors).toEqual([]);
  });
});
