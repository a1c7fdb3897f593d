/**
 * The one error this adapter adds: PostgreSQL is unreachable, restarting, overloaded or the
 * store is closed. It is an `AuthError` with code ERR_SERVICE_UNAVAILABLE from the one error
 * table, so the auth server answers it with a 503 and `retry-after: 1` (`retryAfterSec`), never
 * a 500. The public message is the table's; the pg error (whose message may name hosts or SQL)
 * goes only to `detail` and `cause`, for the log.
 */

import { AuthError } from '@tessera/core';

export type StoreUnavailableReason =
  /** `close()` was called. */
  | 'closed'
  /** Connection refused, reset or lost; host not found. */
  | 'connection'
  /** The server is starting, shutting down or in recovery. */
  | 'server_unavailable'
  /** Too many connections, out of memory or disk on the server. */
  | 'resources'
  /** No pooled connection became free within the connection timeout. */
  | 'pool_timeout'
  /** A statement ran past `statementTimeoutMs`, or waited too long for a lock. */
  | 'timeout'
  /** A deadlock or serialization failure: the transaction was rolled back and may be retried. */
  | 'conflict';

export class StoreUnavailableError extends AuthError {
  /** Seconds a client should wait before retrying; the server sends it as `retry-after`. */
  readonly retryAfterSec = 1;
  readonly reason: StoreUnavailableReason;

  constructor(reason: StoreUnavailableReason, options: { cause?: unknown } = {}) {
    const cause = options.cause;
    const why = cause instanceof Error ? `: ${cause.message}` : cause === undefined ? '' : `: ${String(cause)}`;
    super('ERR_SERVICE_UNAVAILABLE', { detail: `postgres ${reason}${why}`, cause });
    this.reason = reason;
  }
}

/** Socket-level errno codes that mean the server cannot be reached right now. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs (exact) that are about availability, not about the statement. */
const SQLSTATE_REASONS: Readonly<Record<string, StoreUnavailableReason>> = {
  '57P01': 'server_unavailable', // admin_shutdown
  '57P02': 'server_unavailable', // crash_shutdown
  '57P03': 'server_unavailable', // cannot_connect_now (starting up, recovery)
  '57P05': 'server_unavailable', // idle_session_timeout
  '57014': 'timeout', // query_canceled: statement_timeout
  '55P03': 'timeout', // lock_not_available: lock_timeout
  '25P03': 'timeout', // idle_in_transaction_session_timeout
  '40001': 'conflict', // serialization_failure
  '40P01': 'conflict', // deadlock_detected
};

/** node-postgres reports these conditions by message only. */
const MESSAGE_REASONS: readonly [RegExp, StoreUnavailableReason][] = [
  [/^timeout exceeded when trying to connect/i, 'pool_timeout'],
  [/^Connection terminated/i, 'connection'],
  [/^Client has encountered a connection error/i, 'connection'],
  [/^Client was closed and is not queryable/i, 'connection'],
  [/^Query read timeout/i, 'timeout'],
  [/^Cannot use a pool after calling end on the pool/i, 'closed'],
];

/** The availability reason of an error from pg, or undefined when it is about the statement. */
export function classifyPgError(error: unknown): StoreUnavailableReason | undefined {
  if (error instanceof StoreUnavailableError) return error.reason;
  if (error === null || typeof error !== 'object') return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return 'connection';
    const byState = SQLSTATE_REASONS[code];
    if (byState !== undefined) return byState;
    if (code.startsWith('08')) return 'connection'; // connection_exception class
    if (code.startsWith('53')) return 'resources'; // insufficient_resources class
  }
  // AggregateError (every address of a host refused) carries the per-address errors.
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested) && nested.length > 0 && nested.every((e) => classifyPgError(e) === 'connection'))
    return 'connection';
  const message = (error as { message?: unknown }).message;
  if (typeof message === 'string') {
    for (const [pattern, reason] of MESSAGE_REASONS) if (pattern.test(message)) return reason;
  }
  return undefined;
}

/** Wraps availability failures in {@link StoreUnavailableError}; returns anything else as is. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const reason = classifyPgError(error);
  return reason === undefined ? error : new StoreUnavailableError(reason, { cause: error });
}

/** True when a failed client should be destroyed rather than returned to the pool. */
export function isConnectionBroken(error: unknown): boolean {
  const reason = classifyPgError(error);
  return reason === 'connection' || reason === 'server_unavailable' || reason === 'timeout';
}
