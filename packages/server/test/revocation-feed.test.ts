/**
 * GET /auth/revocations over real sockets: the JSON snapshot, the SSE stream (replay after
 * Last-Event-ID, live events, heartbeats, the replay/live boundary), client authentication,
 * clean-up on disconnect and on server close, and `kid` events on key retirement.
 */

import type { RevocationEvent } from '@tessera/server';
import { afterEach, describe, expect, it } from 'vitest';
import { addClient, basic, type TestClient } from './support/clients.js';
import { claimsOf, type Harness, logIn, refreshWith, signUp, startHarness, withBearer } from './support/harness.js';
import { openSse, type SseConnection } from './support/sse.js';

const RELEVANCE = 600 + 30;

let h: Harness;
let base: string;
let client: TestClient;
const open: SseConnection[] = [];

async function start(config: Parameters<typeof startHarness>[0] = {}): Promise<void> {
  h = await startHarness({ port: 0, revocationHeartbeatSec: 1, ...config });
  base = await h.server.listen();
  client = await addClient(h, { scopes: 'revocations' });
}

afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await h?.close();
});

const auth = () => ({ authorization: basic(client.id, client.secret) });

async function sse(query = '', headers: Record<string, string> = {}): Promise<SseConnection> {
  const c = await openSse(`${base}/auth/revocations${query}`, { ...auth(), ...headers });
  open.push(c);
  return c;
}

const logged = () => h.store.listRevocations(0, 10_000, h.clock());
const heartbeats = (c: SseConnection) => c.messages.filter((m) => m.event === 'heartbeat').length;

/** Counts the store subscriptions the route holds. */
function countSubscriptions(): { active: () => number } {
  let active = 0;
  const original = h.store.subscribe.bind(h.store);
  h.store.subscribe = (listener: (event: RevocationEvent) => void) => {
    active += 1;
    const off = original(listener);
    let done = false;
    return () => {
      if (!done) active -= 1;
      done = true;
      off();
    };
  };
  return { active: () => active };
}

async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('GET /auth/revocations: authentication', () => {
  it('401 invalid_client without or with wrong credentials, 403 unauthorized_client without the scope', async () => {
    await start();
    for (const accept of ['application/json', 'text/event-stream']) {
      const none = await fetch(`${base}/auth/revocations`, { headers: { accept } });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Basic realm="tessera"');
      expect((await none.json()).error).toBe('invalid_client');

      const wrong = await fetch(`${base}/auth/revocations`, {
        headers: { accept, authorization: basic(client.id, `${client.secret.slice(0, -1)}x`) },
      });
      expect(wrong.status).toBe(401);
      expect((await wrong.json()).error).toBe('invalid_client');
    }
    const introspector = await addClient(h, { scopes: 'introspect revoke' });
    for (const accept of ['application/json', 'text/event-stream']) {
      const res = await fetch(`${base}/auth/revocations`, {
        headers: { accept, authorization: basic(introspector.id, introspector.secret) },
      });
      expect(res.status).toBe(403);
      expect((await res.json()).error).toBe('unauthorized_client');
    }
  });

  it('a malformed Last-Event-ID or format is a 400', async () => {
    await start();
    const bad = await fetch(`${base}/auth/revocations`, {
      headers: { ...auth(), accept: 'text/event-stream', 'last-event-id': 'abc' },
    });
    expect(bad.status).toBe(400);
    const format = await fetch(`${base}/auth/revocations?format=xml`, { headers: auth() });
    expect(format.status).toBe(400);
  });
});

describe('GET /auth/revocations: JSON snapshot', () => {
  it('lists every relevant event with last_id and relevance_sec, pages with ?after=, drops expired ones', async () => {
    await start();
    const a = await signUp(h);
    const b = await logIn(h);
    await withBearer(h, 'DELETE', `/auth/sessions/${claimsOf(b.accessToken).sid}`, a.accessToken);
    await withBearer(h, 'POST', '/auth/logout-all', a.accessToken);
    const log = await logged();
    expect(log.length).toBeGreaterThanOrEqual(3);

    const res = await fetch(`${base}/auth/revocations`, { headers: { ...auth(), accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body).toEqual({
      events: log.map((e) => ({ id: e.id, kind: e.kind, value: e.value, at: e.at, expires_at: e.expiresAt })),
      last_id: (log[log.length - 1] as RevocationEvent).id,
      relevance_sec: RELEVANCE,
      heartbeat_sec: 1,
      has_more: false,
    });

    // ?format=json wins over Accept; ?after= skips what the caller has.
    const first = (log[0] as RevocationEvent).id;
    const after = await (
      await fetch(`${base}/auth/revocations?format=json&after=${first}`, {
        headers: { ...auth(), accept: 'text/event-stream' },
      })
    ).json();
    expect(after.events.map((e: { id: number }) => e.id)).toEqual(log.slice(1).map((e) => e.id));

    // Past their relevance, events leave the snapshot; last_id falls back to `after`.
    h.clock.advance(RELEVANCE + 1);
    const later = await (await fetch(`${base}/auth/revocations?format=json`, { headers: auth() })).json();
    expect(later.events).toEqual([]);
    expect(later.last_id).toBe(0);
  });
});

describe('GET /auth/revocations: event stream', () => {
  it('sends the SSE headers and retry, replays after Last-Event-ID (header or ?after=), then a heartbeat', async () => {
    await start();
    const a = await signUp(h);
    const b = await logIn(h);
    const c = await logIn(h);
    await withBearer(h, 'DELETE', `/auth/sessions/${claimsOf(b.accessToken).sid}`, a.accessToken);
    await withBearer(h, 'DELETE', `/auth/sessions/${claimsOf(c.accessToken).sid}`, a.accessToken);
    await withBearer(h, 'POST', '/auth/logout-all', a.accessToken);
    const log = await logged();
    const second = (log[1] as RevocationEvent).id;

    const stream = await sse('', { 'last-event-id': String((log[0] as RevocationEvent).id) });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('cache-control')).toBe('no-store');
    expect(stream.headers.get('x-accel-buffering')).toBe('no');
    expect(stream.headers.get('connection')).toBe('keep-alive');
    await stream.waitFor((m) => m.some((x) => x.event === 'heartbeat'));
    expect(stream.text().startsWith('retry: 1000\n\n')).toBe(true);
    const replayed = stream.messages.slice(0, log.length - 1);
    expect(replayed.map((m) => m.event)).toEqual(log.slice(1).map(() => 'revocation'));
    expect(replayed.map((m) => Number(m.id))).toEqual(log.slice(1).map((e) => e.id));
    expect(stream.revocations()).toEqual(
      log.slice(1).map((e) => ({ id: e.id, kind: e.kind, value: e.value, at: e.at, expires_at: e.expiresAt })),
    );
    const heartbeat = stream.messages[log.length - 1];
    expect(heartbeat).toEqual({ event: 'heartbeat', data: JSON.stringify({ at: h.clock() }), id: undefined });

    const viaQuery = await sse(`?after=${second}`);
    await viaQuery.waitFor((m) => m.some((x) => x.event === 'heartbeat'));
    expect(viaQuery.revocations().map((e) => e.id)).toEqual(log.slice(2).map((e) => e.id));
  });

  it('streams live events (logout, session delete, logout-all, reuse) with increasing ids, and heartbeats', async () => {
    await start();
    const a = await signUp(h);
    const stream = await sse();
    await stream.waitFor((m) => m.some((x) => x.event === 'heartbeat'));
    expect(stream.revocations()).toEqual([]);

    const t0 = performance.now();
    // logout: the session, then the access token's jti.
    await h.server.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { cookie: `__Secure-tessera_rt=${a.refreshToken}`, authorization: `Bearer ${a.accessToken}` },
    });
    await stream.waitFor(() => stream.revocations().length >= 2);
    const firstLatencyMs = performance.now() - t0;
    // session delete.
    const b = await logIn(h);
    const c = await logIn(h);
    await withBearer(h, 'DELETE', `/auth/sessions/${claimsOf(c.accessToken).sid}`, b.accessToken);
    // reuse detection.
    const d = await logIn(h);
    await refreshWith(h, d.refreshToken);
    h.clock.advance(11);
    await refreshWith(h, d.refreshToken);
    // logout-all.
    await withBearer(h, 'POST', '/auth/logout-all', b.accessToken);

    const log = await logged();
    await stream.waitFor(() => stream.revocations().length >= log.length);
    const got = stream.revocations();
    expect(got.map((e) => e.id)).toEqual(log.map((e) => e.id));
    for (let i = 1; i < got.length; i++) expect((got[i] as { id: number }).id).toBeGreaterThan(got[i - 1]?.id ?? 0);
    expect(got.map((e) => e.kind)).toEqual(['sid', 'jti', 'sid', 'sid', 'sid', 'sub', 'jti']);
    expect(got[0]?.value).toBe(claimsOf(a.accessToken).sid);
    expect(got[2]?.value).toBe(claimsOf(c.accessToken).sid);
    expect(got[3]?.value).toBe(claimsOf(d.accessToken).sid);
    // Every revocation message carries its id; heartbeats none.
    for (const m of stream.messages) {
      if (m.event === 'revocation') expect(m.id).toBe(String(JSON.parse(m.data).id));
      else expect(m.id).toBeUndefined();
    }
    console.log(`revocation feed: logout → SSE event in ${firstLatencyMs.toFixed(1)} ms`);

    // Heartbeats keep coming (1 s here).
    const before = heartbeats(stream);
    await stream.waitFor(() => heartbeats(stream) >= before + 2, 4000);
  });

  it('no gap and no duplicate at the replay/live boundary, under concurrent revocations', async () => {
    await start();
    const revocation = h.server.context.revocation;
    for (let i = 0; i < 50; i++) await revocation.announceKeyRetired(`pre-${i}`, h.clock());
    // Revocations keep landing while streams connect and replay.
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) {
        await revocation.announceKeyRetired(`live-${n++}`, h.clock());
        await new Promise((r) => setImmediate(r));
      }
    })();
    const streams = await Promise.all([
      sse(),
      sse('', { 'last-event-id': '10' }),
      sse('', { 'last-event-id': '25' }),
      sse('', { 'last-event-id': '49' }),
    ]);
    await new Promise((r) => setTimeout(r, 200));
    writing = false;
    await writer;
    const log = await logged();
    expect(n).toBeGreaterThan(10);
    const starts = [0, 10, 25, 49];
    await Promise.all(
      streams.map((s, i) =>
        s.waitFor(() => s.revocations().length >= log.filter((e) => e.id > (starts[i] as number)).length),
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    streams.forEach((s, i) => {
      const ids = s.revocations().map((e) => e.id);
      expect(ids).toEqual(log.filter((e) => e.id > (starts[i] as number)).map((e) => e.id));
    });
  });

  it('delivers, by the next heartbeat, events another process wrote to the log without publishing them here', async () => {
    await start();
    const stream = await sse();
    await stream.waitFor((m) => m.some((x) => x.event === 'heartbeat'));
    // appendRevocation without publish: what the CLI or a second instance on the same store does.
    const event = await h.store.appendRevocation({
      kind: 'user_disabled',
      value: 'usr_x',
      at: h.clock(),
      expiresAt: h.clock() + 60,
    });
    await stream.waitFor(() => stream.revocations().some((e) => e.id === event.id), 3000);
  });

  it("releases a disconnected client's subscription and timer", async () => {
    await start();
    const subs = countSubscriptions();
    const a = await sse();
    const b = await sse();
    await a.waitFor((m) => m.some((x) => x.event === 'heartbeat'));
    await b.waitFor((m) => m.some((x) => x.event === 'heartbeat'));
    expect(subs.active()).toBe(2);
    const t0 = performance.now();
    a.close();
    await until(() => subs.active() === 1);
    console.log(`revocation feed: subscription released ${(performance.now() - t0).toFixed(1)} ms after disconnect`);
    b.close();
    await until(() => subs.active() === 0);
    // The server still serves new streams.
    const c = await sse();
    await c.waitFor((m) => m.some((x) => x.event === 'heartbeat'));
    expect(subs.active()).toBe(1);
  });

  it('server close ends open streams promptly', async () => {
    await start({ revocationHeartbeatSec: 60 });
    const subs = countSubscriptions();
    const streams = await Promise.all([sse(), sse(), sse()]);
    await Promise.all(streams.map((s) => s.waitFor((m) => m.some((x) => x.event === 'heartbeat'))));
    const t0 = performance.now();
    await h.server.close();
    const closeMs = performance.now() - t0;
    await Promise.all(streams.map((s) => s.ended));
    expect(closeMs).toBeLessThan(1000);
    expect(subs.active()).toBe(0);
    console.log(`revocation feed: server close with 3 open streams took ${closeMs.toFixed(1)} ms`);
  });

  it('announces a retired signing key as a kid event', async () => {
    await start({ accessTokenTtlSec: 60, jwksMaxAgeSec: 60, keyRotationIntervalSec: 3600 });
    const oldKid = h.server.context.keys.current.kid;
    const stream = await sse();
    await stream.waitFor((m) => m.some((x) => x.event === 'heartbeat'));
    h.clock.advance(3600);
    await h.server.runMaintenance(h.clock()); // rotates: the old key is retiring
    expect(h.server.context.keys.current.kid).not.toBe(oldKid);
    expect(stream.revocations()).toEqual([]);
    h.clock.advance(60 + 30 + 60 + 1);
    const retiredAt = h.clock();
    await h.server.runMaintenance(retiredAt); // retires it
    await stream.waitFor(() => stream.revocations().length > 0);
    expect(stream.revocations()).toEqual([
      expect.objectContaining({ kind: 'kid', value: oldKid, at: retiredAt, expires_at: retiredAt + 90 }),
    ]);
  });
});
