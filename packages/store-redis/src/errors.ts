/**
 * How Redis failures become errors. Anything that means "Redis is not answering" (no
 * connection, a command timeout, a server that is loading, read-only or out of memory) is the
 * server's `ERR_SERVICE_UNAVAILABLE` AuthError, which the HTTP layer turns into a 503 with
 * `Retry-After`, exactly like a busy or missing SQLite file. A reply error from one of our own
 * scripts is a bug and is rethrown as it is (a 500), never disguised as an outage.
 */

import { AuthError } from '@tessera/core';

/** Reply prefixes that are about the server's state, not about the command. */
const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|OOM|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MISCONF)\b/;

/** True when `error` is a reply from Redis that says the command itself was wrong. */
function isCommandError(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'ReplyError') return false;
  return !UNAVAILABLE_REPLIES.test(error.message);
}

/**
 * Redis did not answer: `ERR_SERVICE_UNAVAILABLE` (503). `retryAfterSec` is sent as
 * `Retry-After`, as for an unavailable SQLite file; `detail` (logs only) names the operation.
 */
export class RedisUnavailableError extends AuthError {
  readonly retryAfterSec = 1;
  constructor(operation: string, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super('ERR_SERVICE_UNAVAILABLE', { detail: `redis ${operation}: ${message}`, cause });
  }
}

/** The typed 503 error for an unavailable Redis; `operation` names the store method for logs. */
export function unavailableError(operation: string, cause: unknown): RedisUnavailableError {
  return new RedisUnavailableError(operation, cause);
}

/** Maps a failure of `operation` to the error the caller should see. */
export function toStoreError(operation: string, error: unknown): unknown {
  if (error instanceof AuthError || isCommandError(error)) return error;
  return unavailableError(operation, error);
}
