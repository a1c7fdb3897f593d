/**
 * Worker mode's protocol in Node: the worker host (the same engine as memory mode) on one end
 * of a MessageChannel, the page-side client on the other. The real Worker and Web Locks are
 * proven in Chromium by the end-to-end suite.
 */

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthClientError, createAuthClient } from '../src/index.js';
import { resolveOptions } from '../src/options.js';
import { createWorkerClient, type WorkerEndpoint } from '../src/worker-client.js';
import { serveAuthWorker, type WorkerHostEndpoint } from '../src/worker-host.js';
import type { CookieJarFetch } from './support/cookie-jar-fetch.js';
import {
  createAccount,
  createCookieJarFetch,
  nextEvent,
  startTestAuthServer,
  startThirdParty,
  type TestAuthServer,
  type ThirdParty,
  uniqueChannel,
} from './support/servers.js';

let server: TestAuthServer;
let third: ThirdParty;

beforeAll(async () => {
  server = await startTestAuthServer();
  third = await startThirdParty();
});
afterAll(async () => {
  await third?.close();
  await server?.close();
});

/** Everything the worker posted to the page, as text (bodies decoded), to search for tokens. */
function recordText(message: unknown): string {
  return JSON.stringify(message, (_key, value) =>
    value instanceof ArrayBuffer ? new TextDecoder().decode(value) : value,
  );
}

function openWorkerTab(jar: CookieJarFetch, channelName: string, apiOrigins?: string[]) {
  const { port1, port2 } = new MessageChannel();
  const posted: string[] = [];
  const hostEnd: WorkerHostEndpoint = {
    postMessage(message, transfer) {
      posted.push(recordText(message));
      port2.postMessage(message, (transfer ?? []) as never);
    },
    addEventListener: (type, listener) => port2.addEventListener(type, listener as never),
    removeEventListener: (type, listener) => port2.removeEventListener(type, listener as never),
    start: () => port2.start(),
    close: () => port2.close(),
  };
  const host = serveAuthWorker(hostEnd, { environment: { fetch: jar.fetch } });
  const options = resolveOptions({
    issuer: server.issuer,
    mode: 'worker',
    channelName,
    ...(apiOrigins === undefined ? {} : { apiOrigins }),
  });
  const client = createWorkerClient(options, port1 as unknown as WorkerEndpoint);
  const events: Array<Record<string, unknown>> = [];
  client.onChange((event) => events.push({ ...event }));
  return { client, host, posted, events };
}

function bearersSeen(jar: CookieJarFetch): string[] {
  return jar.requests.flatMap((r) => (r.headers.authorization ? [r.headers.authorization.slice(7)] : []));
}

describe('worker mode', () => {
  it('logs in, reads the user and calls the API through the worker; the page never sees the token', async () => {
    const jar = createCookieJarFetch(server.issuer);
    const tab = openWorkerTab(jar, uniqueChannel());
    expect(tab.client.mode).toBe('worker');
    const account = await createAccount(server);
    await tab.client.login(account);
    expect(tab.client.state).toBe('signed-in');
    expect(tab.events).toEqual([{ type: 'signed-in', source: 'login' }]);
    expect((await tab.client.getUser()).user.email).toBe(account.email);
    expect(tab.client.session()).toMatchObject({ scope: 'openid profile' });

    const res = await tab.client.fetch(`${server.issuer}/api/echo`, {
      method: 'POST',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-echo')).toBe('yes');
    expect(await res.json()).toEqual({ method: 'POST', body: 'hello' });

    // A rejected token inside the worker: one refresh and one retry there, same body.
    const [token] = bearersSeen(jar);
    server.rejectedTokens.add(token ?? '');
    const retried = await tab.client.fetch(new Request(`${server.issuer}/api/echo`, { method: 'PUT', body: 'again' }));
    expect(await retried.json()).toEqual({ method: 'PUT', body: 'again' });
    server.rejectedTokens.clear();

    await tab.client.logout();
    expect(tab.client.state).toBe('signed-out');
    expect(tab.client.session()).toBeUndefined();
    const tokens = bearersSeen(jar);
    expect(tokens.length).toBeGreaterThan(1);
    for (const t of tokens) for (const message of tab.posted) expect(message).not.toContain(t);
    tab.client.close();
  });

  it('carries errors across: AuthClientError with the server code, TypeError for bad input', async () => {
    const tab = openWorkerTab(createCookieJarFetch(server.issuer), uniqueChannel());
    const account = await createAccount(server);
    const error = await tab.client.login({ email: account.email, password: 'not the password' }).catch((e) => e);
    expect(error).toBeInstanceOf(AuthClientError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_CREDENTIALS', status: 401 });
    await expect(tab.client.login({ email: '', password: 'x' })).rejects.toThrow(TypeError);
    await expect(tab.client.fetch(`${server.issuer}/api/echo`)).rejects.toMatchObject({ code: 'ERR_NOT_SIGNED_IN' });
    await expect(tab.client.fetch(`${server.issuer}/auth/refresh`, { method: 'POST' })).rejects.toThrow(TypeError);
    await expect(tab.client.restore()).resolves.toBe(false);
    expect(tab.client.state).toBe('signed-out');
    tab.client.close();
  });

  it('sends other origins straight from the page, not through the worker', async () => {
    const jar = createCookieJarFetch(server.issuer);
    const tab = openWorkerTab(jar, uniqueChannel());
    await tab.client.login(await createAccount(server));
    const res = await tab.client.fetch(`${third.origin}/pixel`);
    expect(await res.text()).toBe('third party');
    expect(third.received.at(-1)?.headers.authorization).toBeUndefined();
    expect(jar.requests.some((r) => r.url.startsWith(third.origin))).toBe(false);
    tab.client.close();
  });

  it('never broadcasts the token: another worker tab signs itself in through the cookie', async () => {
    const jar = createCookieJarFetch(server.issuer);
    const channelName = uniqueChannel();
    const heard: string[] = [];
    const eavesdropper = new BroadcastChannel(channelName);
    eavesdropper.onmessage = (event) => heard.push(JSON.stringify(event.data));
    const a = openWorkerTab(jar, channelName);
    const b = openWorkerTab(jar, channelName);
    const before = server.refreshes.length;
    const bSignedIn = nextEvent(b.client, 'signed-in');
    await a.client.login(await createAccount(server));
    expect(await bSignedIn).toEqual({ type: 'signed-in', source: 'other-tab' });
    // B refreshed itself (a normal rotation through the shared cookie jar), it got no token from A.
    expect(server.refreshes.slice(before)).toEqual([200]);
    expect((await b.client.fetch(`${server.issuer}/api/echo`)).status).toBe(200);
    await vi.waitFor(() => expect(heard.length).toBeGreaterThan(0));
    const tokens = bearersSeen(jar);
    for (const message of heard) {
      expect(JSON.parse(message).t).not.toBe('token');
      for (const t of tokens) expect(message).not.toContain(t);
    }
    const bSignedOut = nextEvent(b.client, 'signed-out');
    await a.client.logout();
    expect(await bSignedOut).toEqual({ type: 'signed-out', source: 'other-tab' });
    expect(b.client.state).toBe('signed-out');
    eavesdropper.close();
    a.client.close();
    b.client.close();
  });

  it('ignores tokens posted on the channel (a page script could post one)', async () => {
    const channelName = uniqueChannel();
    const tab = openWorkerTab(createCookieJarFetch(server.issuer), channelName);
    const attacker = new BroadcastChannel(channelName);
    attacker.postMessage({
      v: 1,
      t: 'token',
      token: 'a.b.c',
      expiresAt: Date.now() + 600_000,
      lifetimeMs: 600_000,
      scope: 'x',
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(tab.client.state).toBe('unknown');
    expect(tab.events).toEqual([]);
    attacker.close();
    tab.client.close();
  });

  it('rejects pending and later calls with ERR_CLIENT_CLOSED after close', async () => {
    const tab = openWorkerTab(createCookieJarFetch(server.issuer), uniqueChannel());
    const pending = tab.client.restore();
    tab.client.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' });
    await expect(tab.client.getUser()).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' });
  });

  it('rejects an already aborted request without calling the worker', async () => {
    const tab = openWorkerTab(createCookieJarFetch(server.issuer), uniqueChannel());
    await tab.client.login(await createAccount(server));
    const controller = new AbortController();
    controller.abort();
    await expect(tab.client.fetch(`${server.issuer}/api/echo`, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    tab.client.close();
  });

  it('a worker refuses settings that do not validate', async () => {
    const { port1, port2 } = new MessageChannel();
    serveAuthWorker(port2 as unknown as WorkerHostEndpoint);
    port1.start();
    const answer = new Promise((resolve) => port1.addEventListener('message', (e) => resolve(e.data), { once: true }));
    port1.postMessage({ t: 'init', settings: { issuer: 'javascript:alert(1)' } });
    port1.postMessage({ t: 'call', id: 1, op: 'restore' });
    expect(await answer).toMatchObject({ t: 'result', id: 1, ok: false, error: { code: 'ERR_WORKER' } });
    port1.close();
    port2.close();
  });

  it('needs Web Workers: createAuthClient in mode worker without them is a TypeError', () => {
    expect(() => createAuthClient({ issuer: server.issuer, mode: 'worker' })).toThrow(TypeError);
  });
});
