/**
 * The wire form of a revocation event in Redis (pub/sub messages and stream entries): the
 * contract's `RevocationEvent` as JSON, checked field by field on the way in, so a stray or
 * hostile message on the channel can never be mistaken for a revocation of something else.
 */

import type { RevocationEvent, RevocationKind } from '@tessera/server/contracts';

const KINDS: ReadonlySet<string> = new Set<RevocationKind>(['jti', 'sid', 'sub', 'user_disabled', 'kid']);

/** Longest accepted value (a jti, sid, user id or kid), characters. */
const MAX_VALUE_LENGTH = 1024;

export function encodeRevocation(event: RevocationEvent): string {
  return JSON.stringify({
    id: event.id,
    kind: event.kind,
    value: event.value,
    at: event.at,
    expiresAt: event.expiresAt,
  });
}

/** The event, or undefined when `payload` is not a well-formed one. */
export function decodeRevocation(payload: string): RevocationEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const e = parsed as Record<string, unknown>;
  if (
    !Number.isSafeInteger(e.id) ||
    typeof e.kind !== 'string' ||
    !KINDS.has(e.kind) ||
    typeof e.value !== 'string' ||
    e.value.length > MAX_VALUE_LENGTH ||
    !Number.isSafeInteger(e.at) ||
    !Number.isSafeInteger(e.expiresAt)
  ) {
    return undefined;
  }
  return {
    id: e.id as number,
    kind: e.kind as RevocationKind,
    value: e.value,
    at: e.at as number,
    expiresAt: e.expiresAt as number,
  };
}

/** Checks an event before it is published, so only well-formed events reach Redis. */
export function checkRevocation(event: RevocationEvent): void {
  if (decodeRevocation(encodeRevocation(event)) === undefined) {
    throw new TypeError('event must be a RevocationEvent (safe-integer id, at and expiresAt; known kind)');
  }
}
