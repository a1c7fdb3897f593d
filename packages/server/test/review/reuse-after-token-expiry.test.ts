/**
 * Review: server.md says a rotated token replayed after its own idle expiry answers
 * ERR_REFRESH_EXPIRED, not a reuse, "because the family is already dead by then". It is not:
 * each rotation extends the session's idle end, so a family kept alive by its owner lives on to
 * the absolute end (30 d) while its first tokens expire after 14 d. A thief replaying a stolen,
 * rotated token then gets a quiet ERR_REFRESH_EXPIRED: no reuse detection, no revocation, no
 * `refresh.reuse_detected` audit, and the family (which the thief may also hold a later
 * token of) stays alive.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { cookieValue, type Harness, refreshWith, signUp, startHarness, whoami } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const DAY = 86_400;

describe('review: reuse detection after a rotated token expired', () => {
  it('replaying a rotated token of a live family after its own 14 d expiry is a reuse that revokes the family', async () => {
    h = await startHarness();
    const login = await signUp(h);
    const stolen = login.refreshToken;
    h.clock.advance(DAY);
    let res = await refreshWith(h, stolen);
    expect(res.statusCode).toBe(200);
    let current = cookieValue(String(res.headers['set-cookie']));
    // The owner keeps using the session: it stays alive well beyond 14 days.
    for (const day of [5, 5, 5]) {
      h.clock.advance(day * DAY);
      res = await refreshWith(h, current);
      expect(res.statusCode).toBe(200);
      current = cookieValue(String(res.headers['set-cookie']));
    }
    const live = res.json().access_token as string;
    expect((await whoami(h, live)).statusCode).toBe(200);
    // Day 16: the thief replays the token rotated on day 1. The family is live.
    const replay = await refreshWith(h, stolen);
    expect(replay.json().code).toBe('ERR_REFRESH_REUSED');
    expect((await whoami(h, live)).statusCode).toBe(401);
  });
});
