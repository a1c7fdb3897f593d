/**
 * The ordered revocation log and its publication: every revocation (logout, logout-all, reuse
 * detection, session delete) is appended in order and published to subscribers, which is how
 * guards and other instances learn of it.
 */

import type { RevocationEvent } from '@tessera/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claimsOf,
  cookieValue,
  type Harness,
  logIn,
  refreshWith,
  signUp,
  startHarness,
  withBearer,
} from './support/harness.js';

const RELEVANCE = 600 + 30;

describe('the revocation log', () => {
  let h: Harness;
  let published: RevocationEvent[];
  let unsubscribe: () => void;
  beforeEach(async () => {
    h = await startHarness();
    published = [];
    unsubscribe = h.store.subscribe((event) => published.push(event));
  });
  afterEach(async () => {
    unsubscribe();
    await h.close();
  });

  const logged = () => h.store.listRevocations(0, 100, h.clock());
  const shape = (events: RevocationEvent[]) => events.map((e) => ({ kind: e.kind, value: e.value }));

  it('every lever is appended in order and published with the same events', async () => {
    const first = await signUp(h);
    const sub = claimsOf(first.accessToken).sub;

    // 1. logout: the cookie's session, then the presented access token's jti.
    h.clock.advance(10);
    const logoutAt = h.clock();
    await h.server.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { cookie: `__Secure-tessera_rt=${first.refreshToken}`, authorization: `Bearer ${first.accessToken}` },
    });

    // 2. session delete.
    const a = await logIn(h);
    const b = await logIn(h);
    h.clock.advance(10);
    await withBearer(h, 'DELETE', `/auth/sessions/${claimsOf(b.accessToken).sid}`, a.accessToken);

    // 3. reuse detection.
    const c = await logIn(h);
    await refreshWith(h, c.refreshToken);
    h.clock.advance(11);
    await refreshWith(h, c.refreshToken);

    // 4. logout-all: every live session, then the user cutoff, then the caller's jti.
    const d = await logIn(h);
    h.clock.advance(10);
    const logoutAllAt = h.clock();
    await withBearer(h, 'POST', '/auth/logout-all', d.accessToken);

    const events = await logged();
    expect(events).toHaveLength(8);
    expect(shape(events.slice(0, 4))).toEqual([
      { kind: 'sid', value: claimsOf(first.accessToken).sid },
      { kind: 'jti', value: claimsOf(first.accessToken).jti },
      { kind: 'sid', value: claimsOf(b.accessToken).sid },
      { kind: 'sid', value: claimsOf(c.accessToken).sid },
    ]);
    // logout-all: exactly the two sessions still live (in either order), then the cutoff, then the jti.
    expect(events.slice(4, 6).map((e) => e.kind)).toEqual(['sid', 'sid']);
    expect(new Set(events.slice(4, 6).map((e) => e.value))).toEqual(
      new Set([claimsOf(a.accessToken).sid, claimsOf(d.accessToken).sid]),
    );
    expect(shape(events.slice(6))).toEqual([
      { kind: 'sub', value: `${sub}@${logoutAllAt}` },
      { kind: 'jti', value: claimsOf(d.accessToken).jti },
    ]);

    // Ordered ids, the time of the action, an expiry covering every token it affects.
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
    expect(events[0]).toMatchObject({ at: logoutAt, expiresAt: logoutAt + RELEVANCE });
    // A jti denial outlives exp by the verifier's clock tolerance (30 s).
    expect(events[1]).toMatchObject({ at: logoutAt, expiresAt: claimsOf(first.accessToken).exp + 30 });
    for (const e of events.filter((x) => x.kind === 'sid' || x.kind === 'sub'))
      expect(e.expiresAt).toBe(e.at + RELEVANCE);

    // Published: the same events, in the same order.
    expect(published).toEqual(events);
  });

  it('pages by id and drops entries once every token they could affect has expired', async () => {
    const one = await signUp(h);
    const two = await logIn(h);
    await withBearer(h, 'DELETE', `/auth/sessions/${claimsOf(two.accessToken).sid}`, one.accessToken);
    await withBearer(h, 'POST', '/auth/logout-all', one.accessToken);
    const all = await logged();
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(await h.store.listRevocations(all[1]?.id as number, 100, h.clock())).toEqual(all.slice(2));
    expect(await h.store.listRevocations(0, 2, h.clock())).toEqual(all.slice(0, 2));
    expect(await h.store.listRevocations(0, 100, h.clock() + RELEVANCE)).toEqual([]);
  });

  it('a revocation that did nothing is not logged: ending an already ended session twice', async () => {
    const one = await signUp(h);
    const two = await logIn(h);
    const sid = claimsOf(two.accessToken).sid;
    await withBearer(h, 'DELETE', `/auth/sessions/${sid}`, one.accessToken);
    await withBearer(h, 'DELETE', `/auth/sessions/${sid}`, one.accessToken);
    expect(shape(await logged())).toEqual([{ kind: 'sid', value: sid }]);
    expect(published).toHaveLength(1);
  });

  it('an unsubscribed listener receives nothing more; the others still do', async () => {
    const late: RevocationEvent[] = [];
    const stop = h.store.subscribe((e) => late.push(e));
    const one = await signUp(h);
    const two = await logIn(h);
    await withBearer(h, 'DELETE', `/auth/sessions/${claimsOf(two.accessToken).sid}`, one.accessToken);
    stop();
    const rotated = await refreshWith(h, one.refreshToken);
    await h.server.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { cookie: `__Secure-tessera_rt=${cookieValue(String(rotated.headers['set-cookie']))}` },
    });
    expect(late).toHaveLength(1);
    expect(published).toHaveLength(2);
  });
});
