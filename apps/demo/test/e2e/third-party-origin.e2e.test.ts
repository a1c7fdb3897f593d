/**
 * The SDK's `fetch` in Chromium never sends the access token to an origin that is not in
 * `apiOrigins`: not to another host, not to the same host on another port, not to the demo
 * server itself under another name (127.0.0.1 instead of localhost). The demo app offers no
 * button for a third-party call, so the test loads the BUILT SDK (`packages/client/dist`) into a
 * page of the demo's origin and logs in with it against the real server.
 */

import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, describe, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { PASSWORD, uniqueEmail } from './support/demo-page.js';
import { type DemoServer, startDemoServer } from './support/demo-server.js';
import { prepareSuite, skipE2e } from './support/prerequisites.js';
import { TrafficRecorder } from './support/traffic.js';

const CLIENT_DIST = fileURLToPath(new URL('../../../../packages/client/dist/', import.meta.url));
/**
 * The SDK module is loaded by the page itself (vitest rewrites `import()` inside functions given
 * to page.evaluate) and handed to the test through a global, on a real page of the demo origin:
 * a document fulfilled by interception would have no address space, and Chromium's Local
 * Network Access rules would then block every request to a loopback address.
 */
const LOAD_SDK = "import * as sdk from '/__e2e/client/index.js'; window.__sdk = sdk;";

let browser: Browser;
let demo: DemoServer;
let thirdParty: Server;
let thirdPartyUrl: string;
const received: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
const contexts: BrowserContext[] = [];

/** A tiny "somebody else's API": records what it receives, allows any origin (CORS), answers JSON. */
function startThirdParty(): Promise<Server> {
  const server = createServer((request, response) => {
    received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    response.setHeader('access-control-allow-origin', '*');
    response.setHeader('access-control-allow-headers', '*');
    response.setHeader('access-control-allow-methods', 'GET, POST');
    if (request.method === 'OPTIONS') {
      response.writeHead(204).end();
      return;
    }
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ third_party: true }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * The demo's decoder page (it creates no auth client of its own) with the built SDK served at
 * `/__e2e/client/*`. The context bypasses the page CSP, whose `connect-src 'self'` would stop the
 * foreign requests in the browser before the SDK's behaviour could be seen on the wire.
 */
async function openHarness(): Promise<{ page: Page; traffic: TrafficRecorder }> {
  const context = await browser.newContext({ bypassCSP: true });
  context.setDefaultTimeout(15_000);
  contexts.push(context);
  const traffic = new TrafficRecorder(context);
  await context.route(`${demo.url}/__e2e/client/**`, async (route) => {
    const { pathname } = new URL(route.request().url());
    const file = normalize(join(CLIENT_DIST, pathname.slice('/__e2e/client/'.length)));
    if (!file.startsWith(CLIENT_DIST)) {
      await route.fulfill({ status: 404, body: 'not found' });
      return;
    }
    try {
      await route.fulfill({ status: 200, contentType: 'text/javascript', body: await readFile(file, 'utf8') });
    } catch {
      await route.fulfill({ status: 404, body: 'not found' });
    }
  });
  const page = await context.newPage();
  await page.goto(`${demo.url}/decoder`);
  await page.addScriptTag({ type: 'module', content: LOAD_SDK });
  await page.waitForFunction(() => '__sdk' in window);
  return { page, traffic };
}

interface HarnessResult {
  own: number;
  thirdParty: number[];
  demoUnderOtherName: string;
}

/** In the page: log in with the SDK, then call the own API and three foreign origins through `client.fetch`. */
async function runInPage(
  page: Page,
  args: { mode: 'memory' | 'worker'; email: string; password: string; thirdParty: string; otherName: string },
): Promise<HarnessResult> {
  return page.evaluate(async ({ mode, email, password, thirdParty, otherName }) => {
    const sdk = (window as unknown as { __sdk: unknown }).__sdk as {
      createAuthClient(options: Record<string, unknown>): {
        register(c: { email: string; password: string }): Promise<void>;
        login(c: { email: string; password: string }): Promise<void>;
        fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
        close(): void;
      };
    };
    const client = sdk.createAuthClient({
      issuer: location.origin,
      mode,
      ...(mode === 'worker' ? { workerUrl: new URL('/__e2e/client/worker.js', location.href) } : {}),
    });
    await client.register({ email, password });
    await client.login({ email, password });
    const own = (await client.fetch('/api/hello')).status;
    const foreign = [
      await client.fetch(`${thirdParty}/plain`),
      await client.fetch(new Request(`${thirdParty}/request-object`, { headers: { 'x-app': '1' } })),
      await client.fetch(new URL('/post', thirdParty), { method: 'POST', body: 'x=1' }),
    ];
    let demoUnderOtherName: string;
    try {
      demoUnderOtherName = String((await client.fetch(`${otherName}/api/hello`)).status);
    } catch (error) {
      // Whether or not the browser lets the page read the answer, the request went out.
      demoUnderOtherName = (error as Error).name;
    }
    client.close();
    return { own, thirdParty: foreign.map((r) => r.status), demoUnderOtherName };
  }, args);
}

describe.skipIf(skipE2e)("the SDK's fetch and foreign origins", { timeout: 60_000 }, () => {
  prepareSuite(async () => {
    [browser, demo, thirdParty] = await Promise.all([launchChromium(), startDemoServer(), startThirdParty()]);
    // localhost vs 127.0.0.1: the demo page is on localhost, so this is a different origin.
    thirdPartyUrl = `http://127.0.0.1:${(thirdParty.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close();
    await demo?.close();
    await new Promise((resolve) => thirdParty?.close(resolve));
  });

  for (const mode of ['memory', 'worker'] as const) {
    it(`${mode} mode: the bearer goes to the API origin only`, async ({ expect }) => {
      received.length = 0;
      const { page, traffic } = await openHarness();
      const otherName = demo.url.replace('//localhost:', '//127.0.0.1:');
      const result = await runInPage(page, {
        mode,
        email: uniqueEmail(`third-party-${mode}`),
        password: PASSWORD,
        thirdParty: thirdPartyUrl,
        otherName,
      });
      expect(result.own).toBe(200);
      expect(result.thirdParty).toEqual([200, 200, 200]);
      await traffic.settle();

      // The own API got the token...
      const own = traffic.since(0, 'GET', '/api/hello').filter((e) => e.url.startsWith(demo.url));
      expect(own.map((e) => e.headers.authorization)).toEqual([expect.stringMatching(/^Bearer ey/)]);
      // ...the third party did not, not even asked for it in a CORS preflight.
      expect(received.map((r) => `${r.method} ${r.url}`)).toEqual(
        expect.arrayContaining(['GET /plain', 'GET /request-object', 'POST /post']),
      );
      for (const request of received) {
        expect(request.headers.authorization).toBeUndefined();
        expect(request.headers['access-control-request-headers'] ?? '').not.toMatch(/authorization/i);
      }
      // The demo server under another name is another origin: the request went out without the token.
      const renamed = traffic.exchanges.filter((e) => e.url.startsWith(`${otherName}/api/hello`));
      expect(renamed.length).toBeGreaterThan(0);
      for (const exchange of renamed) expect(exchange.headers.authorization).toBeUndefined();
    });
  }
});
