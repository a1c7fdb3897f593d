/**
 * Security review of @tessera/client. `it.fails(...)` = a reproduced defect (passes while the
 * defect exists; flip to `it(...)` once fixed). Plain `it(...)` = checked and found sound.
 * Every defect found here is fixed; each test now pins the fixed behaviour.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHarness } from '../../../server/test/support/harness.js';
import { isTokenEndpoint } from '../../src/authorized-request.js';
import { createBroadcastLock } from '../../src/broadcast-lock.js';
import { createAuthClient } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';
import { openTabChannel } from '../../src/tab-channel.js';
import { createWorkerClient, type WorkerEndpoint } from '../../src/worker-client.js';
import { serveAuthWorker, type WorkerHostEndpoint } from '../../src/worker-host.js';
import type { CookieJarFetch } from '../support/cookie-jar-fetch.js';
import { createFakeTime } from '../support/fake-time.js';
import {
  createAccount,
  createCookieJarFetch,
  openTab,
  startTestAuthServer,
  startThirdParty,
  type TestAuthServer,
  type ThirdParty,
  uniqueChannel,
} from '../support/servers.js';

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

const tick = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));

function bearers(jar: CookieJarFetch): string[] {
  return jar.requests.flatMap((r) => (r.headers.authorization ? [r.headers.authorization.slice(7)] : []));
}

/** An auth server whose own origin also has redirecting API routes (an API behind the same origin). */
async function startRedirectingServer(thirdOrigin: string) {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const issuer = `http://127.0.0.1:${port}`;
  const h = await startHarness({ host: '127.0.0.1', port, issuer });
  const app = h.server.app;
  // A same-origin 307 (method and body preserved) onto the refresh endpoint.
  app.post('/api/moved', async (_request, reply) => reply.code(307).header('location', '/auth/refresh').send());
  // A cross-origin redirect to a third party.
  app.get('/api/away', async (_request, reply) => reply.code(302).header('location', `${thirdOrigin}/landing`).send());
  await h.server.listen();
  return { h, issuer, close: () => h.close() };
}

function openWorkerTab(jar: CookieJarFetch, issuer: string) {
  const { port1, port2 } = new MessageChannel();
  const hostEnd: WorkerHostEndpoint = {
    postMessage: (message, transfer) => port2.postMessage(message, (transfer ?? []) as never),
    addEventListener: (type, listener) => port2.addEventListener(type, listener as never),
    removeEventListener: (type, listener) => port2.removeEventListener(type, listener as never),
    start: () => port2.start(),
    close: () => port2.close(),
  };
  serveAuthWorker(hostEnd, { environment: { fetch: jar.fetch } });
  const client = createWorkerClient(
    resolveOptions({ issuer, mode: 'worker', channelName: uniqueChannel() }),
    port1 as unknown as WorkerEndpoint,
  );
  return client;
}

describe('cross-tab channel (memory mode)', () => {
  it('adopts a channel token with an absurd expiresAt: an injected token is pinned and real refreshes are ignored', async () => {
    // Victim tab: a real session.
    const channelName = uniqueChannel();
    const jar = createCookieJarFetch(server.issuer);
    const victim = openTab(server, jar, { channelName });
    await victim.client.login(await createAccount(server));

    // A page script on the origin (XSS in any page, or another app on the origin with the default
    // channel name) logs into ITS OWN account and posts that token with a 30-year expiry.
    const attackerJar = createCookieJarFetch(server.issuer);
    const attackerTab = openTab(server, attackerJar);
    await attackerTab.client.login(await createAccount(server));
    await attackerTab.client.fetch(`${server.issuer}/api/echo`);
    const attackerToken = bearers(attackerJar).at(-1) as string;
    attackerTab.client.close();
    const hostile = new BroadcastChannel(channelName);
    const thirtyYears = 30 * 365 * 86_400_000;
    hostile.postMessage({
      v: 1,
      t: 'token',
      token: attackerToken,
      expiresAt: Date.now() + thirtyYears,
      lifetimeMs: thirtyYears,
      scope: 'openid profile',
    });
    await tick();
    hostile.close();

    await victim.client.fetch(`${server.issuer}/api/echo`, { method: 'POST', body: 'victim data' });
    try {
      // The victim's request must not go out as the attacker's account...
      expect(bearers(jar).at(-1)).not.toBe(attackerToken);
      // ...and no server grants more than 60 minutes: the message is not a token this client could hold.
      expect(victim.client.session()?.expiresAt ?? 0).toBeLessThanOrEqual(Date.now() + 3_600_000);
    } finally {
      victim.client.close();
    }
  });
});

describe('refresh loops', () => {
  it('accepts a sub-second expires_in and refreshes in a tight loop (a refresh storm against the auth server)', async () => {
    const time = createFakeTime(1_700_000_000_000);
    let refreshes = 0;
    const token = (n: number) =>
      `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 'u', sid: 's', n })).toString('base64url')}.c2ln`;
    const fakeFetch = (async (input: RequestInfo | URL) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith('/auth/refresh')) refreshes += 1;
      return new Response(
        JSON.stringify({ access_token: token(refreshes), token_type: 'Bearer', expires_in: 0.001, scope: 'openid' }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    }) as typeof fetch;
    const client = createAuthClient({
      issuer: 'http://localhost:9',
      fetch: fakeFetch,
      clock: time.now,
      timers: time.timers,
      channelName: uniqueChannel(),
    });
    // An expires_in under 10 s is not a token this client accepts.
    const loginError = await client.login({ email: 'a@example.com', password: 'pw' }).catch((error: unknown) => error);
    expect(loginError).toMatchObject({ code: 'ERR_BAD_RESPONSE' });
    // Ten seconds of page life.
    // (Each refresh runs under the BroadcastChannel fallback lock, whose claim window is real time.)
    for (let i = 0; i < 20; i++) {
      time.advance(500);
      await tick(80);
    }
    client.close();
    // A sane client refreshes a handful of times at most; here it refreshes on every timer tick.
    expect(refreshes).toBeLessThanOrEqual(3);
  });
});

describe('fallback lock (no Web Locks)', () => {
  it('trusts a lock-held lease of any length: one hostile message starves every refresh for good', async () => {
    const name = uniqueChannel();
    const channel = openTabChannel(BroadcastChannel, name);
    const lock = createBroadcastLock(channel, { claimWindowMs: 10, leaseMs: 100 });
    const hostile = new BroadcastChannel(name);
    // A lease of a day, far longer than any holder (lease 100 ms, renewed by heartbeats) would claim.
    hostile.postMessage({ v: 1, t: 'lock-held', id: 'evil', until: Date.now() + 86_400_000 });
    await tick();
    const ran = vi.fn(async () => 'ran');
    const outcome = await Promise.race([lock.run(ran), tick(1_000).then(() => 'starved')]);
    lock.close();
    channel.close();
    hostile.close();
    expect(outcome).toBe('ran');
  });
});

describe('redirects', () => {
  it('worker mode: a same-origin 307 from an API route onto /auth/refresh hands the page a fresh access token', async () => {
    const s = await startRedirectingServer(third.origin);
    try {
      const account = await (async () => {
        const email = `redir-${Date.now()}@example.com`;
        const res = await s.h.server.app.inject({
          method: 'POST',
          url: '/auth/register',
          payload: { email, password: 'correct horse battery staple' },
        });
        expect(res.statusCode).toBe(202);
        return { email, password: 'correct horse battery staple' };
      })();
      const jar = createCookieJarFetch(s.issuer);
      // The jar re-wraps bodies as streams, which Node cannot replay on a 307; a browser keeps the
      // body source and follows it. So this one request goes out as a browser would send it.
      const browserLike = (async (input: RequestInfo | URL, init?: RequestInit) => {
        const url = new Request(input, init).url;
        if (!url.endsWith('/api/moved')) return jar.fetch(input, init);
        const headers = new Headers(init?.headers);
        const name = jar.cookie('__Secure-tessera_rt') === undefined ? 'tessera_rt' : '__Secure-tessera_rt';
        const cookie = jar.cookie(name);
        if (cookie !== undefined) headers.set('cookie', `${name}=${cookie}`);
        headers.set('origin', s.issuer);
        headers.set('sec-fetch-site', 'same-origin');
        // (Node's fetch detaches an ArrayBuffer body before a 307 can resend it; browsers do not.)
        const body = init?.body instanceof ArrayBuffer ? new TextDecoder().decode(init.body) : init?.body;
        return fetch(url, { ...init, headers, body });
      }) as typeof fetch;
      const client = openWorkerTab({ ...jar, fetch: browserLike }, s.issuer);
      await client.login(account);
      // client.fetch refuses /auth/refresh by URL; the same request via a redirect is not refused.
      const response = await client
        .fetch(`${s.issuer}/api/moved`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-tessera-csrf': '1' },
          body: '{}',
          credentials: 'include',
        })
        .catch((error: unknown) => error);
      const text = response instanceof Response ? await response.text() : String(response);
      client.close();
      expect(text).not.toContain('access_token');
      expect(response).toMatchObject({ code: 'ERR_REDIRECTED_TO_TOKEN_ENDPOINT' });
    } finally {
      await s.close();
    }
  });

  it('strips the Bearer on a cross-origin redirect from an API origin (memory and worker mode)', async () => {
    const s = await startRedirectingServer(third.origin);
    try {
      const email = `away-${Date.now()}@example.com`;
      await s.h.server.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { email, password: 'correct horse battery staple' },
      });
      const account = { email, password: 'correct horse battery staple' };
      const jar = createCookieJarFetch(s.issuer);
      const memory = createAuthClient({ issuer: s.issuer, fetch: jar.fetch, channelName: uniqueChannel() });
      await memory.login(account);
      const before = third.received.length;
      await memory.fetch(`${s.issuer}/api/away`);
      const worker = openWorkerTab(jar, s.issuer);
      await worker.restore();
      await worker.fetch(`${s.issuer}/api/away`);
      const landed = third.received.slice(before);
      expect(landed.map((r) => r.url)).toEqual(['/landing', '/landing']);
      for (const r of landed) expect(r.headers.authorization).toBeUndefined();
      memory.close();
      worker.close();
    } finally {
      await s.close();
    }
  });
});

describe('who gets the token (URL tricks)', () => {
  it('never sends the Bearer to look-alike origins (userinfo, suffixes, ports, trailing dot, IDN, scheme)', async () => {
    const calls: Array<{ url: string; auth: boolean }> = [];
    const spy = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      calls.push({ url: request.url, auth: request.headers.has('authorization') });
      return new Response('{}', { status: 200 });
    }) as typeof fetch;
    const jar = createCookieJarFetch(server.issuer);
    const client = createAuthClient({
      issuer: server.issuer,
      apiOrigins: [server.issuer, 'https://api.example.com'],
      channelName: uniqueChannel(),
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        const url = new Request(input, init).url;
        return url.startsWith(server.issuer) ? jar.fetch(input, init) : spy(input, init);
      }) as typeof fetch,
    });
    await client.login(await createAccount(server));
    const port = new URL(server.issuer).port;
    const lookAlikes = [
      `http://127.0.0.1:${port}@evil.example/x`,
      `http://127.0.0.1:${port}.evil.example/x`,
      `http://127.0.0.1:${Number(port) + 1}/x`,
      `https://127.0.0.1:${port}/x`,
      'https://api.example.com.evil.example/x',
      'https://api.example.com./x',
      'https://api.example.com:8443/x',
      'http://api.example.com/x',
      'https://evil.example/https://api.example.com/x',
      'https://xn--pi-6kc.example.com/x',
      'https://api.exampl\u0435.com/x',
    ];
    for (const url of lookAlikes) await client.fetch(url).catch(() => undefined);
    await client.fetch(new Request('https://evil.example/x', { headers: { 'x-a': '1' } }));
    expect(calls.filter((c) => c.auth)).toEqual([]);
    // The exact origin (default port spelled out or not) does get it.
    await client.fetch('https://API.example.com:443/x');
    expect(calls.at(-1)).toEqual({ url: 'https://api.example.com/x', auth: true });
    client.close();
  });

  it('isTokenEndpoint covers every spelling the auth server routes to a token answer', async () => {
    const jar = createCookieJarFetch(server.issuer);
    const account = await createAccount(server);
    const spellings = [
      '/auth/refresh',
      '/auth/./refresh',
      '/auth/x/../refresh',
      '/auth/refresh?x=1',
      '/%61uth/refresh',
      '/auth/refresh/',
      '/AUTH/REFRESH',
      '/auth//refresh',
      '/auth%2Frefresh',
      '/auth/refresh;x',
      '/auth/refresh%00',
      '/auth/refresh.',
      '/auth/x/..%2Frefresh',
    ];
    for (const path of spellings) {
      await jar.fetch(`${server.issuer}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tessera-csrf': '1' },
        body: JSON.stringify(account),
        credentials: 'include',
      });
      const res = await jar.fetch(`${server.issuer}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tessera-csrf': '1' },
        body: '{}',
        credentials: 'include',
      });
      const answersToken = (await res.text()).includes('access_token');
      if (answersToken) expect(isTokenEndpoint(new URL(`${server.issuer}${path}`), server.issuer), path).toBe(true);
    }
  });
});
