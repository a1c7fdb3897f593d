/** How the activity panel words each SDK event: a tone and a one-line detail. Pure, so it is unit-tested. */

import type { AuthEvent } from '@tessera/client';

export interface EventLine {
  readonly type: AuthEvent['type'];
  readonly tone: 'ok' | 'warn' | 'bad' | 'neutral';
  readonly detail: string;
}

const SIGNED_IN_SOURCES: Record<string, string> = {
  login: 'password login',
  restore: 'session restored from the refresh cookie',
  'other-tab': 'signed in from another tab',
};

const SIGNED_OUT_SOURCES: Record<string, string> = {
  logout: 'logged out',
  'logout-everywhere': 'logged out of every session',
  'other-tab': 'signed out from another tab',
};

const TRIGGERS: Record<string, string> = {
  proactive: 'before expiry',
  retry: 'retry after a failure',
  restore: 'page load',
  expired: 'the token had expired',
  'other-tab': 'token shared by another tab',
};

/** "14:03:07" in the local time zone. */
export function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** Whole seconds left as m:ss (or h:mm:ss), never negative. */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

export function describeEvent(event: AuthEvent): EventLine {
  switch (event.type) {
    case 'signed-in':
      return { type: event.type, tone: 'ok', detail: SIGNED_IN_SOURCES[event.source] ?? event.source };
    case 'signed-out':
      return { type: event.type, tone: 'neutral', detail: SIGNED_OUT_SOURCES[event.source] ?? event.source };
    case 'refreshed':
      return {
        type: event.type,
        tone: 'ok',
        detail: `${TRIGGERS[event.trigger] ?? event.trigger}; new token valid until ${formatClock(event.expiresAt)}`,
      };
    case 'refresh-failed':
      return {
        type: event.type,
        tone: 'warn',
        detail: `${event.error}; retrying in ${Math.max(0, Math.round(event.retryInMs / 100) / 10)} s`,
      };
    case 'session-expired':
      return { type: event.type, tone: 'bad', detail: `the session ended on the server (${event.code})` };
    case 'reuse-detected':
      return {
        type: event.type,
        tone: 'bad',
        detail: `a refresh token was used twice; the whole session was revoked (${event.code})`,
      };
  }
}

/** "Chrome on Linux" from a User-Agent string; the raw string when nothing is recognised. */
export function summariseUserAgent(userAgent: string | null | undefined): string {
  if (userAgent === null || userAgent === undefined || userAgent === '') return 'Unknown device';
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : /node|undici/i.test(userAgent)
            ? 'Script'
            : undefined;
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Windows/.test(userAgent)
        ? 'Windows'
        : /Mac OS X/.test(userAgent)
          ? 'macOS'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : undefined;
  if (browser === undefined) return userAgent.slice(0, 60);
  return os === undefined ? browser : `${browser} on ${os}`;
}
