/**
 * The DurableStore conformance suite. Every test gets a fresh store from the adapter's factory
 * and passes every time explicitly, so the suite never reads a clock and never sleeps.
 */

import type { DurableStore, RevocationEvent, RotationResult, SessionRecord } from '@tessera/server/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  at,
  DAY,
  expectOutcome,
  HOUR,
  ids,
  MINUTE,
  revocation,
  rotateInput,
  sessionRecord,
  sha256Hex,
  signingKeyRecord,
  successor,
  T0,
  userRecord,
} from './fixtures.js';

/** Makes one fresh, migrated, empty store; `cleanup` must also cope with a store the test closed. */
export type DurableStoreFactory = () => Promise<{ store: DurableStore; cleanup(): Promise<void> }>;

export function runDurableStoreConformance(name: string, factory: DurableStoreFactory): void {
  describe(`DurableStore conformance: ${name}`, () => {
    let store: DurableStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      const made = await factory();
      store = made.store;
      cleanup = made.cleanup;
    });

    afterEach(async () => {
      const done = cleanup;
      cleanup = undefined;
      await done?.();
    });

    /** Creates the user (once) and a session with its first refresh token; returns the token hash. */
    async function seedSession(
      id: string,
      overrides: Partial<SessionRecord> = {},
      firstTokenExpiresAt?: number,
    ): Promise<{ session: SessionRecord; tokenHash: string }> {
      const session = sessionRecord(id, overrides.userId ?? 'u-1', overrides);
      await store.createUser(userRecord(session.userId));
      const tokenHash = sha256Hex(`first token of ${id}`);
      await store.createSession(session, { hash: tokenHash, expiresAt: firstTokenExpiresAt ?? session.idleExpiresAt });
      return { session, tokenHash };
    }

    async function mustFindSession(id: string): Promise<SessionRecord> {
      const found = await store.findSession(id);
      expect(found).toBeDefined();
      if (found === undefined) throw new Error(`session ${id} not found`);
      return found;
    }

    describe('lifecycle', () => {
      it('ping resolves on an open store', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('migrate can run again on a migrated store and keeps existing rows', async () => {
        const user = userRecord('u-migrate');
        await store.createUser(user);
        await store.migrate();
        await store.migrate();
        expect(await store.findUserById('u-migrate')).toEqual(user);
      });

      it('close resolves, and ping rejects once the store is closed', async () => {
        await expect(store.close()).resolves.toBeUndefined();
        await expect(store.ping()).rejects.toThrow();
      });
    });

    describe('users', () => {
      it('createUser returns created and the record reads back unchanged by id and by email', async () => {
        const user = userRecord('u-1', { tokensValidAfter: T0 - 5, status: 'disabled' });
        expect(await store.createUser(user)).toBe('created');
        expect(await store.findUserById('u-1')).toEqual(user);
        expect(await store.findUserByEmail('u-1@example.test')).toEqual(user);
      });

      it('findUserById and findUserByEmail return undefined for unknown users', async () => {
        await store.createUser(userRecord('u-1'));
        expect(await store.findUserById('u-2')).toBeUndefined();
        expect(await store.findUserByEmail('u-2@example.test')).toBeUndefined();
      });

      it('createUser returns exists for a duplicate email and keeps the original user', async () => {
        const original = userRecord('u-1', { email: 'ada@example.test' });
        await store.createUser(original);
        expect(await store.createUser(userRecord('u-2', { email: 'ada@example.test' }))).toBe('exists');
        expect(await store.findUserByEmail('ada@example.test')).toEqual(original);
        expect(await store.findUserById('u-2')).toBeUndefined();
      });

      it('createUser returns exists for a duplicate id and keeps the original user', async () => {
        const original = userRecord('u-1', { email: 'ada@example.test' });
        await store.createUser(original);
        expect(await store.createUser(userRecord('u-1', { email: 'grace@example.test' }))).toBe('exists');
        expect(await store.findUserById('u-1')).toEqual(original);
        expect(await store.findUserByEmail('grace@example.test')).toBeUndefined();
      });

      it('updateUser applies only the patched fields, sets updatedAt to now and returns the new record', async () => {
        const user = userRecord('u-1');
        await store.createUser(user);
        await store.createUser(userRecord('u-2'));
        const disabled = await store.updateUser('u-1', { status: 'disabled' }, T0 + 10);
        expect(disabled).toEqual({ ...user, status: 'disabled', updatedAt: T0 + 10 });
        const rehashed = await store.updateUser('u-1', { passwordHash: '$argon2id$new' }, T0 + 20);
        expect(rehashed).toEqual({ ...user, status: 'disabled', passwordHash: '$argon2id$new', updatedAt: T0 + 20 });
        expect(await store.findUserById('u-1')).toEqual(rehashed);
        expect(await store.findUserById('u-2')).toEqual(userRecord('u-2'));
      });

      it('updateUser moves tokensValidAfter forward only: an earlier value never lowers the cutoff', async () => {
        await store.createUser(userRecord('u-1'));
        expect((await store.updateUser('u-1', { tokensValidAfter: T0 + 500 }, T0 + 500))?.tokensValidAfter).toBe(
          T0 + 500,
        );
        expect((await store.updateUser('u-1', { tokensValidAfter: T0 + 300 }, T0 + 600))?.tokensValidAfter).toBe(
          T0 + 500,
        );
        expect((await store.findUserById('u-1'))?.tokensValidAfter).toBe(T0 + 500);
        expect((await store.updateUser('u-1', { tokensValidAfter: T0 + 700 }, T0 + 700))?.tokensValidAfter).toBe(
          T0 + 700,
        );
      });

      it('updateUser returns undefined for an unknown user and creates nothing', async () => {
        expect(await store.updateUser('ghost', { status: 'disabled' }, T0)).toBeUndefined();
        expect(await store.findUserById('ghost')).toBeUndefined();
      });

      it('listUsers pages with limit and offset in a stable order, without gaps or duplicates', async () => {
        for (let i = 0; i < 5; i++) await store.createUser(userRecord(`u-${i}`, { createdAt: T0 + i }));
        const all = await store.listUsers(10, 0);
        expect(ids(all)).toEqual(['u-0', 'u-1', 'u-2', 'u-3', 'u-4']);
        const pages = [await store.listUsers(2, 0), await store.listUsers(2, 2), await store.listUsers(2, 4)];
        expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
        expect(pages.flat().map((u) => u.id)).toEqual(all.map((u) => u.id));
        expect(await store.listUsers(2, 5)).toEqual([]);
        expect(all).toContainEqual(userRecord('u-3', { createdAt: T0 + 3 }));
      });
    });

    describe('sessions', () => {
      it('createSession stores the session: findSession returns it field for field', async () => {
        const { session } = await seedSession('s-1', { scope: 'openid email', ip: null, userAgent: null });
        expect(await store.findSession('s-1')).toEqual(session);
      });

      it('findSession returns undefined for an unknown id', async () => {
        await seedSession('s-1');
        expect(await store.findSession('s-2')).toBeUndefined();
      });

      it('findSessionByRefreshHash finds the session by its first token; an unknown hash finds nothing', async () => {
        const { session, tokenHash } = await seedSession('s-1');
        expect(await store.findSessionByRefreshHash(tokenHash)).toEqual(session);
        expect(await store.findSessionByRefreshHash(sha256Hex('never issued'))).toBeUndefined();
      });

      it('findRefreshContext reads the session, the owner status and the token state in one call', async () => {
        const { session, tokenHash } = await seedSession('s-1');
        expect(await store.findRefreshContext(tokenHash)).toEqual({ session, userStatus: 'active', rotatedAt: null });
        expect(await store.findRefreshContext(sha256Hex('never issued'))).toBeUndefined();

        const input = rotateInput(tokenHash, T0 + 60);
        const rotated = expectOutcome(await store.rotateRefreshToken(input), 'rotated');
        expect(await store.findRefreshContext(tokenHash)).toEqual({
          session: rotated.session,
          userStatus: 'active',
          rotatedAt: T0 + 60,
        });
        expect(await store.findRefreshContext(input.next.hash)).toEqual({
          session: rotated.session,
          userStatus: 'active',
          rotatedAt: null,
        });

        await store.updateUser('u-1', { status: 'disabled' }, T0 + 61);
        expect((await store.findRefreshContext(input.next.hash))?.userStatus).toBe('disabled');
        await store.revokeSession('s-1', 'logout', T0 + 62);
        const revoked = await store.findRefreshContext(input.next.hash);
        expect(revoked?.session.revokedAt).toBe(T0 + 62);
        expect(revoked?.session.revokedReason).toBe('logout');
      });

      it('listSessions returns live sessions only; includeEnded adds revoked and expired ones', async () => {
        const now = T0 + 2 * HOUR;
        await seedSession('live', { idleExpiresAt: now + MINUTE });
        await seedSession('revoked', { idleExpiresAt: now + MINUTE });
        await store.revokeSession('revoked', 'logout', now - 1);
        await seedSession('idle-expired', { idleExpiresAt: now - 1 });
        await seedSession('absolute-expired', { idleExpiresAt: now - 1, absoluteExpiresAt: now - 1 });
        await seedSession('other-user', { userId: 'u-2', idleExpiresAt: now + MINUTE });

        const live = await store.listSessions('u-1', { includeEnded: false, now });
        expect(ids(live)).toEqual(['live']);
        expect(at(live, 0)).toEqual(sessionRecord('live', 'u-1', { idleExpiresAt: now + MINUTE }));
        const all = await store.listSessions('u-1', { includeEnded: true, now });
        expect(ids(all)).toEqual(['absolute-expired', 'idle-expired', 'live', 'revoked']);
        expect(await store.listSessions('u-3', { includeEnded: true, now })).toEqual([]);
      });

      it('revokeSession returns true once, then false, and keeps the first revocation time and reason', async () => {
        await seedSession('s-1');
        expect(await store.revokeSession('s-1', 'logout', T0 + 5)).toBe(true);
        expect(await store.revokeSession('s-1', 'admin', T0 + 9)).toBe(false);
        const found = await mustFindSession('s-1');
        expect(found.revokedAt).toBe(T0 + 5);
        expect(found.revokedReason).toBe('logout');
      });

      it('revokeSession returns false for an unknown session', async () => {
        expect(await store.revokeSession('ghost', 'logout', T0)).toBe(false);
      });

      it('revokeUserSessions revokes every live session but exceptId and returns exactly the revoked ids', async () => {
        await seedSession('a');
        await seedSession('b');
        await seedSession('c');
        await seedSession('d');
        await store.revokeSession('d', 'logout', T0 + 1);
        await seedSession('x', { userId: 'u-2' });

        const revoked = await store.revokeUserSessions('u-1', 'password_changed', T0 + 10, 'b');
        expect([...revoked].sort()).toEqual(['a', 'c']);
        for (const id of ['a', 'c']) {
          const s = await mustFindSession(id);
          expect([s.revokedAt, s.revokedReason]).toEqual([T0 + 10, 'password_changed']);
        }
        expect((await mustFindSession('b')).revokedAt).toBeNull();
        expect((await mustFindSession('x')).revokedAt).toBeNull();
        const d = await mustFindSession('d');
        expect([d.revokedAt, d.revokedReason]).toEqual([T0 + 1, 'logout']);

        expect(await store.revokeUserSessions('u-1', 'logout_all', T0 + 20)).toEqual(['b']);
        expect((await mustFindSession('b')).revokedReason).toBe('logout_all');
      });

      it('revokeUserSessions returns an empty list when the user has no live session', async () => {
        await seedSession('a');
        await store.revokeSession('a', 'logout', T0 + 1);
        expect(await store.revokeUserSessions('u-1', 'logout_all', T0 + 2)).toEqual([]);
        expect(await store.revokeUserSessions('nobody', 'logout_all', T0 + 2)).toEqual([]);
      });
    });

    describe('findRefreshToken', () => {
      it('finds the first token as current with its times and session; an unknown hash finds nothing', async () => {
        const { session, tokenHash } = await seedSession('s-1', {}, T0 + 20 * MINUTE);
        expect(await store.findRefreshToken(tokenHash)).toEqual({
          hash: tokenHash,
          session,
          createdAt: session.createdAt,
          expiresAt: T0 + 20 * MINUTE,
          rotatedAt: null,
        });
        expect(await store.findRefreshToken(sha256Hex('never issued'))).toBeUndefined();
      });

      it('after a rotation the old token reports rotatedAt and the successor is current, capped at the session end', async () => {
        const { tokenHash } = await seedSession('s-1', { absoluteExpiresAt: T0 + HOUR });
        const now = T0 + 60;
        const input = rotateInput(tokenHash, now, { next: successor(now, 2 * HOUR) });
        const rotated = expectOutcome(await store.rotateRefreshToken(input), 'rotated');
        expect(await store.findRefreshToken(tokenHash)).toMatchObject({ rotatedAt: now, session: rotated.session });
        expect(await store.findRefreshToken(input.next.hash)).toEqual({
          hash: input.next.hash,
          session: rotated.session,
          createdAt: now,
          expiresAt: T0 + HOUR,
          rotatedAt: null,
        });
      });

      it('still finds the token of a revoked session, with the revocation on the session', async () => {
        const { tokenHash } = await seedSession('s-1');
        await store.revokeSession('s-1', 'logout', T0 + 5);
        const found = await store.findRefreshToken(tokenHash);
        expect(found?.rotatedAt).toBeNull();
        expect([found?.session.revokedAt, found?.session.revokedReason]).toEqual([T0 + 5, 'logout']);
      });
    });

    describe('rotateRefreshToken', () => {
      const auditEvent = (sessionId: string, at: number) => ({
        at,
        type: 'refresh.rotated',
        userId: 'u-1',
        sessionId,
        ip: '203.0.113.10',
        userAgent: 'Mozilla/5.0 (first)',
        data: { via: 'rotation', n: 1 },
      });

      it('the audit row of a rotation is stored with it, field for field', async () => {
        const { tokenHash } = await seedSession('s-1');
        const event = auditEvent('s-1', T0 + 60);
        expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 60, { audit: event })), 'rotated');
        const rows = await store.listAudit({ sessionId: 's-1', limit: 10 });
        expect(rows.map(({ id: _id, ...rest }) => rest)).toEqual([event]);
      });

      it('no other outcome stores the audit row it was given', async () => {
        const { tokenHash } = await seedSession('s-1');
        const first = rotateInput(tokenHash, T0 + 60);
        expectOutcome(await store.rotateRefreshToken(first), 'rotated');
        // grace, then reuse (which revokes), then revoked, then unknown, then expired
        const attempts: [string, number, RotationResult['outcome']][] = [
          [tokenHash, T0 + 65, 'grace'],
          [tokenHash, T0 + 600, 'reused'],
          [first.next.hash, T0 + 601, 'revoked'],
          [sha256Hex('never issued'), T0 + 602, 'unknown'],
        ];
        for (const [hash, now, outcome] of attempts) {
          const result = await store.rotateRefreshToken(rotateInput(hash, now, { audit: auditEvent('s-1', now) }));
          expect(result.outcome).toBe(outcome);
        }
        const { tokenHash: other } = await seedSession('s-2', {}, T0 + 100);
        const expired = await store.rotateRefreshToken(rotateInput(other, T0 + 100, { audit: auditEvent('s-2', T0) }));
        expect(expired.outcome).toBe('expired');
        expect(await store.listAudit({ sessionId: 's-1', limit: 10 })).toEqual([]);
        expect(await store.listAudit({ sessionId: 's-2', limit: 10 })).toEqual([]);
      });

      it('a disabled owner gets revoked and nothing is consumed; enabled again, the token rotates', async () => {
        const { tokenHash } = await seedSession('s-1');
        await store.updateUser('u-1', { status: 'disabled' }, T0 + 30);
        const input = rotateInput(tokenHash, T0 + 60, { audit: auditEvent('s-1', T0 + 60), seenUnrotated: true });
        expectOutcome(await store.rotateRefreshToken(input), 'revoked');
        expect((await store.findRefreshToken(tokenHash))?.rotatedAt).toBeNull();
        expect(await store.findRefreshToken(input.next.hash)).toBeUndefined();
        expect(await store.listAudit({ sessionId: 's-1', limit: 10 })).toEqual([]);
        expect((await store.findSession('s-1'))?.revokedAt).toBeNull();

        await store.updateUser('u-1', { status: 'active' }, T0 + 61);
        expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 62)), 'rotated');
      });

      it('a disabled owner gets no grace replay and no reuse verdict either: revoked', async () => {
        const { tokenHash } = await seedSession('s-1');
        expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 60)), 'rotated');
        await store.updateUser('u-1', { status: 'disabled' }, T0 + 61);
        expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 62)), 'revoked');
        expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 600)), 'revoked');
        expect((await store.findSession('s-1'))?.revokedAt).toBeNull();
      });

      it('a stale seenUnrotated hint changes nothing: grace inside the window, reuse after it', async () => {
        const { tokenHash } = await seedSession('s-1');
        const first = rotateInput(tokenHash, T0 + 60);
        expectOutcome(await store.rotateRefreshToken(first), 'rotated');
        const grace = expectOutcome(
          await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 65, { seenUnrotated: true })),
          'grace',
        );
        expect(grace.graceResponse).toBe(first.graceResponse);
        const reused = expectOutcome(
          await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 600, { seenUnrotated: true })),
          'reused',
        );
        expect(reused.revokedNow).toBe(true);
        expect(reused.firstUse.at).toBe(T0 + 60);
      });

      it('seenUnrotated on a current token rotates as without it', async () => {
        const { session, tokenHash } = await seedSession('s-1');
        const result = expectOutcome(
          await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 60, { seenUnrotated: true })),
          'rotated',
        );
        expect(result.session).toEqual({ ...session, lastUsedAt: T0 + 60, idleExpiresAt: T0 + 60 + 30 * MINUTE });
      });

      it('an unknown hash gives unknown', async () => {
        await seedSession('s-1');
        const result = await store.rotateRefreshToken(rotateInput(sha256Hex('never issued'), T0 + 1));
        expect(result).toEqual({ outcome: 'unknown' });
      });

      it('first use rotates: lastUsedAt becomes now and idleExpiresAt now + idleSec, in the result and stored', async () => {
        const { session, tokenHash } = await seedSession('s-1');
        const now = T0 + 10 * MINUTE;
        const result = expectOutcome(
          await store.rotateRefreshToken(rotateInput(tokenHash, now, { idleSec: 20 * MINUTE })),
          'rotated',
        );
        const expected = { ...session, lastUsedAt: now, idleExpiresAt: now + 20 * MINUTE };
        expect(result.session).toEqual(expected);
        expect(await store.findSession('s-1')).toEqual(expected);
      });

      it('the successor belongs to the session and rotates in turn; the old hash still maps to the session', async () => {
        const { tokenHash } = await seedSession('s-1');
        const first = rotateInput(tokenHash, T0 + 60);
        expectOutcome(await store.rotateRefreshToken(first), 'rotated');
        expect((await store.findSessionByRefreshHash(first.next.hash))?.id).toBe('s-1');
        expect((await store.findSessionByRefreshHash(tokenHash))?.id).toBe('s-1');

        const second = rotateInput(first.next.hash, T0 + 120);
        const result = expectOutcome(await store.rotateRefreshToken(second), 'rotated');
        expect(result.session.lastUsedAt).toBe(T0 + 120);
        expect((await store.findSessionByRefreshHash(second.next.hash))?.id).toBe('s-1');
      });

      it('rotation moves idle expiry forward but never past absoluteExpiresAt', async () => {
        const { tokenHash } = await seedSession('s-1', { absoluteExpiresAt: T0 + 1000, idleExpiresAt: T0 + 950 });
        const result = expectOutcome(
          await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 900, { idleSec: 30 * MINUTE })),
          'rotated',
        );
        expect(result.session.idleExpiresAt).toBe(T0 + 1000);
        expect((await mustFindSession('s-1')).idleExpiresAt).toBe(T0 + 1000);
      });

      it("a second use within graceSec gives grace with the winner's stored graceResponse, not its own", async () => {
        const { tokenHash } = await seedSession('s-1');
        const winner = rotateInput(tokenHash, T0 + 100, { graceSec: 10, graceResponse: 'sealed-winner-grant' });
        expectOutcome(await store.rotateRefreshToken(winner), 'rotated');

        for (const now of [T0 + 100, T0 + 105, T0 + 109]) {
          const duplicate = rotateInput(tokenHash, now, { graceSec: 10, graceResponse: `sealed-duplicate-${now}` });
          const result = expectOutcome(await store.rotateRefreshToken(duplicate), 'grace');
          expect(result.graceResponse).toBe('sealed-winner-grant');
          expect(result.session.id).toBe('s-1');
          expect(result.session.revokedAt).toBeNull();
        }
        expect((await mustFindSession('s-1')).revokedAt).toBeNull();
      });

      it("a grace duplicate's own successor is discarded: only the winner's successor is known", async () => {
        const { tokenHash } = await seedSession('s-1');
        const winner = rotateInput(tokenHash, T0 + 100);
        expectOutcome(await store.rotateRefreshToken(winner), 'rotated');
        const duplicate = rotateInput(tokenHash, T0 + 101);
        expectOutcome(await store.rotateRefreshToken(duplicate), 'grace');

        expect(await store.findSessionByRefreshHash(duplicate.next.hash)).toBeUndefined();
        expect(await store.rotateRefreshToken(rotateInput(duplicate.next.hash, T0 + 102))).toEqual({
          outcome: 'unknown',
        });
        expectOutcome(await store.rotateRefreshToken(rotateInput(winner.next.hash, T0 + 102)), 'rotated');
      });

      it('a second use after graceSec is reuse: firstUse is the rotating use and the family is revoked', async () => {
        const { tokenHash } = await seedSession('s-1');
        const rotatedAt = T0 + 100;
        expectOutcome(
          await store.rotateRefreshToken(
            rotateInput(tokenHash, rotatedAt, { graceSec: 10, ip: '203.0.113.10', userAgent: 'Mozilla/5.0 (first)' }),
          ),
          'rotated',
        );
        const reuseAt = rotatedAt + 11;
        const result = expectOutcome(
          await store.rotateRefreshToken(
            rotateInput(tokenHash, reuseAt, { graceSec: 10, ip: '192.0.2.66', userAgent: 'curl/8 (attacker)' }),
          ),
          'reused',
        );
        expect(result.firstUse).toEqual({ at: rotatedAt, ip: '203.0.113.10', userAgent: 'Mozilla/5.0 (first)' });
        expect(result.revokedNow).toBe(true);
        expect(result.session.id).toBe('s-1');
        expect(result.session.revokedReason).toBe('refresh_reuse');
        const stored = await mustFindSession('s-1');
        expect([stored.revokedAt, stored.revokedReason]).toEqual([reuseAt, 'refresh_reuse']);
      });

      it('after a reuse revoked the family, its successor gives revoked', async () => {
        const { tokenHash } = await seedSession('s-1');
        const first = rotateInput(tokenHash, T0 + 100);
        expectOutcome(await store.rotateRefreshToken(first), 'rotated');
        expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 200)), 'reused');

        const result = expectOutcome(await store.rotateRefreshToken(rotateInput(first.next.hash, T0 + 201)), 'revoked');
        expect(result.session.id).toBe('s-1');
        expect(result.session.revokedReason).toBe('refresh_reuse');
      });

      it('firstUse reports null ip and userAgent when the rotating use had none', async () => {
        const { tokenHash } = await seedSession('s-1');
        expectOutcome(
          await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 100, { ip: null, userAgent: null })),
          'rotated',
        );
        const result = expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 500)), 'reused');
        expect(result.firstUse).toEqual({ at: T0 + 100, ip: null, userAgent: null });
      });

      it('with graceSec 0 a second use is reuse at once, even in the same second', async () => {
        const { tokenHash } = await seedSession('s-1');
        expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 100, { graceSec: 0 })), 'rotated');
        const result = expectOutcome(
          await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 100, { graceSec: 0 })),
          'reused',
        );
        expect(result.revokedNow).toBe(true);
        expect((await mustFindSession('s-1')).revokedReason).toBe('refresh_reuse');
      });

      it('presenting a reused token again neither rotates nor replays nor moves the revocation', async () => {
        const { tokenHash } = await seedSession('s-1');
        expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 100)), 'rotated');
        expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 200)), 'reused');

        const again = await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 300));
        expect(['reused', 'revoked']).toContain(again.outcome);
        if (again.outcome === 'reused') expect(again.revokedNow).toBe(false);
        const stored = await mustFindSession('s-1');
        expect([stored.revokedAt, stored.revokedReason]).toEqual([T0 + 200, 'refresh_reuse']);
      });

      it('a token used after the session idle expiry gives expired and leaves the session unrevoked', async () => {
        const { tokenHash } = await seedSession('s-1', { idleExpiresAt: T0 + 600 }, T0 + 5 * DAY);
        const result = expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 601)), 'expired');
        expect(result.session.id).toBe('s-1');
        expect((await mustFindSession('s-1')).revokedAt).toBeNull();
      });

      it('a token used after the absolute ceiling gives expired, even when rotations pushed idle to the cap', async () => {
        const absolute = T0 + 2 * HOUR;
        const { tokenHash } = await seedSession('s-1', { absoluteExpiresAt: absolute });
        const first = rotateInput(tokenHash, T0 + 20 * MINUTE, {
          next: successor(T0 + 20 * MINUTE, 10 * DAY),
          idleSec: 4 * HOUR,
        });
        const rotated = expectOutcome(await store.rotateRefreshToken(first), 'rotated');
        expect(rotated.session.idleExpiresAt).toBe(absolute);

        const result = expectOutcome(
          await store.rotateRefreshToken(rotateInput(first.next.hash, absolute + 1)),
          'expired',
        );
        expect(result.session.absoluteExpiresAt).toBe(absolute);
        expect((await mustFindSession('s-1')).revokedAt).toBeNull();
      });

      it('a token used after its own expiresAt gives expired while the session is still live', async () => {
        const { tokenHash } = await seedSession('s-1', { idleExpiresAt: T0 + HOUR }, T0 + 100);
        expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 101)), 'expired');
        expect((await mustFindSession('s-1')).revokedAt).toBeNull();
      });

      it("a successor minted to outlive the session works until, and not after, the session's absolute end", async () => {
        const absolute = T0 + HOUR;
        const { tokenHash } = await seedSession('s-1', { absoluteExpiresAt: absolute });
        const first = rotateInput(tokenHash, T0 + 60, { next: successor(T0 + 60, 365 * DAY), idleSec: 2 * HOUR });
        expectOutcome(await store.rotateRefreshToken(first), 'rotated');
        const second = rotateInput(first.next.hash, absolute - 1, { next: successor(absolute, 365 * DAY) });
        expectOutcome(await store.rotateRefreshToken(second), 'rotated');
        expectOutcome(await store.rotateRefreshToken(rotateInput(second.next.hash, absolute + 1)), 'expired');
      });

      it('a revoked session gives revoked, for its current token and for an already rotated one', async () => {
        const { tokenHash } = await seedSession('s-1');
        const first = rotateInput(tokenHash, T0 + 60);
        expectOutcome(await store.rotateRefreshToken(first), 'rotated');
        await store.revokeSession('s-1', 'logout', T0 + 70);

        const current = expectOutcome(await store.rotateRefreshToken(rotateInput(first.next.hash, T0 + 80)), 'revoked');
        expect([current.session.id, current.session.revokedReason]).toEqual(['s-1', 'logout']);
        const old = await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 80));
        expect(old.outcome).toBe('revoked');
        expect((await mustFindSession('s-1')).revokedReason).toBe('logout');
      });

      it('a session revoked before its first rotation gives revoked for the first token', async () => {
        const { tokenHash } = await seedSession('s-1');
        await store.revokeSession('s-1', 'admin', T0 + 1);
        expectOutcome(await store.rotateRefreshToken(rotateInput(tokenHash, T0 + 2)), 'revoked');
      });

      it("50 concurrent rotations of one token: exactly one rotated, 49 grace with the winner's response", async () => {
        const { tokenHash } = await seedSession('s-1');
        const inputs = Array.from({ length: 50 }, (_, i) =>
          rotateInput(tokenHash, T0 + 100, { graceSec: 10, graceResponse: `sealed-grant-${i}` }),
        );
        const results: RotationResult[] = await Promise.all(inputs.map((input) => store.rotateRefreshToken(input)));

        const winners = results.flatMap((r, i) => (r.outcome === 'rotated' ? [i] : []));
        expect(winners).toHaveLength(1);
        const winner = at(inputs, at(winners, 0));
        const others = results.filter((r) => r.outcome !== 'rotated');
        expect(others.map((r) => r.outcome)).toEqual(Array(49).fill('grace'));
        for (const r of others) expect(r).toMatchObject({ outcome: 'grace', graceResponse: winner.graceResponse });

        expect((await mustFindSession('s-1')).revokedAt).toBeNull();
        const known = await Promise.all(inputs.map((i) => store.findSessionByRefreshHash(i.next.hash)));
        expect(known.filter((s) => s !== undefined)).toHaveLength(1);
        expectOutcome(await store.rotateRefreshToken(rotateInput(winner.next.hash, T0 + 200)), 'rotated');
      });

      it('concurrent rotations with graceSec 0: exactly one rotated and exactly one call revokes the family', async () => {
        const { tokenHash } = await seedSession('s-1');
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.rotateRefreshToken(rotateInput(tokenHash, T0 + 100, { graceSec: 0 }))),
        );
        expect(results.filter((r) => r.outcome === 'rotated')).toHaveLength(1);
        expect(results.filter((r) => r.outcome === 'reused' && r.revokedNow)).toHaveLength(1);
        for (const r of results) {
          expect(['rotated', 'reused', 'revoked']).toContain(r.outcome);
        }
        expect((await mustFindSession('s-1')).revokedReason).toBe('refresh_reuse');
      });
    });

    describe('signing keys', () => {
      it('listSigningKeys is empty on a fresh store', async () => {
        expect(await store.listSigningKeys()).toEqual([]);
      });

      it('insertSigningKey stores records that listSigningKeys returns field for field', async () => {
        const current = signingKeyRecord('kid-a', {
          state: 'current',
          activatedAt: T0,
          alg: 'EdDSA',
          publicJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'kid-a' }),
        });
        const next = signingKeyRecord('kid-b', { createdAt: T0 + 1 });
        await store.insertSigningKey(current);
        await store.insertSigningKey(next);
        const listed = await store.listSigningKeys();
        expect([...listed].sort((a, b) => a.kid.localeCompare(b.kid))).toEqual([current, next]);
      });

      it('updateSigningKey changes only the patched fields of that key', async () => {
        const a = signingKeyRecord('kid-a', { state: 'current', activatedAt: T0 });
        const b = signingKeyRecord('kid-b', { createdAt: T0 + 1 });
        await store.insertSigningKey(a);
        await store.insertSigningKey(b);
        await store.updateSigningKey('kid-a', { state: 'retiring', retiredAt: T0 + DAY, expiresAt: T0 + DAY + HOUR });
        await store.updateSigningKey('kid-b', { state: 'current', activatedAt: T0 + DAY });
        const listed = [...(await store.listSigningKeys())].sort((x, y) => x.kid.localeCompare(y.kid));
        expect(listed).toEqual([
          { ...a, state: 'retiring', retiredAt: T0 + DAY, expiresAt: T0 + DAY + HOUR },
          { ...b, state: 'current', activatedAt: T0 + DAY },
        ]);
      });

      it('updateSigningKey with expectedState changes the key only in that state, and says so', async () => {
        const a = signingKeyRecord('kid-a', { state: 'current', activatedAt: T0 });
        await store.insertSigningKey(a);
        expect(await store.updateSigningKey('kid-a', { state: 'retiring', retiredAt: T0 + 1 }, 'next')).toBe(false);
        expect(await store.listSigningKeys()).toEqual([a]);
        expect(await store.updateSigningKey('kid-a', { state: 'retiring', retiredAt: T0 + 1 }, 'current')).toBe(true);
        // The second of two racing transitions from the same read finds the state moved on.
        expect(await store.updateSigningKey('kid-a', { state: 'retiring', retiredAt: T0 + 2 }, 'current')).toBe(false);
        expect(await store.listSigningKeys()).toEqual([{ ...a, state: 'retiring', retiredAt: T0 + 1 }]);
        expect(await store.updateSigningKey('kid-unknown', { state: 'retired' }, 'retiring')).toBe(false);
        expect(await store.updateSigningKey('kid-a', { expiresAt: T0 + 3 })).toBe(true);
      });

      it('updateSigningKey with null clears a timestamp', async () => {
        const a = signingKeyRecord('kid-a', { state: 'next', activatedAt: T0 + HOUR, expiresAt: T0 + DAY });
        await store.insertSigningKey(a);
        await store.updateSigningKey('kid-a', { activatedAt: null, expiresAt: null });
        expect(await store.listSigningKeys()).toEqual([{ ...a, activatedAt: null, expiresAt: null }]);
      });
    });

    describe('revocation log', () => {
      it('appendRevocation returns the event with a positive id that increases with every append', async () => {
        const appended: number[] = [];
        for (const kind of ['jti', 'sid', 'sub', 'user_disabled', 'kid'] as const) {
          const event = revocation(`value-${kind}`, { kind });
          const stored = await store.appendRevocation(event);
          expect(stored).toEqual({ ...event, id: stored.id });
          appended.push(stored.id);
        }
        expect(at(appended, 0)).toBeGreaterThan(0);
        for (let i = 1; i < appended.length; i++) expect(at(appended, i)).toBeGreaterThan(at(appended, i - 1));
      });

      it('listRevocations returns the events after afterId in id order, at most limit of them', async () => {
        const events: RevocationEvent[] = [];
        for (let i = 0; i < 5; i++) events.push(await store.appendRevocation(revocation(`s-${i}`, { at: T0 + i })));
        expect(await store.listRevocations(0, 10, T0)).toEqual(events);
        expect(await store.listRevocations(at(events, 1).id, 2, T0)).toEqual([at(events, 2), at(events, 3)]);
        expect(await store.listRevocations(at(events, 4).id, 10, T0)).toEqual([]);
      });

      it('listRevocations drops events whose expiresAt has passed', async () => {
        const short = await store.appendRevocation(revocation('short', { expiresAt: T0 + 100 }));
        const long = await store.appendRevocation(revocation('long', { expiresAt: T0 + 1000 }));
        expect(await store.listRevocations(0, 10, T0 + 50)).toEqual([short, long]);
        expect(await store.listRevocations(0, 10, T0 + 500)).toEqual([long]);
        expect(await store.listRevocations(0, 10, T0 + 5000)).toEqual([]);
      });

      it('expired events do not use up the limit, so a page is never empty while live events remain', async () => {
        await store.appendRevocation(revocation('old-1', { expiresAt: T0 + 10 }));
        await store.appendRevocation(revocation('old-2', { expiresAt: T0 + 10 }));
        const live = await store.appendRevocation(revocation('live', { expiresAt: T0 + 1000 }));
        expect(await store.listRevocations(0, 1, T0 + 500)).toEqual([live]);
      });
    });

    describe('audit', () => {
      const base = { ip: '198.51.100.7', userAgent: 'Mozilla/5.0 (audit)' };

      it('listAudit by userId returns only that user, newest first, with nested data round-tripping', async () => {
        const data = { reason: 'logout_all', sessions: 3, nested: { list: [1, 'two', null], flag: true } };
        await store.appendAudit({ ...base, at: T0, type: 'user.login', userId: 'u-1', sessionId: 's-1', data: {} });
        await store.appendAudit({ ...base, at: T0 + 1, type: 'user.login', userId: 'u-2', sessionId: 's-2', data: {} });
        await store.appendAudit({ ...base, at: T0 + 2, type: 'user.cutoff_set', userId: 'u-1', sessionId: null, data });

        const events = await store.listAudit({ userId: 'u-1', limit: 10 });
        expect(events.map((e) => ({ ...e, id: 0 }))).toEqual([
          { ...base, id: 0, at: T0 + 2, type: 'user.cutoff_set', userId: 'u-1', sessionId: null, data },
          { ...base, id: 0, at: T0, type: 'user.login', userId: 'u-1', sessionId: 's-1', data: {} },
        ]);
        expect(typeof at(events, 0).id).toBe('number');
        expect(at(events, 0).id).not.toBe(at(events, 1).id);
      });

      it('listAudit by sessionId returns only that session, newest first', async () => {
        for (const [i, sessionId] of ['s-1', 's-2', 's-1', 's-1'].entries()) {
          await store.appendAudit({ ...base, at: T0 + i, type: `event.${i}`, userId: 'u-1', sessionId, data: { i } });
        }
        const events = await store.listAudit({ sessionId: 's-1', limit: 10 });
        expect(events.map((e) => [e.type, e.sessionId, e.data])).toEqual([
          ['event.3', 's-1', { i: 3 }],
          ['event.2', 's-1', { i: 2 }],
          ['event.0', 's-1', { i: 0 }],
        ]);
      });

      it('listAudit honours limit by keeping the newest events', async () => {
        for (let i = 0; i < 5; i++) {
          await store.appendAudit({
            ...base,
            at: T0 + i,
            type: `event.${i}`,
            userId: 'u-1',
            sessionId: null,
            data: {},
          });
        }
        const events = await store.listAudit({ userId: 'u-1', limit: 2 });
        expect(events.map((e) => e.type)).toEqual(['event.4', 'event.3']);
      });

      it('listAudit without a filter lists every event newest first, keeping nulls as null', async () => {
        await store.appendAudit({
          at: T0,
          type: 'key.rotated',
          userId: null,
          sessionId: null,
          ip: null,
          userAgent: null,
          data: { kid: 'k' },
        });
        await store.appendAudit({ ...base, at: T0 + 1, type: 'user.login', userId: 'u-1', sessionId: 's-1', data: {} });
        const events = await store.listAudit({ limit: 10 });
        expect(events.map((e) => e.type)).toEqual(['user.login', 'key.rotated']);
        expect(at(events, 1)).toMatchObject({
          userId: null,
          sessionId: null,
          ip: null,
          userAgent: null,
          data: { kid: 'k' },
        });
      });
    });

    describe('purgeExpired', () => {
      it('removes long-ended sessions with their tokens and expired revocations, and keeps every live row', async () => {
        const purgeAt = T0 + 400 * DAY;
        const expired = await seedSession('expired');
        const revoked = await seedSession('revoked');
        await store.revokeSession('revoked', 'logout', T0 + 60);
        const live = await seedSession('live', {
          createdAt: purgeAt - 60,
          idleExpiresAt: purgeAt + 30 * MINUTE,
          absoluteExpiresAt: purgeAt + 30 * DAY,
        });
        const firstRotation = rotateInput(live.tokenHash, purgeAt - 30, { graceSec: 10 });
        expectOutcome(await store.rotateRefreshToken(firstRotation), 'rotated');
        await store.appendRevocation(revocation('old', { at: T0, expiresAt: T0 + HOUR }));
        const liveEvent = await store.appendRevocation(
          revocation('live', { at: purgeAt - 5, expiresAt: purgeAt + HOUR }),
        );
        const key = signingKeyRecord('kid-a', { state: 'current', activatedAt: T0 });
        await store.insertSigningKey(key);
        await store.appendAudit({
          at: T0,
          type: 'user.login',
          userId: 'u-1',
          sessionId: 'expired',
          ip: null,
          userAgent: null,
          data: {},
        });
        const liveSessionBefore = await mustFindSession('live');

        expect(await store.purgeExpired(purgeAt)).toBeGreaterThan(0);

        expect(await store.findSession('expired')).toBeUndefined();
        expect(await store.findSession('revoked')).toBeUndefined();
        expect(await store.findSessionByRefreshHash(expired.tokenHash)).toBeUndefined();
        expect(await store.findSessionByRefreshHash(revoked.tokenHash)).toBeUndefined();
        expect(await store.rotateRefreshToken(rotateInput(expired.tokenHash, purgeAt))).toEqual({ outcome: 'unknown' });
        // Physically gone: even asked "as of" a time when it was still live, it is not returned.
        expect(await store.listRevocations(0, 10, T0)).toEqual([liveEvent]);

        expect(await store.findUserById('u-1')).toEqual(userRecord('u-1'));
        expect(await store.listSigningKeys()).toEqual([key]);
        expect(await store.listAudit({ userId: 'u-1', limit: 10 })).toHaveLength(1);
        expect(await store.findSession('live')).toEqual(liveSessionBefore);
        expect(await store.listSessions('u-1', { includeEnded: false, now: purgeAt })).toEqual([liveSessionBefore]);
        // The live family still works, and its already-rotated token is still recognised as a reuse.
        expectOutcome(await store.rotateRefreshToken(rotateInput(firstRotation.next.hash, purgeAt)), 'rotated');
        expectOutcome(await store.rotateRefreshToken(rotateInput(live.tokenHash, purgeAt)), 'reused');
      });

      it('a second purge at the same time finds nothing more, and a purge with nothing ended returns 0', async () => {
        await seedSession('old');
        await store.appendRevocation(revocation('old', { expiresAt: T0 + HOUR }));
        expect(await store.purgeExpired(T0 + 400 * DAY)).toBeGreaterThan(0);
        expect(await store.purgeExpired(T0 + 400 * DAY)).toBe(0);

        const fresh = await seedSession('fresh', {
          createdAt: T0 + 400 * DAY,
          idleExpiresAt: T0 + 400 * DAY + HOUR,
          absoluteExpiresAt: T0 + 430 * DAY,
        });
        expect(await store.purgeExpired(T0 + 400 * DAY + 1)).toBe(0);
        expect(await store.findSession('fresh')).toEqual(fresh.session);
      });
    });

    describe('clients', () => {
      const client = {
        id: 'rs-orders',
        name: 'orders API',
        secretHash: sha256Hex('secret'),
        createdAt: T0,
        scopes: 'introspect revoke',
      };

      it('createClient stores a client once; a second one with the same id is "exists" and changes nothing', async () => {
        expect(await store.createClient(client)).toBe('created');
        expect(await store.createClient({ ...client, name: 'other', secretHash: sha256Hex('other') })).toBe('exists');
        expect(await store.findClient('rs-orders')).toEqual(client);
      });

      it('listClients returns every client; deleteClient removes one and is false the second time', async () => {
        await store.createClient(client);
        await store.createClient({ ...client, id: 'rs-billing', createdAt: T0 + 1 });
        expect((await store.listClients()).map((c) => c.id)).toEqual(['rs-orders', 'rs-billing']);
        expect(await store.deleteClient('rs-orders')).toBe(true);
        expect(await store.deleteClient('rs-orders')).toBe(false);
        expect(await store.findClient('rs-orders')).toBeUndefined();
        expect((await store.listClients()).map((c) => c.id)).toEqual(['rs-billing']);
      });
    });
  });
}
