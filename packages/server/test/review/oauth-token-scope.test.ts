/**
 * Review: /oauth/token accepts a narrower `scope` (RFC 6749 section 6) but ignores it: the
 * response and the new access token carry the session's full scope, so a client that asks
 * for least privilege silently gets everything (and believes it did not).
 */

import { afterEach, describe, expect, it } from 'vitest';
import { claimsOf, type Harness, signUp, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('review: /oauth/token with a narrower scope', () => {
  it('a refresh asking for scope=openid gets an access token (and response) limited to openid', async () => {
    h = await startHarness();
    const login = await signUp(h);
    const res = await h.server.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: login.refreshToken,
        scope: 'openid',
      }).toString(),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const granted = (claimsOf(body.access_token) as unknown as { scope: string }).scope;
    expect({ response: body.scope, token: granted }).toEqual({ response: 'openid', token: 'openid' });
  });
});
