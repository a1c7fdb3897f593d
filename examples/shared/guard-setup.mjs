// What every example API shares: configuration from the environment (see each server.mjs for the
// variables), the optional pushed-revocation feed, and a fail-closed guard.
import { createGuard, createRevocationFeed } from '@tessera/guard';

/**
 * @param {string} name          the example's name, used in log lines
 * @param {number} defaultPort
 * @param {{ info(...args: unknown[]): void, warn(...args: unknown[]): void }} [logger]
 *        pino-style `(details, message)` logger; default: warnings to the console
 */
export function setUpGuard(name, defaultPort, logger) {
  const issuer = process.env.TESSERA_ISSUER ?? 'http://localhost:8080';
  const audience = process.env.TESSERA_AUDIENCE ?? 'tessera-api';
  const authUrl = (process.env.TESSERA_AUTH_URL ?? issuer).replace(/\/+$/, '');
  const jwksUri = process.env.TESSERA_JWKS_URI ?? `${authUrl}/.well-known/jwks.json`;
  const clientId = process.env.TESSERA_CLIENT_ID;
  const clientSecret = process.env.TESSERA_CLIENT_SECRET;
  const port = Number(process.env.PORT ?? defaultPort);
  const host = process.env.HOST ?? '127.0.0.1';

  if ((clientId === undefined) !== (clientSecret === undefined)) {
    console.error(`${name}: set both TESSERA_CLIENT_ID and TESSERA_CLIENT_SECRET for pushed revocation, or neither`);
    process.exit(1);
  }

  const log = logger ?? { info: () => {}, warn: (details, message) => console.warn(`${name}: ${message}`, details) };

  // Optional pushed revocation: the guard then rejects revoked tokens at once (logout, session
  // deletion, password change) instead of accepting them until they expire.
  const feed =
    clientId === undefined ? undefined : createRevocationFeed({ url: authUrl, clientId, clientSecret, logger: log });
  feed?.ready.then(
    () => console.log(`${name}: revocation feed connected (first snapshot loaded)`),
    () => {}, // rejected only when closed before the first snapshot
  );

  const guard = createGuard({
    issuer,
    audience,
    jwksUri,
    // Fail closed: while the feed is stale (no contact for 30 s, or not yet connected), routes
    // answer 503 rather than accept a token that may have been revoked.
    ...(feed === undefined ? {} : { revocation: { source: feed, onStale: 'fail-closed' } }),
    logger: log,
  });

  /** The feed's state for /public, or null when pushed revocation is off. */
  function feedStatus() {
    if (feed === undefined) return null;
    const staleness = feed.stalenessSec();
    return {
      lastEventId: feed.lastEventId,
      stalenessSec: Number.isFinite(staleness) ? Math.round(staleness * 10) / 10 : null,
    };
  }

  /** Stops the guard's timers and the feed. */
  async function close() {
    guard.close();
    await feed?.close();
  }

  return { guard, feed, feedStatus, close, issuer, port, host };
}
