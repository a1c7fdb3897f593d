/**
 * Signing key lifecycle `next → current → retiring → retired`, fully automatic:
 * - a `next` key is always published, and is promoted only after it has been in the JWKS for
 *   at least one JWKS max-age, so every cache has seen it before it signs anything;
 * - the rotated-out key stays published (`retiring`) until the last token it signed expired
 *   (access token lifetime plus clock tolerance), then becomes `retired` and leaves the JWKS.
 * Private keys are stored only as AES-256-GCM envelopes under the master key.
 */

import {
  type Algorithm,
  createJwks,
  exportPrivateJwk,
  exportPublicJwk,
  generateKey,
  importJwk,
  type JwkSet,
  KeySet,
  type TesseraKey,
} from '@tessera/core';
import type { DurableStore, SigningKeyRecord } from '../contracts.js';
import { open, seal } from './sealed-box.js';

export interface SigningKeyPolicy {
  readonly alg: Algorithm;
  /** Seconds between rotations. */
  readonly rotationIntervalSec: number;
  /** The JWKS `max-age`, seconds. */
  readonly jwksMaxAgeSec: number;
  /** Longest access token lifetime, seconds, plus verifier clock tolerance. */
  readonly tokenLifetimeSec: number;
  /**
   * How long another process on the same store may keep signing with a key after it was
   * rotated out, seconds: the interval of its key schedule (it notices at its next tick). The
   * retiring key stays published this much longer. Default 0 (a single process).
   */
  readonly scheduleIntervalSec?: number;
}

export interface KeyChange {
  readonly kind: 'created' | 'activated' | 'retiring' | 'retired';
  readonly kid: string;
}

export class SigningKeyManager {
  readonly #store: DurableStore;
  readonly #masterKey: Buffer;
  readonly #policy: SigningKeyPolicy;
  #records: SigningKeyRecord[] = [];
  #keys = new Map<string, TesseraKey>();
  #current: TesseraKey | undefined;
  #keySet = new KeySet([]);
  #jwks: JwkSet = { keys: [] };

  constructor(store: DurableStore, masterKey: Buffer, policy: SigningKeyPolicy) {
    this.#store = store;
    this.#masterKey = masterKey;
    this.#policy = policy;
  }

  /** The key that signs new tokens. */
  get current(): TesseraKey {
    if (this.#current === undefined) throw new Error('signing keys are not loaded');
    return this.#current;
  }

  /** Every published key (next, current, retiring): what tokens may be verified with. */
  get keySet(): KeySet {
    return this.#keySet;
  }

  get jwks(): JwkSet {
    return this.#jwks;
  }

  get records(): readonly SigningKeyRecord[] {
    return this.#records;
  }

  get ready(): boolean {
    return this.#current !== undefined;
  }

  /** Seconds a JWKS response may be cached. */
  get jwksMaxAgeSec(): number {
    return this.#policy.jwksMaxAgeSec;
  }

  async #generate(now: number, state: 'next' | 'current'): Promise<SigningKeyRecord> {
    const key = await generateKey(this.#policy.alg);
    const record: SigningKeyRecord = {
      kid: key.kid,
      alg: key.alg,
      state,
      privateJwkEncrypted: seal(this.#masterKey, JSON.stringify(exportPrivateJwk(key)), `tessera-key:${key.kid}`),
      publicJwk: JSON.stringify(exportPublicJwk(key)),
      createdAt: now,
      activatedAt: state === 'current' ? now : null,
      retiredAt: null,
      expiresAt: null,
    };
    await this.#store.insertSigningKey(record);
    return record;
  }

  #decrypt(record: SigningKeyRecord): TesseraKey {
    const json = open(this.#masterKey, record.privateJwkEncrypted, `tessera-key:${record.kid}`);
    if (json === undefined) {
      throw new Error(`signing key ${record.kid} cannot be decrypted: wrong TESSERA_MASTER_KEY or corrupted row`);
    }
    return importJwk(JSON.parse(json));
  }

  async #load(): Promise<void> {
    this.#records = await this.#store.listSigningKeys();
    const keys = new Map<string, TesseraKey>();
    for (const record of this.#records) {
      if (record.state === 'retired') continue;
      keys.set(record.kid, this.#keys.get(record.kid) ?? this.#decrypt(record));
    }
    this.#keys = keys;
    const current = canonicalCurrent(this.#records);
    // Between another instance's two rotation writes (retire current, activate next), or after
    // a crash between them, the store briefly has no current key. Keep signing with the key this
    // process had while it is still published (retiring): its tokens verify. The next tick
    // activates a next key if nobody else does.
    const previous = this.#current;
    const keepPrevious =
      current === undefined &&
      previous !== undefined &&
      this.#records.some((r) => r.kid === previous.kid && r.state === 'retiring');
    this.#current = current !== undefined ? keys.get(current.kid) : keepPrevious ? previous : undefined;
    this.#keySet = new KeySet(keys.values());
    const order = { current: 0, next: 1, retiring: 2, retired: 3 } as const;
    const published = this.#records
      .filter((r) => r.state !== 'retired')
      .sort((a, b) => order[a.state] - order[b.state])
      .map((r) => keys.get(r.kid) as TesseraKey);
    this.#jwks = createJwks(published);
  }

  /**
   * Brings the key set up to date for `now`: creates missing keys, rotates when due, retires
   * keys whose tokens have all expired. Safe to call often. Returns what changed.
   */
  async tick(now: number): Promise<KeyChange[]> {
    await this.#load();
    const changes: KeyChange[] = [];
    // Fix: instances starting together on an empty store (scale-out) could each find no key and
    // each create and activate one: several `current` keys, all signing, and only one of them
    // ever rotated. Every instance signs with the canonical one (earliest activated); the others
    // retire like a rotated-out key, staying published until the tokens they signed expired.
    // Every transition is a compare-and-set on the state just read: when instances tick at the
    // same moment, each transition happens (and is reported, and audited) once.
    for (const extra of this.#records.filter((r) => r.state === 'current' && r !== canonicalCurrent(this.#records))) {
      if (await this.#retire(extra, now)) changes.push({ kind: 'retiring', kid: extra.kid });
    }
    if (changes.length > 0) await this.#load();
    const current = canonicalCurrent(this.#records);
    const next = canonicalNext(this.#records);
    if (current === undefined) {
      // First start (nothing can have cached a JWKS yet) or a lost current key: sign at once.
      if (next !== undefined) {
        if (await this.#store.updateSigningKey(next.kid, { state: 'current', activatedAt: now }, 'next')) {
          changes.push({ kind: 'activated', kid: next.kid });
        }
      } else {
        const created = await this.#generate(now, 'current');
        changes.push({ kind: 'created', kid: created.kid }, { kind: 'activated', kid: created.kid });
      }
    } else if (
      next !== undefined &&
      (current.activatedAt ?? current.createdAt) + this.#policy.rotationIntervalSec <= now &&
      next.createdAt + this.#policy.jwksMaxAgeSec <= now
    ) {
      changes.push(...(await this.#rotate(current, next, now)));
    }
    for (const record of this.#records) {
      if (record.state === 'retiring' && record.expiresAt !== null && record.expiresAt <= now) {
        if (await this.#store.updateSigningKey(record.kid, { state: 'retired' }, 'retiring')) {
          changes.push({ kind: 'retired', kid: record.kid });
        }
      }
    }
    if (changes.length > 0) await this.#load();
    if (!this.#records.some((r) => r.state === 'next')) {
      const created = await this.#generate(now, 'next');
      changes.push({ kind: 'created', kid: created.kid });
      await this.#load();
    }
    // Fix: two instances ticking at the same moment could both find no `next` key and both
    // create one; the extra stayed published forever and was never used. Keep the oldest and
    // retire the others: a `next` key has signed nothing, so no token depends on it.
    const keep = canonicalNext(this.#records);
    const extras = this.#records.filter((r) => r.state === 'next' && r !== keep);
    if (extras.length > 0) {
      for (const extra of extras) {
        if (
          await this.#store.updateSigningKey(extra.kid, { state: 'retired', retiredAt: now, expiresAt: now }, 'next')
        ) {
          changes.push({ kind: 'retired', kid: extra.kid });
        }
      }
      await this.#load();
    }
    // A compare-and-set lost to another instance changes nothing here, so nothing above
    // reloaded: read the key that instance activated rather than end the tick without one.
    if (this.#current === undefined) await this.#load();
    return changes;
  }

  /** Moves a `current` key to `retiring` (compare-and-set); false if it was not `current` any more. */
  #retire(key: SigningKeyRecord, now: number): Promise<boolean> {
    return this.#store.updateSigningKey(
      key.kid,
      {
        state: 'retiring',
        retiredAt: now,
        // Fix: other instances (or the server, when `tessera keys rotate` ran in another process)
        // keep signing with this key until their next tick; without the schedule interval here
        // the key left the JWKS while tokens they signed just after the rotation were still live.
        expiresAt: now + this.#policy.tokenLifetimeSec + (this.#policy.scheduleIntervalSec ?? 0),
      },
      'current',
    );
  }

  /**
   * Retires `current` and activates `next`, each only from the state read. The instance whose
   * retirement of `current` lands is the one that rotates; another that read the same state
   * changes nothing and reports nothing (it used to repeat both writes and audit a second
   * rotation).
   */
  async #rotate(current: SigningKeyRecord, next: SigningKeyRecord, now: number): Promise<KeyChange[]> {
    if (!(await this.#retire(current, now))) return [];
    const changes: KeyChange[] = [{ kind: 'retiring', kid: current.kid }];
    // Every instance picks the same `next` (canonicalNext) and extra-`next` cleanup keeps that
    // one, so this only fails if another instance activated it first, which is the same result.
    if (await this.#store.updateSigningKey(next.kid, { state: 'current', activatedAt: now }, 'next')) {
      changes.push({ kind: 'activated', kid: next.kid });
    }
    return changes;
  }

  /**
   * Manual rotation (`tessera keys rotate`). Normally refuses while the `next` key is younger
   * than one JWKS max-age, because caches may not have it yet; `force` rotates anyway (for a
   * compromised key, accepting that some verifiers refetch the JWKS).
   */
  async rotateNow(now: number, options: { force?: boolean } = {}): Promise<KeyChange[]> {
    await this.#load();
    const current = canonicalCurrent(this.#records);
    const next = canonicalNext(this.#records);
    if (current === undefined || next === undefined) return this.tick(now);
    if (!options.force && next.createdAt + this.#policy.jwksMaxAgeSec > now) {
      throw new RangeError(
        `the next key has been published for ${now - next.createdAt} s, less than the JWKS max-age of ${this.#policy.jwksMaxAgeSec} s; use force to rotate anyway`,
      );
    }
    const changes = await this.#rotate(current, next, now);
    if (changes.length === 0) {
      // Another instance (or operator) rotated between our read and our write: nothing to do,
      // and no extra `next` key.
      await this.#load();
      throw new RangeError('the key was rotated by another instance at the same moment; nothing changed');
    }
    const created = await this.#generate(now, 'next');
    changes.push({ kind: 'created', kid: created.kid });
    await this.#load();
    return changes;
  }
}

/** The `next` key every instance activates and keeps: the oldest (then the lowest kid). */
function canonicalNext(records: readonly SigningKeyRecord[]): SigningKeyRecord | undefined {
  let best: SigningKeyRecord | undefined;
  for (const r of records) {
    if (r.state !== 'next') continue;
    if (best === undefined || r.createdAt < best.createdAt || (r.createdAt === best.createdAt && r.kid < best.kid))
      best = r;
  }
  return best;
}

/** The `current` key every instance signs with: the earliest activated (then the lowest kid). */
function canonicalCurrent(records: readonly SigningKeyRecord[]): SigningKeyRecord | undefined {
  let best: SigningKeyRecord | undefined;
  for (const r of records) {
    if (r.state !== 'current') continue;
    const at = r.activatedAt ?? r.createdAt;
    const bestAt = best === undefined ? Number.POSITIVE_INFINITY : (best.activatedAt ?? best.createdAt);
    if (best === undefined || at < bestAt || (at === bestAt && r.kid < best.kid)) best = r;
  }
  return best;
}
