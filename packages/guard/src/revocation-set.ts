/**
 * The in-memory revocation set every revocation source fills (see RevocationState): entries
 * by jti, sid, kid, per-user cutoff and disabled account, each forgotten after its expiry.
 */

import type { RevocableClaims, RevocationEvent } from './revocation-source.js';

/** A value with the latest expiry among the events that set it. */
interface Entry<T> {
  value: T;
  expiresAt: number;
}

/** The in-memory revocation state; every entry is forgotten after its expiry. */
export class RevocationSet {
  readonly jtis = new Map<string, number>();
  readonly sids = new Map<string, number>();
  readonly kids = new Map<string, number>();
  /** userId → the highest cutoff: tokens with `iat < cutoff` are dead. */
  readonly cutoffs = new Map<string, Entry<number>>();
  /** userId → the latest disable time: tokens with `iat <= at` are dead. */
  readonly disabled = new Map<string, Entry<number>>();

  /** Applies one event; returns false when it is malformed (a `sub` value without a cutoff). */
  apply(event: RevocationEvent): boolean {
    switch (event.kind) {
      case 'jti':
        return setMax(this.jtis, event.value, event.expiresAt);
      case 'sid':
        return setMax(this.sids, event.value, event.expiresAt);
      case 'kid':
        return setMax(this.kids, event.value, event.expiresAt);
      case 'sub': {
        const at = event.value.lastIndexOf('@');
        const cutoff = Number(event.value.slice(at + 1));
        if (at <= 0 || !Number.isSafeInteger(cutoff)) return false;
        return raise(this.cutoffs, event.value.slice(0, at), cutoff, event.expiresAt);
      }
      case 'user_disabled':
        return raise(this.disabled, event.value, event.at, event.expiresAt);
      default:
        return false;
    }
  }

  isRevoked(claims: RevocableClaims, kid: string | undefined, now: number): boolean {
    if (live(this.jtis.get(claims.jti), now)) return true;
    if (claims.sid !== undefined && live(this.sids.get(claims.sid), now)) return true;
    if (kid !== undefined && live(this.kids.get(kid), now)) return true;
    const cutoff = this.cutoffs.get(claims.sub);
    if (cutoff !== undefined && live(cutoff.expiresAt, now) && claims.iat < cutoff.value) return true;
    const disabled = this.disabled.get(claims.sub);
    if (disabled !== undefined && live(disabled.expiresAt, now) && claims.iat <= disabled.value) return true;
    return false;
  }

  /** Drops every entry whose (extended) expiry has passed. */
  prune(now: number): void {
    for (const map of [this.jtis, this.sids, this.kids]) {
      for (const [key, expiresAt] of map) if (!live(expiresAt, now)) map.delete(key);
    }
    for (const map of [this.cutoffs, this.disabled]) {
      for (const [key, entry] of map) if (!live(entry.expiresAt, now)) map.delete(key);
    }
  }

  get size(): number {
    return this.jtis.size + this.sids.size + this.kids.size + this.cutoffs.size + this.disabled.size;
  }
}

/** `now` here already has the retention subtracted: an entry lives while now <= expiresAt. */
function live(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && now <= expiresAt;
}

function setMax(map: Map<string, number>, key: string, expiresAt: number): boolean {
  const old = map.get(key);
  if (old === undefined || expiresAt > old) map.set(key, expiresAt);
  return true;
}

/** Keeps the highest value and the latest expiry: a later cutoff covers an earlier one. */
function raise(map: Map<string, Entry<number>>, key: string, value: number, expiresAt: number): boolean {
  const old = map.get(key);
  if (old === undefined) map.set(key, { value, expiresAt });
  else map.set(key, { value: Math.max(old.value, value), expiresAt: Math.max(old.expiresAt, expiresAt) });
  return true;
}
