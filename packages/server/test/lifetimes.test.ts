/**
 * Token and session lifetimes: the 14-day sliding idle window, the 30-day absolute ceiling,
 * the cookie never outliving the session, the 600 s access token with 30 s verifier tolerance,
 * and the validated configuration behind them.
 */

import { createAuthServer, resolveConfig } from '@tessera/server';
import { SqliteStore } from '@tessera/store-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { expectBearerError, expectError } from './support/expect-error.js';
import {
  claimsOf,
  clearsRefreshCookie,
  cookieMaxAge,
  cookieValue,
  type Harness,
  logIn,
  refreshWith,
  START,
  signUp,
  startHarness,
  whoami,
} from './support/harness.js';

const DAY = 86_400;
const IDLE = 14 * DAY;
const ABSOLUTE = 30 * DAY;

describe('refresh lifetimes', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('the idle window is 14 days: unused for 14 d − 1 s still refreshes, unused for 14 d + 1 s is expired', async () => {
    h = await startHarness();
    const a = await signUp(h);
    const b = await logIn(h);

    h.clock.set(START + IDLE - 1);
    expect((await refreshWith(h, a.refreshToken)).statusCode).toBe(200);

    h.clock.set(START + IDLE + 1);
    const expired = await refreshWith(h, b.refreshToken);
    expectError(expired, 'ERR_REFRESH_EXPIRED');
    expect(clearsRefreshCookie(expired.headers['set-cookie'])).toBe(true);
    // Expiry is not a reuse: the session is not revoked, nothing was rotated.
    expect((await h.store.findSession(claimsOf(b.accessToken).sid))?.revokedAt).toBeNull();
  });

  it('each refresh slides the idle window: refreshed at day 8 it still refreshes at day 15, a 14 d + 1 s gap ends it', async () => {
    h = await startHarness();
    let token = (await signUp(h)).refreshToken;
    const sid = claimsOf((await logIn(h)).accessToken).sid; // a second session, to check it does not slide
    for (const day of [8, 15]) {
      h.clock.set(START + day * DAY);
      const res = await refreshWith(h, token);
      expect(res.statusCode).toBe(200);
      token = cookieValue(String(res.headers['set-cookie']));
      const session = await h.store.findSession(claimsOf(res.json().access_token).sid);
      expect(session).toMatchObject({ lastUsedAt: h.clock(), idleExpiresAt: h.clock() + IDLE });
    }
    expect((await h.store.findSession(sid))?.idleExpiresAt).toBe(START + IDLE);

    h.clock.set(START + 15 * DAY + IDLE + 1); // day 29: inside the ceiling, outside the idle window
    expectError(await refreshWith(h, token), 'ERR_REFRESH_EXPIRED');
  });

  it('refreshing every day still ends at the 30-day ceiling, and the cookie Max-Age never exceeds what is left', async () => {
    h = await startHarness();
    const login = await signUp(h);
    const sid = claimsOf(login.accessToken).sid;
    expect(cookieMaxAge(login.setCookie)).toBe(ABSOLUTE);
    let token = login.refreshToken;
    for (let day = 1; day < 30; day++) {
      h.clock.set(START + day * DAY);
      const res = await refreshWith(h, token);
      expect(res.statusCode).toBe(200);
      const setCookie = String(res.headers['set-cookie']);
      token = cookieValue(setCookie);
      const remaining = START + ABSOLUTE - h.clock();
      expect(cookieMaxAge(setCookie)).toBe(remaining);
      // Neither the session's idle expiry nor the new token outlives the ceiling.
      const session = await h.store.findSession(sid);
      expect(session?.idleExpiresAt).toBe(Math.min(h.clock() + IDLE, START + ABSOLUTE));
      const row = h.store.db.prepare('SELECT max(expires_at) AS e FROM refresh_tokens WHERE session_id = ?').get(sid);
      expect((row as { e: number }).e).toBeLessThanOrEqual(START + ABSOLUTE);
    }
    h.clock.set(START + ABSOLUTE);
    const end = await refreshWith(h, token);
    expectError(end, 'ERR_REFRESH_EXPIRED');
    expect(clearsRefreshCookie(end.headers['set-cookie'])).toBe(true);
  });

  it('an access token minted just before the ceiling dies at whoami when the session ends', async () => {
    h = await startHarness();
    const login = await signUp(h);
    let token = login.refreshToken;
    for (const day of [13, 26]) {
      h.clock.set(START + day * DAY);
      token = cookieValue(String((await refreshWith(h, token)).headers['set-cookie']));
    }
    h.clock.set(START + ABSOLUTE - 300);
    const last = await refreshWith(h, token);
    expect(last.statusCode).toBe(200);
    const access = last.json().access_token as string;
    expect(claimsOf(access).exp).toBe(START + ABSOLUTE + 300);
    expect((await whoami(h, access)).statusCode).toBe(200);
    h.clock.set(START + ABSOLUTE);
    expectBearerError(await whoami(h, access), 'ERR_TOKEN_REVOKED');
  });
});

describe('access token lifetime', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('lives 600 s plus the 30 s verifier tolerance at whoami, then ERR_TOKEN_EXPIRED', async () => {
    h = await startHarness();
    const { accessToken } = await signUp(h);
    expect(claimsOf(accessToken).exp - claimsOf(accessToken).iat).toBe(600);
    h.clock.set(START + 629);
    expect((await whoami(h, accessToken)).statusCode).toBe(200);
    h.clock.set(START + 630);
    expectBearerError(await whoami(h, accessToken), 'ERR_TOKEN_EXPIRED');
  });

  it('accessTokenTtlSec sets exp and expires_in', async () => {
    h = await startHarness({ accessTokenTtlSec: 300 });
    const { refreshToken } = await signUp(h);
    const res = await refreshWith(h, refreshToken);
    expect(res.json().expires_in).toBe(300);
    const claims = claimsOf(res.json().access_token);
    expect(claims.exp - claims.iat).toBe(300);
    h.clock.set(START + 330);
    expectBearerError(await whoami(h, res.json().access_token), 'ERR_TOKEN_EXPIRED');
  });

  it('TESSERA_ACCESS_TOKEN_TTL_SEC in the environment configures a running server', async () => {
    h = await startHarness({}, { env: { TESSERA_ACCESS_TOKEN_TTL_SEC: '120' } });
    expect(h.server.config.accessTokenTtlSec).toBe(120);
    const { accessToken } = await signUp(h);
    expect(claimsOf(accessToken).exp - claimsOf(accessToken).iat).toBe(120);
  });
});

describe('lifetime configuration', () => {
  it.each([59, 3601, 0, -600, 600.5, Number.NaN])(
    'accessTokenTtlSec %s is refused with a TypeError naming the field',
    (value) => {
      expect(() => resolveConfig({ accessTokenTtlSec: value }, {})).toThrow(TypeError);
      expect(() => resolveConfig({ accessTokenTtlSec: value }, {})).toThrow(
        /accessTokenTtlSec.*TESSERA_ACCESS_TOKEN_TTL_SEC/,
      );
    },
  );

  it('accessTokenTtlSec accepts the bounds 60 and 3600', () => {
    expect(resolveConfig({ accessTokenTtlSec: 60 }, {}).config.accessTokenTtlSec).toBe(60);
    expect(resolveConfig({ accessTokenTtlSec: 3600 }, {}).config.accessTokenTtlSec).toBe(3600);
  });

  it('the environment overrides the default, explicit input overrides the environment', () => {
    expect(resolveConfig({}, {}).config.accessTokenTtlSec).toBe(600);
    expect(resolveConfig({}, { TESSERA_ACCESS_TOKEN_TTL_SEC: '300' }).config.accessTokenTtlSec).toBe(300);
    expect(
      resolveConfig({ accessTokenTtlSec: 900 }, { TESSERA_ACCESS_TOKEN_TTL_SEC: '300' }).config.accessTokenTtlSec,
    ).toBe(900);
    expect(resolveConfig({}, { TESSERA_REFRESH_IDLE_TTL_SEC: '3600' }).config.refreshIdleTtlSec).toBe(3600);
  });

  it.each(['59', '3601', 'abc', '1e3', '600s', '0x258'])(
    'TESSERA_ACCESS_TOKEN_TTL_SEC=%s is refused naming the variable',
    (raw) => {
      expect(() => resolveConfig({}, { TESSERA_ACCESS_TOKEN_TTL_SEC: raw })).toThrow(/TESSERA_ACCESS_TOKEN_TTL_SEC/);
    },
  );

  it('a session ceiling shorter than the idle window is refused', () => {
    expect(() => resolveConfig({ refreshIdleTtlSec: 2 * DAY, sessionMaxTtlSec: DAY }, {})).toThrow(/sessionMaxTtlSec/);
  });

  it('createAuthServer refuses an out-of-range lifetime before touching the store', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    try {
      await expect(
        createAuthServer({
          durable: store,
          ephemeral: store,
          env: {},
          keyTimer: false,
          masterKey: Buffer.alloc(32, 1),
          config: { environment: 'test', accessTokenTtlSec: 3601 },
        }),
      ).rejects.toThrow(/accessTokenTtlSec/);
      expect(store.db.prepare('SELECT count(*) AS n FROM signing_keys').get()).toEqual({ n: 0 });
    } finally {
      await store.close();
    }
  });
});
