/**
 * Security review, decoder page in Chromium (needs the build: `npm run build`). `it.fails` = a
 * reproduced defect (flip to `it` once fixed).
 */

import { createHmac, generateKeyPairSync } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium, openContext } from '../e2e/support/browser.js';
import { byTestId } from '../e2e/support/demo-page.js';
import { type DemoServer, startDemoServer } from '../e2e/support/demo-server.js';
import { prepareSuite, skipE2e } from '../e2e/support/prerequisites.js';

let browser: Browser;
let demo: DemoServer;
const contexts: BrowserContext[] = [];

const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Fills the key field, clicks "Verify signature" and returns the signature pill once it has a result. */
async function verifyWith(page: Page, text: string): Promise<string> {
  await byTestId(page, 'decoder-jwks-input').fill(text);
  await byTestId(page, 'decoder-verify').click();
  await expect.poll(() => byTestId(page, 'decoder-signature').textContent()).not.toMatch(/not checked|checking/);
  return ((await byTestId(page, 'decoder-signature').textContent()) ?? '').trim();
}

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

  it('a link with a malformed %-escape in the fragment (/decoder#%E0%A4%A) is read as raw text, no URIError', async () => {
    const { page, errors } = await openDecoderAt('%E0%A4%A');
    await page.waitForTimeout(300);
    expect(errors).toEqual([]);
    expect(await byTestId(page, 'decoder-input').inputValue()).toBe('%E0%A4%A');
    // Not a JWT: the page says so, as it does for any pasted text.
    await expect.poll(() => byTestId(page, 'decoder-error').isVisible()).toBe(true);
    expect(new URL(page.url()).hash).toBe('');
  });

  it('a token with a deeply nested claim is refused with a clear error, no exception, and the panels of the previous token cleared', async () => {
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
    // Header and claims must describe the same token: here none, as the second is refused as a
    // whole and nothing of the first stays on the page.
    const header = (await byTestId(page, 'decoder-header').textContent()) ?? '';
    const claims = (await byTestId(page, 'decoder-claims').textContent()) ?? '';
    expect(header).not.toContain('first');
    expect(claims).not.toContain('first-token');
    expect(header.trim()).toBe('–');
    expect(claims.trim()).toBe('–');
    expect(await byTestId(page, 'decoder-warnings').locator('li').count()).toBe(0);
    expect((await byTestId(page, 'decoder-times').textContent())?.trim()).toBe('');
    expect(await byTestId(page, 'decoder-error').isVisible()).toBe(true);
    expect(await byTestId(page, 'decoder-error').textContent()).toMatch(/more than 64 levels/);
  });

  it('verifies with a shared secret only when chosen, and refuses the issuer\u2019s public PEM as one', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const sign = (key: string) => {
      const input = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ sub: 'admin', exp: 4_000_000_000 })}`;
      return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
    };
    const { page, errors } = await openDecoderAt(sign(secret));
    await expect.poll(() => byTestId(page, 'decoder-claims').textContent()).toContain('admin');
    // Keys are the default: the secret's text is not taken for one.
    expect(await verifyWith(page, secret)).toBe('bad-key-input');
    await byTestId(page, 'decoder-key-kind-secret').check();
    expect(await byTestId(page, 'decoder-key-label').textContent()).toMatch(/secret/i);
    expect(await verifyWith(page, secret)).toBe('valid');
    expect(await verifyWith(page, `${secret}?`)).toBe('invalid');
    // A token forged with the public PEM as the HMAC secret: refused, with the way to paste it.
    await byTestId(page, 'decoder-input').fill(sign(pem));
    expect(await verifyWith(page, pem)).toBe('bad-key-input');
    expect(await byTestId(page, 'decoder-signature-detail').textContent()).toMatch(/JWK or JWKS/);
    await byTestId(page, 'decoder-key-kind-jwks').check();
    expect(await verifyWith(page, pem)).toBe('bad-key-input');
    expect(errors).toEqual([]);
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
