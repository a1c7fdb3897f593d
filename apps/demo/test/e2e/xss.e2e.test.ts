/**
 * An injected script (what an XSS payload could run) looks for the access token everywhere a
 * page script can reach: Web Storage, every IndexedDB database, document.cookie, the globals
 * (recursively), the DOM. It must find nothing. In worker mode it also may not get the token by
 * listening on the SDK's BroadcastChannel while another tab refreshes, nor by wrapping
 * fetch/XMLHttpRequest/Worker before the app starts (the worker does the API requests itself).
 */

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, describe, it } from 'vitest';
import { launchChromium, openContext } from './support/browser.js';
import { callApiThroughButton, openDemo, registerAndLogin, uniqueEmail, waitForSettled } from './support/demo-page.js';
import { type DemoServer, startDemoServer } from './support/demo-server.js';
import { prepareSuite, skipE2e } from './support/prerequisites.js';
import { TrafficRecorder } from './support/traffic.js';

let browser: Browser;
let demo: DemoServer;
const contexts: BrowserContext[] = [];

async function newContext(): Promise<BrowserContext> {
  const context = await openContext(browser);
  contexts.push(context);
  return context;
}

/**
 * Runs in the page: where can a script find any of `needles`? Returns the places (empty when
 * none). Walks globals a few levels deep, skipping cycles and throwing getters.
 */
async function searchPageFor(page: Page, needles: string[]): Promise<string[]> {
  return page.evaluate(async (secrets) => {
    const found: string[] = [];
    const check = (where: string, value: unknown) => {
      if (typeof value !== 'string' || value.length === 0) return;
      for (const secret of secrets) if (value.includes(secret)) found.push(where);
    };
    for (const [name, storage] of [
      ['localStorage', localStorage],
      ['sessionStorage', sessionStorage],
    ] as const) {
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i) ?? '';
        check(`${name} key`, key);
        check(`${name}[${key}]`, storage.getItem(key));
      }
    }
    check('document.cookie', document.cookie);
    check('DOM html', document.documentElement.outerHTML);
    check('DOM text', document.body.textContent);
    for (const el of Array.from(document.querySelectorAll('input, textarea'))) {
      check('form field value', (el as HTMLInputElement).value);
    }

    const databases = await indexedDB.databases();
    for (const info of databases) {
      if (!info.name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(info.name as string);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        const records = await new Promise<unknown[]>((resolve, reject) => {
          const request = db.transaction(store, 'readonly').objectStore(store).getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        check(`indexedDB ${info.name}/${store}`, JSON.stringify(records));
      }
      db.close();
    }

    const seen = new WeakSet<object>();
    const walk = (value: unknown, path: string, depth: number) => {
      if (typeof value === 'string') return check(path, value);
      if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return;
      if (seen.has(value) || depth > 4) return;
      seen.add(value);
      if (value instanceof Node && value !== document) return; // the DOM was searched above
      let keys: (string | symbol)[];
      try {
        keys = Reflect.ownKeys(value);
      } catch {
        return;
      }
      for (const key of keys) {
        let child: unknown;
        try {
          child = (value as Record<string | symbol, unknown>)[key];
        } catch {
          continue;
        }
        walk(child, `${path}.${String(key)}`, depth + 1);
      }
      if (value instanceof Map) for (const [k, v] of value) walk(v, `${path}.get(${String(k)})`, depth + 1);
      if (value instanceof Set) for (const v of value) walk(v, `${path}{}`, depth + 1);
    };
    walk(window, 'window', 0);
    return found;
  }, needles);
}

/**
 * What a payload that ran before the app (an injected <script> early in the page) records: every
 * fetch/XHR argument, header and response body, every message on the SDK's BroadcastChannel,
 * and every message between the page and any Worker it creates.
 */
const EAVESDROPPER = `(() => {
  const log = [];
  Object.defineProperty(window, '__eavesdropped', { value: log });
  const text = (v) => { try { return typeof v === 'string' ? v : JSON.stringify(v, (k, x) => x instanceof ArrayBuffer ? new TextDecoder().decode(x) : x); } catch { return String(v); } };
  const channel = new BroadcastChannel('tessera-auth');
  channel.onmessage = (e) => log.push('broadcast ' + text(e.data));
  const realFetch = window.fetch;
  window.fetch = async function (input, init) {
    log.push('fetch ' + text(String(input instanceof Request ? input.url : input)) + ' ' + text(init && init.headers ? Object.fromEntries(new Headers(init.headers)) : {}));
    if (input instanceof Request) log.push('fetch request headers ' + text(Object.fromEntries(input.headers)));
    const response = await realFetch.apply(this, arguments);
    response.clone().text().then((t) => log.push('fetch response ' + t), () => {});
    return response;
  };
  const open = XMLHttpRequest.prototype.open;
  const setHeader = XMLHttpRequest.prototype.setRequestHeader;
  XMLHttpRequest.prototype.open = function (...args) { log.push('xhr ' + text(args)); this.addEventListener('load', () => log.push('xhr response ' + text(this.responseText))); return open.apply(this, args); };
  XMLHttpRequest.prototype.setRequestHeader = function (...args) { log.push('xhr header ' + text(args)); return setHeader.apply(this, args); };
  const RealWorker = window.Worker;
  window.Worker = function (url, options) {
    const worker = new RealWorker(url, options);
    worker.addEventListener('message', (e) => log.push('from worker ' + text(e.data)));
    const post = worker.postMessage.bind(worker);
    worker.postMessage = (message, transfer) => { log.push('to worker ' + text(message)); return post(message, transfer); };
    return worker;
  };
  window.Worker.prototype = RealWorker.prototype;
})();`;

async function readEavesdropped(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __eavesdropped: string[] }).__eavesdropped.slice());
}

describe.skipIf(skipE2e)('an injected script cannot find the access token', { timeout: 90_000 }, () => {
  prepareSuite(async () => {
    [browser, demo] = await Promise.all([launchChromium(), startDemoServer()]);
  });

  afterAll(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close();
    await demo?.close();
  });

  it.concurrent('memory mode: not in storage, cookies, globals or the DOM', async ({ expect }) => {
    const context = await newContext();
    const traffic = new TrafficRecorder(context);
    const page = await openDemo(context, demo.url);
    await registerAndLogin(page, uniqueEmail('xss-memory'));
    expect(await callApiThroughButton(page)).toBe(200);
    const tokens = await traffic.issuedAccessTokens();
    expect(tokens.length).toBeGreaterThan(0);
    const refreshCookie = (await context.cookies(`${demo.url}/auth/refresh`)).find(
      (c) => c.name === '__Secure-tessera_rt',
    )?.value;
    expect(refreshCookie).toBeTypeOf('string');
    // The whole token, its signature alone (in case it is stored in pieces), and the refresh token.
    const needles = [...tokens, ...tokens.map((t) => t.split('.')[2] as string), refreshCookie as string];
    // The search itself must be able to find a token: plant copies and look.
    await page.evaluate((t) => {
      sessionStorage.setItem('planted', t);
      Object.assign(window, { plantedApp: { state: { auth: new Map([['session', { t }]]) } } });
    }, needles[0] as string);
    const planted = await searchPageFor(page, needles);
    expect(planted).toContain('sessionStorage[planted]');
    expect(planted).toContain('window.plantedApp.state.auth.get(session).t');
    await page.evaluate(() => {
      sessionStorage.removeItem('planted');
      delete (window as unknown as { plantedApp?: unknown }).plantedApp;
    });
    expect(await searchPageFor(page, needles)).toEqual([]);
  });

  it.concurrent('worker mode: not in the page, not on the BroadcastChannel, not through wrapped fetch/XHR/Worker', async ({
    expect,
  }) => {
    const context = await newContext();
    await context.addInitScript({ content: EAVESDROPPER });
    const traffic = new TrafficRecorder(context);
    const first = await openDemo(context, demo.url, { mode: 'worker' });
    await registerAndLogin(first, uniqueEmail('xss-worker'));
    // Another tab signs in from the cookie (a refresh) while the first tab listens.
    const second = await openDemo(context, demo.url, { mode: 'worker' });
    expect(await waitForSettled(second)).toBe('signed-in');
    expect(await callApiThroughButton(first)).toBe(200);
    expect(await callApiThroughButton(second)).toBe(200);
    await traffic.settle();
    // The API calls really carried tokens, sent by the workers.
    const calls = traffic.since(0, 'GET', '/api/hello');
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(call.headers.authorization).toMatch(/^Bearer ey/);
    const tokens = await traffic.issuedAccessTokens();
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const needles = [...tokens, ...tokens.map((t) => t.split('.')[2] as string)];

    for (const page of [first, second]) {
      const log = await readEavesdropped(page);
      // The eavesdropper was in place (it saw the SDK's traffic to and from its worker).
      expect(log.some((line) => line.startsWith('to worker'))).toBe(true);
      const leaks = log.filter((line) => needles.some((n) => line.includes(n)));
      expect(leaks).toEqual([]);
      // The page itself never sent the API request.
      expect(log.filter((line) => line.startsWith('fetch ') && line.includes('/api/hello'))).toEqual([]);
      expect(await searchPageFor(page, needles)).toEqual([]);
    }
  });
});
