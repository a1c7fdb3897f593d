/**
 * Review: AuthService.login reads the user (and its password hash), runs argon2, then starts a
 * session, with nothing tying the new session to the hash it was checked against. A login with
 * the old password that is in flight while the owner changes her password (which revokes "every
 * other session") finishes afterwards and yields a live session authenticated by a password
 * that is no longer valid. An attacker who knows the old password and keeps logging in (every
 * 12 s is within the per-account bucket) keeps access across the password change.
 * The race is made deterministic by holding the attacker's argon2 verification until the
 * password change has completed (the same interleaving the threadpool can produce).
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, PASSWORD, signUp, startHarness, whoami } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('review: a password change vs a login in flight with the old password', () => {
  it('a login checked against the old password hash does not outlive the password change', async () => {
    h = await startHarness();
    const owner = await signUp(h);
    const hasher = h.server.context.auth.hasher as unknown as {
      verify(hash: string, password: string): Promise<boolean>;
    };
    const realVerify = hasher.verify.bind(hasher);
    let release!: () => void;
    const changed = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    let checked!: () => void;
    const attackerChecked = new Promise<void>((resolve) => {
      checked = resolve;
    });
    hasher.verify = async (hash, password) => {
      const first = calls++ === 0;
      const ok = await realVerify(hash, password);
      if (first) {
        checked();
        await changed; // the attacker's check is done; its session is created after the change
      }
      return ok;
    };
    const attacker = h.server.app.inject({
      method: 'POST',
      url: '/auth/login',
      remoteAddress: '203.0.113.66',
      payload: { email: 'alice@example.com', password: PASSWORD },
    });
    await attackerChecked;
    const change = await h.server.app.inject({
      method: 'POST',
      url: '/auth/password',
      headers: { authorization: `Bearer ${owner.accessToken}` },
      payload: { current_password: PASSWORD, new_password: 'a brand new passphrase 123' },
    });
    expect(change.statusCode).toBe(204);
    release();
    const res = await attacker;
    // Either the login is refused, or the session it got is dead.
    if (res.statusCode === 200) expect((await whoami(h, res.json().access_token)).statusCode).toBe(401);
    else expect(res.statusCode).toBe(401);
  });
});
