/**
 * Refresh token reuse detection. A refresh token is single-use: its second use after the grace
 * window means two parties hold it (one of them a thief), so the whole family (the session) is
 * revoked, whoever presents which token next.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { expectBearerError, expectError } from './support/expect-error.js';
import {
  claimsOf,
  clearsRefreshCookie,
  cookieMaxAge,
  cookieValue,
  type Harness,
  refreshWith,
  signUp,
  startHarness,
  whoami,
} from './support/harness.js';

const VICTIM = { ip: '203.0.113.10', ua: 'VictimBrowser/1.0' };
const ATTACKER = { ip: '198.51.100.66', ua: 'curl/8.0 (attacker)' };

function refreshAs(h: Harness, token: string, who: { ip: string; ua: string }) {
  return h.server.app.inject({
    method: 'POST',
    url: '/auth/refresh',
    remoteAddress: who.ip,
    headers: { cookie: `__Secure-tessera_rt=${token}`, 'user-agent': who.ua },
  });
}

async function auditOf(h: Harness, sessionId: string, type: string) {
  return (await h.store.listAudit({ sessionId, limit: 200 })).filter((e) => e.type === type);
}

describe('refresh token reuse', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  /** Login, then the victim rotates T1 → T2; the attacker still holds T1. */
  async function stolenAfterRotation() {
    const login = await signUp(h);
    const sid = claimsOf(login.accessToken).sid;
    const victim = await refreshAs(h, login.refreshToken, VICTIM);
    expect(victim.statusCode).toBe(200);
    return {
      sid,
      stolen: login.refreshToken,
      victimToken: cookieValue(String(victim.headers['set-cookie'])),
      victimAccess: victim.json().access_token as string,
      loginAccess: login.accessToken,
    };
  }

  it('a reuse after the grace window revokes the family: the attacker and the victim both fail next', async () => {
    h = await startHarness();
    const s = await stolenAfterRotation();
    h.clock.advance(11);

    const reuse = await refreshAs(h, s.stolen, ATTACKER);
    expectError(reuse, 'ERR_REFRESH_REUSED');
    expect(reuse.json().error).toBe('invalid_grant');
    expect(clearsRefreshCookie(reuse.headers['set-cookie'])).toBe(true);

    const victimNext = await refreshAs(h, s.victimToken, VICTIM);
    expectError(victimNext, 'ERR_REFRESH_REVOKED');
    expect(clearsRefreshCookie(victimNext.headers['set-cookie'])).toBe(true);

    const attackerAgain = await refreshAs(h, s.stolen, ATTACKER);
    expectError(attackerAgain, 'ERR_REFRESH_REVOKED');

    // Every access token of the session is dead at once, not only at its expiry.
    expectBearerError(await whoami(h, s.victimAccess), 'ERR_TOKEN_REVOKED');
    expectBearerError(await whoami(h, s.loginAccess), 'ERR_TOKEN_REVOKED');
    expect(await h.store.findSession(s.sid)).toMatchObject({ revokedReason: 'refresh_reuse', revokedAt: h.clock() });
  });

  it('audits refresh.reuse_detected once, with the family and the IP and user agent of both uses', async () => {
    h = await startHarness();
    const s = await stolenAfterRotation();
    const rotatedAt = h.clock();
    h.clock.advance(11);
    await refreshAs(h, s.stolen, ATTACKER);
    await refreshAs(h, s.stolen, ATTACKER);
    await refreshAs(h, s.victimToken, VICTIM);

    const events = await auditOf(h, s.sid, 'refresh.reuse_detected');
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({
      type: 'refresh.reuse_detected',
      sessionId: s.sid,
      ip: ATTACKER.ip,
      userAgent: ATTACKER.ua,
      at: rotatedAt + 11,
      data: {
        family: s.sid,
        firstUse: { at: rotatedAt, ip: VICTIM.ip, userAgent: VICTIM.ua },
        reuse: { at: rotatedAt + 11, ip: ATTACKER.ip, userAgent: ATTACKER.ua },
      },
    });
    // The revocation itself is audited and logged once, however often the dead tokens come back.
    expect(await auditOf(h, s.sid, 'session.revoked')).toEqual([
      expect.objectContaining({ data: { reason: 'refresh_reuse', by: 'system' } }),
    ]);
    const sidEvents = (await h.store.listRevocations(0, 100, h.clock())).filter((e) => e.value === s.sid);
    expect(sidEvents).toHaveLength(1);
    // No token material in the audit trail.
    const text = JSON.stringify(await h.store.listAudit({ limit: 200 }));
    for (const secret of [s.stolen, s.victimToken, s.victimAccess, s.loginAccess]) expect(text).not.toContain(secret);
  });

  it('with refreshGraceSec 0 every second use is a reuse, even in the same second', async () => {
    h = await startHarness({ refreshGraceSec: 0 });
    const login = await signUp(h);
    const first = await refreshWith(h, login.refreshToken);
    expect(first.statusCode).toBe(200);
    const next = cookieValue(String(first.headers['set-cookie']));

    expectError(await refreshWith(h, login.refreshToken), 'ERR_REFRESH_REUSED');
    expectError(await refreshWith(h, next), 'ERR_REFRESH_REVOKED');
    expectBearerError(await whoami(h, first.json().access_token), 'ERR_TOKEN_REVOKED');
    // Without a grace window no replay is kept at rest.
    const replays = h.store.db
      .prepare('SELECT count(*) AS n FROM refresh_tokens WHERE grace_response IS NOT NULL')
      .get();
    expect(replays).toEqual({ n: 0 });
  });

  it('a duplicate within the grace window gets the winner’s body and refresh cookie; a use after it revokes', async () => {
    h = await startHarness();
    const login = await signUp(h);
    const sid = claimsOf(login.accessToken).sid;
    const winner = await refreshWith(h, login.refreshToken);
    expect(winner.statusCode).toBe(200);
    const winnerToken = cookieValue(String(winner.headers['set-cookie']));

    h.clock.advance(10); // the last second of the window
    const replay = await refreshWith(h, login.refreshToken);
    expect(replay.statusCode).toBe(200);
    expect(replay.body).toBe(winner.body);
    expect(cookieValue(String(replay.headers['set-cookie']))).toBe(winnerToken);
    // The replayed cookie still ends with the session, counted from now.
    expect(cookieMaxAge(String(replay.headers['set-cookie']))).toBe(30 * 86_400 - 10);
    expect(await auditOf(h, sid, 'refresh.grace_replayed')).toHaveLength(1);
    expect(await auditOf(h, sid, 'refresh.rotated')).toHaveLength(1);

    h.clock.advance(1); // 11 s after the rotation: outside the window
    expectError(await refreshWith(h, login.refreshToken), 'ERR_REFRESH_REUSED');
    expectError(await refreshWith(h, winnerToken), 'ERR_REFRESH_REVOKED');
    expect(await auditOf(h, sid, 'refresh.reuse_detected')).toHaveLength(1);
  });

  it('the replayed successor works like the original: the family goes on after a grace replay', async () => {
    h = await startHarness();
    const login = await signUp(h);
    const winner = await refreshWith(h, login.refreshToken);
    const replay = await refreshWith(h, login.refreshToken);
    expect(replay.statusCode).toBe(200);
    h.clock.advance(60);
    const next = await refreshWith(h, cookieValue(String(replay.headers['set-cookie'])));
    expect(next.statusCode).toBe(200);
    expect(cookieValue(String(next.headers['set-cookie']))).not.toBe(cookieValue(String(winner.headers['set-cookie'])));
    expect((await whoami(h, next.json().access_token)).statusCode).toBe(200);
  });

  it('the stored grace replay is sealed: neither the successor nor the access token is readable at rest', async () => {
    h = await startHarness();
    const login = await signUp(h);
    const winner = await refreshWith(h, login.refreshToken);
    const successor = cookieValue(String(winner.headers['set-cookie']));
    const access = winner.json().access_token as string;
    const rows = h.store.db.prepare('SELECT * FROM refresh_tokens').all();
    expect(rows).toHaveLength(2);
    const atRest = JSON.stringify(rows);
    expect(atRest).toContain('v1.'); // the replay is there, as an envelope
    for (const secret of [login.refreshToken, successor, access, access.split('.')[2] as string]) {
      expect(atRest).not.toContain(secret);
    }
  });
});
