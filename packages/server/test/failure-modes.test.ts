/** Internal failures answer with a code and no internals: 503 when the store is unavailable, 500 otherwise. */

import { afterEach, describe, expect, it } from 'vitest';
import { clearsRefreshCookie, type Harness, logIn, signUp, startHarness } from './support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('failure modes', () => {
  it('a closed store answers 503 ERR_SERVICE_UNAVAILABLE with Retry-After, and /readyz reports not ready', async () => {
    h = await startHarness();
    await signUp(h);
    const { refreshToken } = await logIn(h);
    await h.store.close();
    const res = await h.server.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      headers: { cookie: `__Secure-tessera_rt=${refreshToken}` },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The service is temporarily unavailable',
      code: 'ERR_SERVICE_UNAVAILABLE',
    });
    expect(res.headers['retry-after']).toBe('1');
    // The session may be intact: the client's retry must still carry its refresh cookie.
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(clearsRefreshCookie(res.headers['set-cookie'])).toBe(false);
    const ready = await h.server.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
  });

  it('a busy database (SQLITE_BUSY) is a 503, not a 500', async () => {
    h = await startHarness();
    await signUp(h);
    const original = h.store.findUserByEmail.bind(h.store);
    h.store.findUserByEmail = async () => {
      throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    };
    const res = await h.server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'alice@example.com', password: 'correct horse battery staple' },
    });
    h.store.findUserByEmail = original;
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('ERR_SERVICE_UNAVAILABLE');
  });

  it('an unexpected error is a 500 ERR_INTERNAL whose body holds no message, stack or detail', async () => {
    h = await startHarness();
    await signUp(h);
    h.store.findUserByEmail = async () => {
      throw new Error('secret internal detail at /srv/tessera/db.js:42');
    };
    const res = await h.server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'alice@example.com', password: 'correct horse battery staple' },
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      error: 'server_error',
      error_description: 'Internal server error',
      code: 'ERR_INTERNAL',
    });
    expect(res.body).not.toMatch(/secret|\/srv|stack|at /);
  });
});

describe('bearer challenges (RFC 6750 section 3)', () => {
  it('map each bearer failure code to its status and challenge, including ERR_INSUFFICIENT_SCOPE', async () => {
    const { AuthError } = await import('@tessera/core');
    const { bearerChallenge } = await import('@tessera/server');
    const scope = new AuthError('ERR_INSUFFICIENT_SCOPE');
    expect(scope.status).toBe(403);
    expect(bearerChallenge(scope)).toBe(
      'Bearer realm="tessera", error="insufficient_scope", error_description="The token lacks the required scope"',
    );
    expect(bearerChallenge(new AuthError('ERR_TOKEN_EXPIRED'))).toBe(
      'Bearer realm="tessera", error="invalid_token", error_description="The token has expired"',
    );
  });
});
