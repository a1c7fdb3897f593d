// Screenshots of the built demo for a look at the design: desktop and phone (390x844), light and
// dark, signed out and signed in, and the decoder with a real token. Run after `npm run build`:
//   node apps/demo/scripts/screenshots.mjs [outDir]     (default: test-results/demo-screenshots)
// Needs Chromium at /usr/bin/chromium (or CHROMIUM_PATH).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { startDemo } from '../dist-server/start-demo.js';

const outDir = resolve(process.argv[2] ?? 'test-results/demo-screenshots');
mkdirSync(outDir, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), 'tessera-shots-'));
const demo = await startDemo({
  port: 0,
  databasePath: join(dataDir, 'tessera.sqlite'),
  logLevel: 'warn',
  config: { rateLimit: { enabled: false }, argon2: { memoryCostKiB: 8192, timeCost: 1 } },
});
const args = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args });
const password = 'correct horse battery staple 42';

async function shoot(name, { viewport, colorScheme, isMobile = false }) {
  const context = await browser.newContext({ viewport, colorScheme, isMobile, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(demo.url);
  await page.waitForSelector('[data-testid="login-form"]:not([hidden])');
  await page.screenshot({ path: join(outDir, `${name}-signed-out.png`), fullPage: true });
  const email = `${name}@example.com`;
  await page.fill('[data-testid="email"]', email);
  await page.fill('[data-testid="password"]', password);
  await page.click('[data-testid="register"]');
  await page.waitForSelector('#auth-notice:not([hidden])');
  await page.click('[data-testid="login"]');
  await page.waitForFunction((e) => document.querySelector('[data-testid="signed-in-as"]')?.textContent === e, email);
  await page.click('[data-testid="call-api"]');
  await page.waitForFunction(() =>
    /\d{3}/.test(document.querySelector('[data-testid="api-status"]')?.textContent ?? ''),
  );
  await page.click('[data-testid="whoami"]');
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(outDir, `${name}-signed-in.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

  // The decoder with this session's token is not possible (the page never sees it): sign one from Node.
  const headers = { origin: demo.url, 'content-type': 'application/json', 'x-tessera-csrf': '1' };
  const login = await fetch(`${demo.url}/auth/login`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email, password }),
  });
  const { access_token: token } = await login.json();
  await page.goto(`${demo.url}/decoder`);
  await page.fill('[data-testid="decoder-input"]', token);
  await page.click('[data-testid="decoder-use-server-jwks"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="decoder-signature"]')?.textContent === 'valid',
  );
  await page.screenshot({ path: join(outDir, `${name}-decoder.png`), fullPage: true });
  const now = Math.floor(Date.now() / 1000);
  const seg = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  await page.fill(
    '[data-testid="decoder-input"]',
    `${seg({ alg: 'none' })}.${seg({ sub: 'x', iat: now, exp: now + 7 * 86_400, email: 'a@example.com', phone_number: '+1 555 0100' })}.`,
  );
  await page.screenshot({ path: join(outDir, `${name}-decoder-warnings.png`), fullPage: true });
  await context.close();
  console.log(`${name}: overflow ${overflow}px${problems.length ? `, problems: ${problems.join(' | ')}` : ''}`);
}

try {
  await shoot('desktop-light', { viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  await shoot('desktop-dark', { viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
  await shoot('phone-light', { viewport: { width: 390, height: 844 }, colorScheme: 'light', isMobile: true });
  await shoot('phone-dark', { viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true });
  console.log(`screenshots in ${outDir}`);
} finally {
  await browser.close();
  await demo.close();
  rmSync(dataDir, { recursive: true, force: true });
}
