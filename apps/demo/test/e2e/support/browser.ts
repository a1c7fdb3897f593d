/**
 * One headless Debian Chromium per test file, launched with the flags that keep it quiet and
 * reproducible in a container (no sandbox as root, no GPU, no QUIC, no background traffic that
 * would show up in the network assertions).
 */

import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { CHROMIUM_PATH } from './prerequisites.js';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], timeout: 30_000 });
}

/** A fresh context (own cookie jar, storage and BroadcastChannel/lock scope) for one test. */
export async function openContext(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; isMobile?: boolean } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 860 },
    ...(options.isMobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  context.setDefaultTimeout(15_000);
  return context;
}
