/**
 * Concurrent refreshes of one token (a browser with several tabs, a retrying client): the
 * store's compare-and-set lets exactly one rotate; the others, inside the grace window, get the
 * winner's response; outside it they are reuses and the family is revoked once.
 */

import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { claimsOf, cookieValue, type Harness, refreshWith, signUp, startHarness, whoami } from './support/harness.js';

const N = 50;

function tokensOfSession(h: Harness, sid: string): { total: number; rotated: number } {
  return h.store.db
    .prepare('SELECT count(*) AS total, count(rotated_at) AS rotated FROM refresh_tokens WHERE session_id = ?')
    .get(sid) as { total: number; rotated: number };
}

async function auditCount(h: Harness, sid: string, type: string): Promise<number> {
  return (await h.store.listAudit({ sessionId: sid, limit: 1000 })).filter((e) => e.type === type).length;
}

/**
 * Counts how many requests had looked the token up before the first rotation finished: more
 * than one means the requests really overlapped and the compare-and-set decided, not the order.
 */
function watchOverlap(h: Harness): () => number {
  const store = h.store;
  const find = store.findRefreshContext.bind(store);
  const rotate = store.rotateRefreshToken.bind(store);
  let lookups = 0;
  let overlap = 0;
  let rotated = false;
  store.findRefreshContext = async (hash) => {
    if (!rotated) lookups += 1;
    return find(hash);
  };
  store.rotateRefreshToken = async (input) => {
    const result = await rotate(input);
    if (!rotated) overlap = lookups;
    rotated = true;
    return result;
  };
  return () => overlap;
}

describe('concurrent refreshes of one token', () => {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    for (const h of harnesses.splice(0).reverse()) await h.close();
  });
  async function harness(...args: Parameters<typeof startHarness>) {
    const h = await startHarness(...args);
    harnesses.push(h);
    return h;
  }

  it(`${N} concurrent refreshes: exactly one rotation, all 200 with the same new refresh and access token`, async () => {
    const h = await harness();
    const login = await signUp(h);
    const sid = claimsOf(login.accessToken).sid;
    const overlap = watchOverlap(h);

    const responses = await Promise.all(Array.from({ length: N }, () => refreshWith(h, login.refreshToken)));

    expect(overlap()).toBeGreaterThan(1);
    expect(responses.map((r) => r.statusCode)).toEqual(Array(N).fill(200));
    const refreshTokens = new Set(responses.map((r) => cookieValue(String(r.headers['set-cookie']))));
    const accessTokens = new Set(responses.map((r) => r.json().access_token));
    expect(refreshTokens.size).toBe(1);
    expect(accessTokens.size).toBe(1);
    expect(tokensOfSession(h, sid)).toEqual({ total: 2, rotated: 1 });
    expect(await auditCount(h, sid, 'refresh.rotated')).toBe(1);
    expect(await auditCount(h, sid, 'refresh.grace_replayed')).toBe(N - 1);
    expect(await auditCount(h, sid, 'refresh.reuse_detected')).toBe(0);
    expect((await h.store.findSession(sid))?.revokedAt).toBeNull();
    // The one successor is live: the family goes on.
    const [successor] = refreshTokens;
    expect((await whoami(h, [...accessTokens][0] as string)).statusCode).toBe(200);
    h.clock.advance(30);
    expect((await refreshWith(h, successor as string)).statusCode).toBe(200);
  });

  it(`the same race after the grace window: all ${N} fail and the family is revoked once`, async () => {
    const h = await harness();
    const login = await signUp(h);
    const sid = claimsOf(login.accessToken).sid;
    const first = await refreshWith(h, login.refreshToken);
    const successor = cookieValue(String(first.headers['set-cookie']));
    h.clock.advance(11);
    const overlap = watchOverlap(h);

    const responses = await Promise.all(Array.from({ length: N }, () => refreshWith(h, login.refreshToken)));

    expect(overlap()).toBeGreaterThan(1);
    for (const r of responses) {
      expect(r.statusCode).toBe(401);
      expect(r.json().error).toBe('invalid_grant');
      expect(['ERR_REFRESH_REUSED', 'ERR_REFRESH_REVOKED']).toContain(r.json().code);
    }
    expect(responses.filter((r) => r.json().code === 'ERR_REFRESH_REUSED')).toHaveLength(1);
    expect(tokensOfSession(h, sid)).toEqual({ total: 2, rotated: 1 });
    expect(await h.store.findSession(sid)).toMatchObject({ revokedReason: 'refresh_reuse' });
    expect(await auditCount(h, sid, 'refresh.reuse_detected')).toBe(1);
    expect((await h.store.listRevocations(0, 100, h.clock())).filter((e) => e.value === sid)).toHaveLength(1);
    expectError(await refreshWith(h, successor), 'ERR_REFRESH_REVOKED');
  });

  it('two server instances with their own SqliteStore on one database file: exactly one winner', async () => {
    const masterKey = randomBytes(32);
    const a = await harness({}, { masterKey });
    const b = await harness({}, { masterKey, dir: a.dir });
    expect(b.dbPath).toBe(a.dbPath);
    expect(b.store).not.toBe(a.store);
    const login = await signUp(a);
    const sid = claimsOf(login.accessToken).sid;

    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) => refreshWith(i % 2 === 0 ? a : b, login.refreshToken)),
    );

    expect(responses.map((r) => r.statusCode)).toEqual(Array(N).fill(200));
    expect(new Set(responses.map((r) => cookieValue(String(r.headers['set-cookie'])))).size).toBe(1);
    expect(new Set(responses.map((r) => r.json().access_token)).size).toBe(1);
    expect(tokensOfSession(a, sid)).toEqual({ total: 2, rotated: 1 });
    expect(await auditCount(a, sid, 'refresh.rotated')).toBe(1);
    // The winner's tokens are good on both instances.
    const access = responses[0]?.json().access_token as string;
    expect((await whoami(a, access)).statusCode).toBe(200);
    expect((await whoami(b, access)).statusCode).toBe(200);
  });

  it('two instances with refreshGraceSec 0 racing one token: one rotates, the other is a reuse that revokes', async () => {
    const masterKey = randomBytes(32);
    const a = await harness({ refreshGraceSec: 0 }, { masterKey });
    const b = await harness({ refreshGraceSec: 0 }, { masterKey, dir: a.dir });
    const login = await signUp(a);
    const sid = claimsOf(login.accessToken).sid;

    const [ra, rb] = await Promise.all([refreshWith(a, login.refreshToken), refreshWith(b, login.refreshToken)]);

    expect([ra?.statusCode, rb?.statusCode].sort()).toEqual([200, 401]);
    expect([ra?.json().code, rb?.json().code]).toContain('ERR_REFRESH_REUSED');
    expect(tokensOfSession(a, sid)).toEqual({ total: 2, rotated: 1 });
    expect(await a.store.findSession(sid)).toMatchObject({ revokedReason: 'refresh_reuse' });
  });
});
