/** `client.fetch` against a real auth server: who gets the token, single flight, the one retry, replayable bodies. */

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFakeTime } from './support/fake-time.js';
import {
  createAccount,
  createCookieJarFetch,
  openTab,
  startTestAuthServer,
  startThirdParty,
  type TestAuthServer,
  type ThirdParty,
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
afterEach(() => {
  server.rejectAllTokens = false;
  server.rejectedTokens.clear();
  vi.unstubAllGlobals();
});

async function signedInTab(options: Parameters<typeof openTab>[2] = {}) {
  const jar = createCookieJarFetch(server.issuer);
  const tab = openTab(server, jar, options);
  await tab.client.login(await createAccount(server));
  return { ...tab, jar };
}

function lastBearer(jar: ReturnType<typeof createCookieJarFetch>): string {
  const request = jar.requests.filter((r) => r.headers.authorization !== undefined).at(-1);
  return request?.headers.authorization?.slice('Bearer '.length) ?? '';
}

describe('which requests carry the token', () => {
  it('adds the Bearer header for the issuer origin and leaves a third-party request untouched', async () => {
    const { client, jar } = await signedInTab();
    const ok = await client.fetch(`${server.issuer}/api/echo`);
    expect(ok.status).toBe(200);
    expect(server.echoes.at(-1)?.authorized).toBe(true);
    const token = lastBearer(jar);

    const res = await client.fetch(`${third.origin}/collect?x=1`, { headers: { 'x-app': 'demo' } });
    expect(await res.text()).toBe('third party');
    const received = third.received.at(-1);
    expect(received?.url).toBe('/collect?x=1');
    expect(received?.headers.authorization).toBeUndefined();
    expect(received?.headers['x-app']).toBe('demo');
    expect(JSON.stringify(third.received)).not.toContain(token);
    client.close();
  });

  it('adds it for an extra API origin only when listed in apiOrigins', async () => {
    const { client } = await signedInTab({ apiOrigins: [server.issuer, third.origin] });
    await client.fetch(new URL(`${third.origin}/api`));
    expect(third.received.at(-1)?.headers.authorization).toMatch(/^Bearer ey/);
    // Same host, other port: another origin.
    const otherPort = `http://127.0.0.1:${Number(new URL(server.issuer).port) === 1 ? 2 : 1}`;
    const spy = vi.fn(async () => new Response('x'));
    const probe = openTab(server, { ...createCookieJarFetch(server.issuer), fetch: spy as typeof fetch });
    await probe.client.fetch(`${otherPort}/api`).catch(() => undefined);
    const init = (spy.mock.calls[0] as unknown[] | undefined)?.[1] as RequestInit | undefined;
    expect(new Headers(init?.headers).has('authorization')).toBe(false);
    probe.client.close();
    client.close();
  });

  it('resolves relative URLs against location.href', async () => {
    const { client } = await signedInTab();
    vi.stubGlobal('location', { href: `${server.issuer}/app/page?x=1` });
    const res = await client.fetch('/api/echo', { method: 'POST', body: 'hi' });
    expect(res.status).toBe(200);
    expect(server.echoes.at(-1)).toMatchObject({ authorized: true, body: 'hi' });
    client.close();
    // A page on another origin: its relative requests are not the API's, so they pass through as given.
    const spy = vi.fn(async () => new Response('x'));
    const probe = openTab(server, { ...createCookieJarFetch(server.issuer), fetch: spy as typeof fetch });
    vi.stubGlobal('location', { href: `${third.origin}/elsewhere/` });
    await probe.client.fetch('page', { headers: { 'x-a': '1' } });
    expect(spy.mock.calls[0]).toEqual(['page', { headers: { 'x-a': '1' } }]);
    probe.client.close();
  });

  it('refuses to send the token endpoints through fetch (their answers hold tokens)', async () => {
    const { client } = await signedInTab();
    for (const path of ['/auth/refresh', '/auth/login', '/%61uth/refresh', '/oauth/token', '//auth/refresh/']) {
      await expect(client.fetch(`${server.issuer}${path}`, { method: 'POST' })).rejects.toThrow(TypeError);
    }
    client.close();
  });

  it('throws ERR_NOT_SIGNED_IN for an API request without a session', async () => {
    const tab = openTab(server, createCookieJarFetch(server.issuer));
    await expect(tab.client.fetch(`${server.issuer}/api/echo`)).rejects.toMatchObject({ code: 'ERR_NOT_SIGNED_IN' });
    tab.client.close();
  });
});

describe('refresh before and after a request', () => {
  it('shares one refresh between 10 concurrent requests after expiry (counted on the server)', async () => {
    const time = createFakeTime(1_700_000_000_000);
    const { client, events } = await signedInTab({ clock: time.now, timers: time.timers, proactiveRefresh: false });
    const before = server.refreshes.length;
    server.h.clock.advance(601);
    time.advance(601_000);
    const responses = await Promise.all(Array.from({ length: 10 }, () => client.fetch(`${server.issuer}/api/echo`)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(server.refreshes.slice(before)).toEqual([200]);
    expect(events.filter((e) => e.type === 'refreshed')).toEqual([
      { type: 'refreshed', trigger: 'expired', expiresAt: time.now() + 600_000 },
    ]);
    client.close();
  });

  it('answers a 401 invalid_token with exactly one refresh and one retry', async () => {
    const { client, jar, events } = await signedInTab();
    await client.fetch(`${server.issuer}/api/echo`);
    server.rejectedTokens.add(lastBearer(jar));
    const before = { refreshes: server.refreshes.length, echoes: server.echoes.length };
    const res = await client.fetch(`${server.issuer}/api/echo`, { method: 'PUT', body: 'payload' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ method: 'PUT', body: 'payload' });
    expect(server.refreshes.slice(before.refreshes)).toEqual([200]);
    expect(server.echoes.slice(before.echoes).map((e) => [e.authorized, e.body])).toEqual([
      [false, 'payload'],
      [true, 'payload'],
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'refreshed', trigger: 'retry' });
    client.close();
  });

  it('does not loop when the retry is refused too: the second 401 is the answer', async () => {
    const { client } = await signedInTab();
    server.rejectAllTokens = true;
    const before = { refreshes: server.refreshes.length, echoes: server.echoes.length };
    const res = await client.fetch(`${server.issuer}/api/echo`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    expect(server.refreshes.length - before.refreshes).toBe(1);
    expect(server.echoes.length - before.echoes).toBe(2);
    // The session itself is fine: it is the API that refuses.
    expect(client.state).toBe('signed-in');
    client.close();
  });

  it('does not refresh on a 401 without invalid_token (e.g. insufficient_scope or a plain 401)', async () => {
    const spyFetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new Request(input, init).url;
      if (url.endsWith('/api/plain')) return new Response('no', { status: 401 });
      return jar.fetch(input, init);
    });
    const jar = createCookieJarFetch(server.issuer);
    const tab = openTab(server, { ...jar, fetch: spyFetch as typeof fetch });
    await tab.client.login(await createAccount(server));
    const before = server.refreshes.length;
    expect((await tab.client.fetch(`${server.issuer}/api/plain`)).status).toBe(401);
    expect(server.refreshes.length).toBe(before);
    tab.client.close();
  });
});

describe('replayable bodies', () => {
  const form = () => {
    const data = new FormData();
    data.set('field', 'value');
    return data;
  };
  const bodies: Array<[string, () => BodyInit, (echo: string) => void]> = [
    ['a string', () => 'plain text', (e) => expect(e).toBe('plain text')],
    ['URLSearchParams', () => new URLSearchParams({ a: '1', b: 'two' }), (e) => expect(e).toBe('a=1&b=two')],
    ['a Blob', () => new Blob(['blob body'], { type: 'text/plain' }), (e) => expect(e).toBe('blob body')],
    [
      'an ArrayBuffer',
      () => new TextEncoder().encode('array buffer').buffer as ArrayBuffer,
      (e) => expect(e).toBe('array buffer'),
    ],
    ['a typed array', () => new TextEncoder().encode('typed'), (e) => expect(e).toBe('typed')],
    ['FormData', form, (e) => expect(e).toMatch(/name="field"\r\n\r\nvalue/)],
  ];

  it.each(bodies)('replays %s unchanged on the retry', async (_name, makeBody, check) => {
    const { client, jar } = await signedInTab();
    await client.fetch(`${server.issuer}/api/echo`);
    server.rejectedTokens.add(lastBearer(jar));
    const before = server.echoes.length;
    const res = await client.fetch(`${server.issuer}/api/echo`, { method: 'POST', body: makeBody() });
    expect(res.status).toBe(200);
    const [first, second] = server.echoes.slice(before);
    expect(first?.authorized).toBe(false);
    expect(second?.authorized).toBe(true);
    check(first?.body ?? '');
    // FormData is serialised afresh for each attempt: same parts, new multipart boundary.
    const boundaryless = (text: string | undefined) => text?.replace(/-{2,}formdata-[\w-]+/g, 'BOUNDARY');
    expect(boundaryless(second?.body)).toBe(boundaryless(first?.body));
    expect(boundaryless(second?.contentType)).toBe(boundaryless(first?.contentType));
    client.close();
  });

  it('clones a Request input before the first attempt: the retry sends the same body, the caller keeps theirs', async () => {
    const { client, jar } = await signedInTab();
    await client.fetch(`${server.issuer}/api/echo`);
    server.rejectedTokens.add(lastBearer(jar));
    const before = server.echoes.length;
    const request = new Request(`${server.issuer}/api/echo`, {
      method: 'POST',
      body: JSON.stringify({ n: 1 }),
      headers: { 'content-type': 'application/json', 'x-extra': 'kept' },
    });
    const res = await client.fetch(request);
    expect(res.status).toBe(200);
    expect(server.echoes.slice(before).map((e) => [e.authorized, e.body, e.contentType])).toEqual([
      [false, '{"n":1}', 'application/json'],
      [true, '{"n":1}', 'application/json'],
    ]);
    expect(request.bodyUsed).toBe(false);
    expect(request.headers.has('authorization')).toBe(false);
    client.close();
  });

  it('refuses a ReadableStream body with a TypeError that states the rule', async () => {
    const { client } = await signedInTab();
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('x'));
        controller.close();
      },
    });
    const error = await client
      .fetch(`${server.issuer}/api/echo`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit)
      .catch((e) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(String(error.message)).toContain('replayable');
    client.close();
  });
});
