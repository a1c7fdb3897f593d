/**
 * Drives the demo app through its `data-testid` controls, as a user would: open it, register,
 * log in, press "call the API", read what the page shows. No access to the SDK's internals.
 */

import type { BrowserContext, Locator, Page } from 'playwright-core';

export const PASSWORD = 'correct horse battery staple 42';

export function byTestId(page: Page, id: string): Locator {
  return page.locator(`[data-testid="${id}"]`);
}

export interface DemoQuery {
  readonly mode?: 'memory' | 'worker';
  /** `false` turns the SDK's proactive refresh off for this page (`?proactive=off`). */
  readonly proactive?: boolean;
}

export function demoUrl(base: string, query: DemoQuery = {}): string {
  const url = new URL('/', base);
  if (query.mode) url.searchParams.set('mode', query.mode);
  if (query.proactive === false) url.searchParams.set('proactive', 'off');
  return url.href;
}

/** Waits until the page decided (after `restore()`) whether it is signed in. */
export async function waitForSettled(page: Page): Promise<'signed-in' | 'signed-out'> {
  await page.waitForFunction(() => {
    const visible = (id: string) => {
      const el = document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
      return el !== null && el.offsetParent !== null && !el.closest('[hidden]');
    };
    return visible('login-form') || visible('signed-in-as');
  });
  return (await byTestId(page, 'login-form').isVisible()) ? 'signed-out' : 'signed-in';
}

/** Waits until the login form is shown: after a logout click the old state is still "settled" for a moment. */
export async function waitForSignedOut(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const form = document.querySelector<HTMLElement>('[data-testid="login-form"]');
    return form !== null && form.offsetParent !== null && !form.closest('[hidden]');
  });
}

export async function openDemo(context: BrowserContext, base: string, query: DemoQuery = {}): Promise<Page> {
  const page = await context.newPage();
  await page.goto(demoUrl(base, query));
  await waitForSettled(page);
  return page;
}

export async function fillCredentials(page: Page, email: string): Promise<void> {
  await byTestId(page, 'email').fill(email);
  await byTestId(page, 'password').fill(PASSWORD);
}

/** Creates the account through the form (the server answers 202 whatever happens). */
export async function registerThroughForm(page: Page, email: string): Promise<void> {
  await fillCredentials(page, email);
  const answered = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/auth/register'));
  await byTestId(page, 'register').click();
  const response = await answered;
  if (response.status() !== 202) throw new Error(`register answered ${response.status()}`);
}

/** Logs in through the form and waits for the signed-in view naming the user. */
export async function loginThroughForm(page: Page, email: string): Promise<void> {
  await fillCredentials(page, email);
  await byTestId(page, 'login').click();
  await page.waitForFunction(
    (expected) => document.querySelector('[data-testid="signed-in-as"]')?.textContent?.includes(expected) === true,
    email,
  );
}

export async function registerAndLogin(page: Page, email: string): Promise<void> {
  await registerThroughForm(page, email);
  await loginThroughForm(page, email);
}

/**
 * Presses "call the API" and returns the HTTP status the page then shows. The status pill is
 * blanked first, so a result equal to the previous one is not mistaken for this call's.
 */
export async function callApiThroughButton(page: Page): Promise<number> {
  const status = byTestId(page, 'api-status');
  await status.evaluate((el) => {
    el.textContent = '';
  });
  await byTestId(page, 'call-api').click();
  await page.waitForFunction(() =>
    /\b\d{3}\b/.test(document.querySelector('[data-testid="api-status"]')?.textContent ?? ''),
  );
  const text = (await status.textContent()) ?? '';
  return Number(/\b(\d{3})\b/.exec(text)?.[1]);
}

/** Texts of the status panel's entries, oldest and newest in whatever order the page uses. */
export async function readStatusEntries(page: Page): Promise<string[]> {
  return byTestId(page, 'status-panel').locator('[data-testid="status-entry"]').allTextContents();
}

/** The `exp` claim of a JWT, read without verifying (the tests know where it came from). */
export function readExp(token: string): number {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error('not a JWT');
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp: number }).exp;
}

/** Sleeps until the wall clock is past `epochSec` by `marginSec`. */
export async function sleepUntilPast(epochSec: number, marginSec = 1): Promise<void> {
  const ms = (epochSec + marginSec) * 1000 - Date.now();
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

/** A unique address per test, so tests sharing one server never collide. */
export function uniqueEmail(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}
