/**
 * Signing key rotation as verifiers see it: a week of daily rotations with hourly key
 * schedule ticks, every token checked against every JWKS a verifier could hold while the
 * token lives; and the private keys at rest, which only the master key opens.
 */

import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPrivateJwk, importJwks, type JwkSet, verifyAccessToken } from '@tessera/core';
import { createAuthServer } from '@tessera/server';
import { SqliteStore } from '@tessera/store-sqlite';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { open } from '../src/services/sealed-box.js';
import { SigningKeyManager } from '../src/services/signing-keys.js';
import {
  claimsOf,
  cookieValue,
  type Harness,
  logIn,
  refreshWith,
  START,
  signUp,
  startHarness,
  whoami,
} from './support/harness.js';

const HOUR = 3600;
const DAY = 86_400;
const JWKS_MAX_AGE = 600;
/** Access token lifetime plus the verifier clock tolerance. */
const TOKEN_LIFE = 600 + 30;
const ISSUER = 'http://localhost:8080';

interface Snapshot {
  readonly at: number;
  readonly jwks: JwkSet;
  readonly kids: ReadonlySet<string>;
}
interface Minted {
  readonly token: string;
  readonly kid: string;
  readonly iat: number;
  readonly exp: number;
}

function kidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid;
}

async function fetchJwks(h: Harness): Promise<Snapshot> {
  const res = await h.server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  expect(res.statusCode).toBe(200);
  expect(String(res.headers['cache-control'])).toMatch(/^public, max-age=600(,|$)/);
  expect(String(res.headers['content-type'])).toMatch(/^application\/jwk-set\+json/);
  const jwks = res.json() as JwkSet;
  for (const key of jwks.keys) {
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(member);
  }
  return { at: h.clock(), jwks, kids: new Set(jwks.keys.map((k) => k.kid as string)) };
}

describe('a week of daily key rotations, as verifiers see it', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('every token verifies against every JWKS served while it lives; keys come early and leave late', async () => {
    h = await startHarness({ keyRotationIntervalSec: DAY, jwksMaxAgeSec: JWKS_MAX_AGE });
    const snapshots: Snapshot[] = [];
    const minted: Minted[] = [];
    const record = (token: string) => {
      const c = claimsOf(token);
      minted.push({ token, kid: kidOf(token), iat: c.iat, exp: c.exp });
    };
    const first = await signUp(h);
    record(first.accessToken);
    snapshots.push(await fetchJwks(h));
    let refreshToken = first.refreshToken;

    // Each simulated hour: the key schedule ticks, then tokens are minted and the JWKS fetched
    // across the hour, the last ones 30 s before the next tick (which may rotate).
    for (let hour = 0; hour < 7 * 24; hour++) {
      h.clock.set(START + hour * HOUR);
      await h.server.context.keys.tick(h.clock());
      for (const offset of [0, 1200, 2400, HOUR - 30]) {
        h.clock.set(START + hour * HOUR + offset);
        snapshots.push(await fetchJwks(h));
        const res = await refreshWith(h, refreshToken);
        expect(res.statusCode).toBe(200);
        refreshToken = cookieValue(String(res.headers['set-cookie']));
        record(res.json().access_token);
      }
      if (hour % 24 === 12) record((await logIn(h)).accessToken);
    }
    // Keep serving past the last tokens' lifetimes.
    for (let hour = 7 * 24; hour < 7 * 24 + 3; hour++) {
      h.clock.set(START + hour * HOUR);
      await h.server.context.keys.tick(h.clock());
      for (const offset of [0, 600, 1200]) {
        h.clock.set(START + hour * HOUR + offset);
        snapshots.push(await fetchJwks(h));
      }
    }

    // 1. Any JWKS a verifier may hold while a token lives verifies it: one fetched up to one
    // max-age before the token was issued (still cached) up to the token's expiry.
    const joseSets = new Map<Snapshot, ReturnType<typeof createLocalJWKSet>>();
    let checks = 0;
    for (const token of minted) {
      for (const snap of snapshots) {
        if (snap.at <= token.iat - JWKS_MAX_AGE || snap.at >= token.iat + TOKEN_LIFE) continue;
        expect(snap.kids.has(token.kid), `kid ${token.kid} (iat ${token.iat}) in the JWKS of ${snap.at}`).toBe(true);
        const at = Math.max(snap.at, token.iat);
        if (!joseSets.has(snap))
          joseSets.set(snap, createLocalJWKSet(snap.jwks as Parameters<typeof createLocalJWKSet>[0]));
        const verified = await jwtVerify(token.token, joseSets.get(snap) as ReturnType<typeof createLocalJWKSet>, {
          issuer: ISSUER,
          audience: 'tessera-api',
          typ: 'at+jwt',
          clockTolerance: 30,
          currentDate: new Date(at * 1000),
        });
        expect(verified.protectedHeader.kid).toBe(token.kid);
        // Tessera's own verifier agrees with jose.
        const { keySet, skipped } = importJwks(snap.jwks);
        expect(skipped).toEqual([]);
        verifyAccessToken(token.token, keySet, { issuer: ISSUER, audience: 'tessera-api', clock: () => at });
        checks += 1;
      }
    }
    expect(checks).toBeGreaterThan(minted.length);

    // 2. Rotation happened: at least 6 distinct keys signed tokens over the week.
    const kids = [...new Set(minted.map((t) => t.kid))];
    expect(kids.length).toBeGreaterThanOrEqual(6);

    // 3. Each key was in the JWKS at least one max-age before its first token (except the very
    // first key, which signs at first start, before anything can have cached a JWKS).
    for (const kid of kids.slice(1)) {
      const published = snapshots.find((s) => s.kids.has(kid))?.at as number;
      const firstToken = Math.min(...minted.filter((t) => t.kid === kid).map((t) => t.iat));
      expect(firstToken - published, `kid ${kid}`).toBeGreaterThanOrEqual(JWKS_MAX_AGE);
    }
    expect(kids[0]).toBe(kidOf(first.accessToken));

    // 4. A key leaves the JWKS only after the last token it signed has expired, and they do leave.
    let departed = 0;
    for (const kid of kids) {
      const firstSeen = snapshots.findIndex((s) => s.kids.has(kid));
      const gone = snapshots.slice(firstSeen).find((s) => !s.kids.has(kid));
      if (gone === undefined) continue;
      departed += 1;
      const lastExpiry = Math.max(...minted.filter((t) => t.kid === kid).map((t) => t.exp));
      expect(gone.at, `kid ${kid} left the JWKS`).toBeGreaterThanOrEqual(lastExpiry + 30);
      // Gone for good.
      expect(snapshots.filter((s) => s.at >= gone.at).some((s) => s.kids.has(kid))).toBe(false);
    }
    expect(departed).toBeGreaterThanOrEqual(5);

    // 5. The JWKS stays small: at most next, current and one retiring key.
    expect(Math.max(...snapshots.map((s) => s.kids.size))).toBeLessThanOrEqual(3);
    const states = h.server.context.keys.records.map((r) => r.state);
    expect(states.filter((s) => s === 'current')).toHaveLength(1);
    expect(states.filter((s) => s === 'next')).toHaveLength(1);
  });

  it('a rotation made by another instance keeps the old key published until the stale instance’s tokens expired', async () => {
    // Instance `a` rotates (its own tick, or `tessera keys rotate` in another process); instance
    // `b` notices at its next tick, one schedule interval (60 s) later, and signs with the old
    // key until then.
    const masterKey = randomBytes(32);
    h = await startHarness({ keyRotationIntervalSec: DAY }, { masterKey });
    const b = await startHarness({ keyRotationIntervalSec: DAY }, { masterKey, dir: h.dir });
    try {
      const login = await signUp(b);
      const oldKid = kidOf(login.accessToken);
      const rotation = START + DAY;
      const setClocks = (t: number) => {
        h.clock.set(t);
        b.clock.set(t);
      };
      setClocks(rotation);
      await h.server.context.keys.tick(rotation);
      expect(h.server.context.keys.current.kid).not.toBe(oldKid);

      setClocks(rotation + 59);
      const stale = await refreshWith(b, login.refreshToken);
      const staleToken = stale.json().access_token as string;
      expect(kidOf(staleToken)).toBe(oldKid);

      setClocks(rotation + 60);
      await b.server.context.keys.tick(rotation + 60);
      const fresh = await refreshWith(b, cookieValue(String(stale.headers['set-cookie'])));
      expect(kidOf(fresh.json().access_token)).toBe(h.server.context.keys.current.kid);

      // `a` ticks every 60 s; the JWKS it serves must verify the stale token while it lives.
      const staleExpiry = claimsOf(staleToken).exp;
      for (let t = rotation + 60; t < staleExpiry + 30; t += 30) {
        setClocks(t);
        if ((t - rotation) % 60 === 0) await h.server.context.keys.tick(t);
        const snap = await fetchJwks(h);
        expect(snap.kids.has(oldKid), `old key in a's JWKS at rotation + ${t - rotation} s`).toBe(true);
        verifyAccessToken(staleToken, importJwks(snap.jwks).keySet, {
          issuer: ISSUER,
          audience: 'tessera-api',
          clock: () => t,
        });
      }
      // And it does leave once they have.
      setClocks(staleExpiry + 30 + 60);
      await h.server.context.keys.tick(h.clock());
      expect((await fetchJwks(h)).kids.has(oldKid)).toBe(false);
    } finally {
      await b.close();
    }
  });
});

/** Two auth servers on one SQLite file with one master key (two instances), closed afterwards. */
async function withTwoInstances(test: (a: Harness, b: Harness) => Promise<void>): Promise<void> {
  const masterKey = randomBytes(32);
  const a = await startHarness({ keyRotationIntervalSec: DAY }, { masterKey });
  const b = await startHarness({ keyRotationIntervalSec: DAY }, { masterKey, dir: a.dir });
  try {
    await test(a, b);
  } finally {
    await b.close();
    await a.close();
  }
}

describe('key schedule across instances', () => {
  it('instances starting together on an empty store sign with one current key; the extras retire while published', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-keys-race-'));
    const store = new SqliteStore({ path: join(dir, 'tessera.sqlite') });
    try {
      await store.migrate();
      const masterKey = randomBytes(32);
      const policy = {
        alg: 'ES256' as const,
        rotationIntervalSec: DAY,
        jwksMaxAgeSec: JWKS_MAX_AGE,
        tokenLifetimeSec: TOKEN_LIFE,
      };
      const managers = [0, 1, 2].map(() => new SigningKeyManager(store, masterKey, policy));
      await Promise.all(managers.map((m) => m.tick(START)));
      const currents = (await store.listSigningKeys()).filter((r) => r.state === 'current');
      // Without the fix each manager found no key and activated its own: three signing keys.
      expect(currents.length).toBeGreaterThanOrEqual(1);
      await Promise.all(managers.map((m) => m.tick(START + 60)));
      const records = await store.listSigningKeys();
      const current = records.filter((r) => r.state === 'current');
      expect(current).toHaveLength(1);
      for (const m of managers) expect(m.current.kid).toBe(current[0]?.kid);
      // Any extra that may have signed stays published until its tokens expired, then retires.
      for (const extra of records.filter((r) => r.state === 'retiring')) {
        expect(extra.expiresAt).toBeGreaterThanOrEqual(START + 60 + TOKEN_LIFE);
        expect(managers[0]?.jwks.keys.some((k) => k.kid === extra.kid)).toBe(true);
      }
      await Promise.all(managers.map((m) => m.tick(START + 60 + TOKEN_LIFE + 1)));
      const after = await store.listSigningKeys();
      expect(after.filter((r) => r.state === 'retiring')).toHaveLength(0);
      expect(after.filter((r) => r.state === 'current')).toHaveLength(1);
      expect(after.filter((r) => r.state === 'next')).toHaveLength(1);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two instances ticking at the same moment end with one next key and one current key', () =>
    withTwoInstances(async (a, b) => {
      const due = START + DAY;
      await Promise.all([a.server.context.keys.tick(due), b.server.context.keys.tick(due)]);
      const states = () =>
        (a.store.db.prepare('SELECT state FROM signing_keys').all() as { state: string }[]).map((r) => r.state);
      expect(states().filter((s) => s === 'next')).toHaveLength(1);
      expect(states().filter((s) => s === 'current')).toHaveLength(1);
      // Both instances agree on what they publish and sign with, after their next tick.
      await Promise.all([a.server.context.keys.tick(due + 60), b.server.context.keys.tick(due + 60)]);
      expect(b.server.context.keys.current.kid).toBe(a.server.context.keys.current.kid);
      expect((await fetchJwks(b)).kids).toEqual((await fetchJwks(a)).kids);
      expect((await fetchJwks(a)).kids.size).toBe(3);
    }));

  it('an instance that finds no current key and loses the activation to another still signs afterwards', () =>
    withTwoInstances(async (a, b) => {
      await signUp(a);
      // The state between another instance's two rotation writes, or after a crash between them.
      a.store.db
        .prepare("UPDATE signing_keys SET state = 'retiring', retired_at = ?, expires_at = ? WHERE state = 'current'")
        .run(START, START + DAY);
      const now = START + 5;
      const [changesA, changesB] = await Promise.all([
        a.server.context.keys.tick(now),
        b.server.context.keys.tick(now),
      ]);
      expect([...changesA, ...changesB].filter((c) => c.kind === 'activated')).toHaveLength(1);
      expect(a.server.context.keys.ready).toBe(true);
      expect(b.server.context.keys.ready).toBe(true);
      // B signs with a published key (the one it had, still retiring, or the new one) and its
      // tokens verify everywhere; at its next tick it signs with the new one.
      const login = await logIn(b);
      expect((await whoami(a, login.accessToken)).statusCode).toBe(200);
      await b.server.context.keys.tick(now + 60);
      expect(b.server.context.keys.current.kid).toBe(a.server.context.keys.current.kid);
    }));

  it('rotateNow that loses to a rotation by another instance changes nothing and says so', () =>
    withTwoInstances(async (a, b) => {
      const due = START + DAY;
      await b.server.context.keys.tick(due - 1);
      const before = (a.store.db.prepare('SELECT count(*) AS n FROM signing_keys').get() as { n: number }).n;
      // B decides from what it read before A's rotation lands.
      const stale = b.store.listSigningKeys.bind(b.store);
      let snapshot: Awaited<ReturnType<typeof stale>> | undefined;
      b.store.listSigningKeys = async () => {
        if (snapshot === undefined) {
          snapshot = await stale();
          await a.server.context.keys.tick(due);
          return snapshot;
        }
        return stale();
      };
      await expect(b.server.context.keys.rotateNow(due, { force: true })).rejects.toThrow(/another instance/);
      const after = a.store.db.prepare('SELECT state FROM signing_keys').all() as { state: string }[];
      // A's rotation made one new next key; B added none.
      expect(after).toHaveLength(before + 1);
      expect(after.filter((r) => r.state === 'current')).toHaveLength(1);
      expect(after.filter((r) => r.state === 'next')).toHaveLength(1);
    }));

  it('two instances ticking when a rotation is due rotate once: one retiring and one activation reported (so audited) in all', () =>
    withTwoInstances(async (a, b) => {
      const due = START + DAY;
      // Both read the same key set first, so both decide to rotate.
      await Promise.all([a.server.context.keys.tick(due - 1), b.server.context.keys.tick(due - 1)]);
      const [changesA, changesB] = await Promise.all([
        a.server.context.keys.tick(due),
        b.server.context.keys.tick(due),
      ]);
      const all = [...changesA, ...changesB];
      expect(all.filter((c) => c.kind === 'retiring')).toHaveLength(1);
      expect(all.filter((c) => c.kind === 'activated')).toHaveLength(1);
      const states = (a.store.db.prepare('SELECT state FROM signing_keys').all() as { state: string }[]).map(
        (r) => r.state,
      );
      expect(states.filter((s) => s === 'current')).toHaveLength(1);
      expect(states.filter((s) => s === 'retiring')).toHaveLength(1);
      expect(states.filter((s) => s === 'next')).toHaveLength(1);
    }));
});

describe('private keys at rest', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('no private key material is readable in the database files without the master key', async () => {
    const masterKey = randomBytes(32);
    const dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
    dirs.push(dir);
    const h = await startHarness({ keyRotationIntervalSec: DAY }, { masterKey, dir });
    await signUp(h);
    h.clock.set(START + DAY);
    await h.server.context.keys.tick(h.clock()); // a retiring, a current and a next key
    const records = h.server.context.keys.records;
    expect(records.length).toBeGreaterThanOrEqual(3);

    // The private scalars, recovered with the master key: the test knows what to look for.
    const secrets = records.map((r) => {
      const json = open(masterKey, r.privateJwkEncrypted, `tessera-key:${r.kid}`);
      expect(json).toBeDefined();
      const d = JSON.parse(json as string).d as string;
      expect(d).toMatch(/^[A-Za-z0-9_-]{43}$/);
      return d;
    });
    expect(secrets).toContain(exportPrivateJwk(h.server.context.keys.current).d);

    const rows = h.store.db.prepare('SELECT * FROM signing_keys').all() as Record<string, unknown>[];
    expect(rows).toHaveLength(records.length);
    for (const row of rows) {
      expect(String(row.private_jwk_encrypted)).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(JSON.parse(String(row.public_jwk))).not.toHaveProperty('d');
    }
    const rowText = JSON.stringify(rows);
    const files = ['', '-wal', '-shm'].map((s) => `${h.dbPath}${s}`).filter((f) => existsSync(f));
    const raw = files.map((f) => readFileSync(f).toString('latin1')).join('\n');
    expect(raw).toContain(records[0]?.kid as string); // the rows really are in these files
    for (const text of [rowText, raw]) {
      expect(text).not.toContain('"d":');
      expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      for (const d of secrets) {
        expect(text).not.toContain(d);
        expect(text).not.toContain(Buffer.from(d, 'base64url').toString('latin1'));
      }
    }
    await h.close();
  });

  it('a server started on the same file with a different master key fails clearly and changes nothing', async () => {
    const masterKey = randomBytes(32);
    const dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
    dirs.push(dir);
    const first = await startHarness({}, { masterKey, dir });
    const { accessToken } = await signUp(first);
    await first.close();

    const store = new SqliteStore({ path: join(dir, 'tessera.sqlite') });
    const keysBefore = JSON.stringify(store.db.prepare('SELECT * FROM signing_keys ORDER BY kid').all());
    try {
      await expect(
        createAuthServer({
          durable: store,
          ephemeral: store,
          env: {},
          keyTimer: false,
          masterKey: randomBytes(32),
          config: { environment: 'test', argon2: { memoryCostKiB: 8192, timeCost: 1 } },
        }),
      ).rejects.toThrow(/cannot be decrypted: wrong TESSERA_MASTER_KEY/);
      // No "repair" by minting new keys, which would silently invalidate every token.
      expect(JSON.stringify(store.db.prepare('SELECT * FROM signing_keys ORDER BY kid').all())).toBe(keysBefore);
    } finally {
      await store.close();
    }

    // With the right key the same file serves again, and earlier tokens still verify.
    const again = await startHarness({}, { masterKey, dir });
    expect((await whoami(again, accessToken)).statusCode).toBe(200);
    await again.close();
  });
});
