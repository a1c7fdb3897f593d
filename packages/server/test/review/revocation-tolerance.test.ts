/**
 * Review: a denylisted access token must stay dead for as long as the server's own verifier
 * would accept it, i.e. until exp + clock tolerance (30 s), not only until exp.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { addClient, revoke } from '../support/clients.js';
import { claimsOf, type Harness, signUp, startHarness, whoami } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('review: jti denylist vs clock tolerance', () => {
  it('an access token revoked with /oauth/revoke stays refused at whoami during the clock tolerance after exp', async () => {
    h = await startHarness();
    const client = await addClient(h, { scopes: 'revoke introspect' });
    const login = await signUp(h);
    expect((await revoke(h, client, { token: login.accessToken, token_type_hint: 'access_token' })).statusCode).toBe(
      200,
    );
    expect((await whoami(h, login.accessToken)).statusCode).toBe(401);
    const { exp } = claimsOf(login.accessToken);
    // 10 s past exp: still inside the verifier's 30 s tolerance, but the denylist row expired at exp.
    h.clock.set(exp + 10);
    expect((await whoami(h, login.accessToken)).statusCode).toBe(401);
  });

  it('an access token revoked during the tolerance window (just after exp) is refused afterwards', async () => {
    h = await startHarness();
    const client = await addClient(h, { scopes: 'revoke introspect' });
    const login = await signUp(h);
    const { exp } = claimsOf(login.accessToken);
    h.clock.set(exp + 5);
    // Still accepted by the server itself (tolerance) ...
    expect((await whoami(h, login.accessToken)).statusCode).toBe(200);
    expect((await revoke(h, client, { token: login.accessToken, token_type_hint: 'access_token' })).statusCode).toBe(
      200,
    );
    // ... so revoking it must take effect, but denyAccessToken skips tokens with exp <= now.
    expect((await whoami(h, login.accessToken)).statusCode).toBe(401);
  });
});
