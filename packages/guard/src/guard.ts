/**
 * `createGuard`: access-token authentication for resource servers. Options are validated once
 * (a `TypeError` names the field). The hot path (header parse, verified-token cache hit,
 * revocation check, scope check) is synchronous and allocates nothing of its own; a cache miss
 * verifies on the threadpool and, with a remote JWKS, may wait for a (single-flight) fetch.
 */

import {
  type AccessTokenClaims,
  type AccessTokenVerifier,
  type Algorithm,
  type AsyncKeyResolver,
  type Clock,
  createAccessTokenVerifier,
  decodeBase64urlStrict,
  importJwks,
  KeySet,
  systemClock,
  TesseraKey,
  VerifiedTokenCache,
  type VerifiedTokenCacheOptions,
} from '@tessera/core';
import { checkFetchUrl, fetchJson, type GuardLogger, RemoteJwks } from './jwks.js';
import { extractToken, peekBearer, type RequestLike } from './request.js';
import { DEFAULT_REALM, GuardError, type GuardResponse, toResponse } from './response.js';
import type { RevocationEvent, RevocationSource } from './revocation-source.js';
import { checkScopeList, hasScopes } from './scopes.js';

export type StalePolicy = 'fail-closed' | 'fail-open';

export interface RevocationOptions {
  readonly source: RevocationSource;
  /** Revocation data older than this is stale, seconds. Default 30; 0 to 86,400. */
  readonly maxStalenessSec?: number;
  /** What to do when it is stale. Default `'fail-closed'` (503 `ERR_REVOCATION_STALE`). */
  readonly onStale?: StalePolicy;
}

export interface RemoteJwksSettings {
  /** Fetch timeout, milliseconds. Default 5,000; 100 to 60,000. */
  readonly timeoutMs?: number;
  /** Response size limit, bytes. Default 1 MiB; 1,024 to 16 MiB. */
  readonly maxBytes?: number;
  /** Lower bound on the cache lifetime taken from `Cache-Control: max-age`, seconds. Default 60; 1 to 86,400. */
  readonly minCacheSec?: number;
  /** Upper bound on that lifetime, seconds. Default 86,400 (24 h); 1 to 604,800. */
  readonly maxCacheSec?: number;
  /** Lifetime when the response carries no max-age, seconds. Default 300. */
  readonly defaultCacheSec?: number;
  /** Minimum interval between refetches caused by an unknown `kid`, seconds. Default 30; 1 to 3,600. */
  readonly cooldownSec?: number;
  /** Allow plain http to non-loopback hosts. Default false. */
  readonly allowInsecureHttp?: boolean;
  /** The fetch implementation. Default the global `fetch`. */
  readonly fetch?: typeof fetch;
}

export interface GuardOptions {
  /** Accepted `iss` value(s), compared exactly. Required. */
  readonly issuer: string | readonly string[];
  /** Accepted `aud` value(s). Required. */
  readonly audience: string | readonly string[];
  /** The auth server's JWKS URL (https; http for loopback hosts). Exactly one of jwksUri, keys, discovery. */
  readonly jwksUri?: string | URL;
  /** Local keys: a KeySet, one TesseraKey, or a JWKS document. */
  readonly keys?: KeySet | TesseraKey | { readonly keys: readonly unknown[] };
  /** Find jwks_uri in `${issuer}/.well-known/oauth-authorization-server` (RFC 8414). Default false. */
  readonly discovery?: boolean;
  /** Algorithm allowlist. Default: each key's own algorithm. */
  readonly algorithms?: readonly Algorithm[];
  /** Clock skew allowed for exp, nbf and iat, seconds. Default 30; 0 to 300. */
  readonly clockToleranceSec?: number;
  /** Required `typ` header. Default `"at+jwt"`; null to skip. */
  readonly typ?: string | null;
  /** Scopes every request must carry (routes may add more). Default none. */
  readonly requiredScopes?: readonly string[];
  /** Pushed revocation. Default none (only signature and claims are checked). */
  readonly revocation?: RevocationOptions;
  /** Also accept the RFC 6750 2.2 form-body `access_token`. Default false. */
  readonly allowFormBody?: boolean;
  /** The challenge realm. Default `"tessera"`. */
  readonly realm?: string;
  /** Verified-token cache options, or false to disable. Default 10,000 entries, 300 s. */
  readonly cache?: false | VerifiedTokenCacheOptions;
  /** Remote JWKS tuning. */
  readonly remoteJwks?: RemoteJwksSettings;
  /** Receives warnings (fail-open acceptances, JWKS failures). pino-style `warn(details, message)`. */
  readonly logger?: GuardLogger;
  /** Whole seconds since the epoch. Default the system clock. */
  readonly clock?: Clock;
}

/** Per-route and per-call overrides. */
export interface AuthenticateOptions {
  /** Scopes this route needs, on top of `requiredScopes`. */
  readonly scopes?: readonly string[];
  readonly onStale?: StalePolicy;
  readonly maxStalenessSec?: number;
}

export interface GuardStats {
  readonly authenticated: number;
  readonly rejected: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly cacheSize: number;
  readonly revokedRejected: number;
  readonly staleRejected: number;
  readonly staleAccepted: number;
  readonly evictions: number;
  readonly jwksFetches: number;
  readonly jwksFetchFailures: number;
  readonly jwksUnknownKidRefetches: number;
}

/** Route options validated once (the bindings compile them at registration). */
export interface CompiledRoute {
  readonly scopes: readonly string[];
  readonly onStale: StalePolicy;
  readonly maxStalenessSec: number;
}

export interface GuardCore {
  readonly realm: string;
  readonly allowFormBody: boolean;
  compile(options: AuthenticateOptions | undefined, field?: string): CompiledRoute;
  /** Authenticates; returns claims synchronously on a cache hit, a promise otherwise. Throws / rejects `AuthError`. */
  check(request: RequestLike, route: CompiledRoute): AccessTokenClaims | Promise<AccessTokenClaims>;
  /** Checks scopes of already-authenticated claims. Throws `GuardError`. */
  checkScopes(claims: AccessTokenClaims, route: CompiledRoute): void;
  toResponse(error: unknown): GuardResponse;
}

interface CacheEntry {
  readonly exp: number;
  readonly jti: string;
  readonly sid: string | undefined;
  readonly sub: string;
  readonly claims: AccessTokenClaims;
  readonly kid: string | undefined;
}

const STALE_POLICIES: readonly string[] = ['fail-closed', 'fail-open'];
const FAIL_OPEN_LOG_INTERVAL_MS = 10_000;
const REVOCATION_RETRY_AFTER_SEC = 5;

function checkInt(value: unknown, field: string, min: number, max: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${field} must be an integer from ${min} to ${max} ${unit}`.trimEnd());
  }
  return value;
}

function checkStale(value: unknown, field: string): StalePolicy {
  if (typeof value !== 'string' || !STALE_POLICIES.includes(value)) {
    throw new TypeError(`${field} must be 'fail-closed' or 'fail-open'`);
  }
  return value as StalePolicy;
}

function checkBool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${field} must be a boolean`);
  return value;
}

function isRevocationSource(value: unknown): value is RevocationSource {
  const s = value as Partial<RevocationSource> | null;
  return (
    s !== null &&
    typeof s === 'object' &&
    typeof s.isRevoked === 'function' &&
    typeof s.stalenessSec === 'function' &&
    typeof s.onRevocation === 'function'
  );
}

/** The header `kid` of a token that has just verified (the verifier does not return the header). */
function headerKid(token: string, memo: Map<string, string | undefined>): string | undefined {
  const segment = token.slice(0, token.indexOf('.'));
  if (memo.has(segment)) return memo.get(segment);
  let kid: string | undefined;
  try {
    const bytes = decodeBase64urlStrict(segment);
    const header = (bytes === undefined ? {} : JSON.parse(bytes.toString('utf8'))) as { kid?: unknown };
    kid = typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    kid = undefined;
  }
  if (memo.size >= 64) memo.clear();
  memo.set(segment, kid);
  return kid;
}

export interface GuardInternals {
  readonly core: GuardCore;
  readonly verifier: AccessTokenVerifier;
  readonly cache: VerifiedTokenCache<CacheEntry> | undefined;
  readonly jwks: RemoteJwks | undefined;
  readonly stats: () => GuardStats;
  readonly close: () => void;
}

export function buildGuard(options: GuardOptions): GuardInternals {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'function') throw new TypeError('clock must be a function');
  const logger = options.logger;
  if (logger !== undefined && (logger === null || typeof logger.warn !== 'function')) {
    throw new TypeError('logger must have a warn(details, message) method');
  }
  const realm = options.realm ?? DEFAULT_REALM;
  if (typeof realm !== 'string' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}$/.test(realm)) {
    throw new TypeError('realm must be 1 to 128 printable ASCII characters without quotes or backslashes');
  }
  const allowFormBody = checkBool(options.allowFormBody ?? false, 'allowFormBody');
  const requiredScopes = checkScopeList(options.requiredScopes ?? [], 'requiredScopes');
  const discovery = checkBool(options.discovery ?? false, 'discovery');

  // --- revocation ---
  let source: RevocationSource | undefined;
  let defaultStale: StalePolicy = 'fail-closed';
  let defaultMaxStaleness = 30;
  if (options.revocation !== undefined) {
    const r = options.revocation;
    if (r === null || typeof r !== 'object') throw new TypeError('revocation must be an object');
    if (!isRevocationSource(r.source)) {
      throw new TypeError('revocation.source must be a RevocationSource (isRevoked, stalenessSec, onRevocation)');
    }
    source = r.source;
    defaultMaxStaleness = checkInt(r.maxStalenessSec ?? 30, 'revocation.maxStalenessSec', 0, 86_400, 'seconds');
    defaultStale = checkStale(r.onStale ?? 'fail-closed', 'revocation.onStale');
  }

  // --- keys ---
  const ways = [options.jwksUri !== undefined, options.keys !== undefined, discovery].filter(Boolean).length;
  if (ways !== 1) throw new TypeError('exactly one of jwksUri, keys or discovery: true is required');
  const remote = options.remoteJwks ?? {};
  if (remote === null || typeof remote !== 'object') throw new TypeError('remoteJwks must be an object');
  let jwks: RemoteJwks | undefined;
  let resolver: KeySet | TesseraKey | RemoteJwks['resolve'];
  if (options.keys !== undefined) {
    const keys = options.keys;
    if (keys instanceof KeySet || keys instanceof TesseraKey) resolver = keys;
    else if (keys !== null && typeof keys === 'object' && Array.isArray((keys as { keys?: unknown }).keys)) {
      const { keySet } = importJwks(keys);
      if (keySet.size === 0) throw new TypeError('keys must contain at least one usable key');
      resolver = keySet;
    } else throw new TypeError('keys must be a KeySet, a TesseraKey or a JWKS document');
  } else {
    const allowInsecure = checkBool(remote.allowInsecureHttp ?? false, 'remoteJwks.allowInsecureHttp');
    const fetchImpl = remote.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new TypeError('remoteJwks.fetch must be a function');
    const timeoutMs = checkInt(remote.timeoutMs ?? 5000, 'remoteJwks.timeoutMs', 100, 60_000, 'ms');
    const maxBytes = checkInt(remote.maxBytes ?? 1_048_576, 'remoteJwks.maxBytes', 1024, 16_777_216, 'bytes');
    const minCacheSec = checkInt(remote.minCacheSec ?? 60, 'remoteJwks.minCacheSec', 1, 86_400, 'seconds');
    const maxCacheSec = checkInt(remote.maxCacheSec ?? 86_400, 'remoteJwks.maxCacheSec', 1, 604_800, 'seconds');
    if (maxCacheSec < minCacheSec) throw new TypeError('remoteJwks.maxCacheSec must not be below minCacheSec');
    const defaultCacheSec = checkInt(
      remote.defaultCacheSec ?? 300,
      'remoteJwks.defaultCacheSec',
      1,
      604_800,
      'seconds',
    );
    const cooldownSec = checkInt(remote.cooldownSec ?? 30, 'remoteJwks.cooldownSec', 1, 3600, 'seconds');
    let url: URL | undefined;
    let discover: (() => Promise<URL>) | undefined;
    if (options.jwksUri !== undefined) {
      url = checkFetchUrl(
        options.jwksUri instanceof URL ? options.jwksUri.href : options.jwksUri,
        'jwksUri',
        allowInsecure,
      );
    } else {
      if (typeof options.issuer !== 'string') throw new TypeError('discovery needs issuer to be a single string');
      const issuer = options.issuer;
      const metadataUrl = checkFetchUrl(
        `${issuer.replace(/\/+$/, '')}/.well-known/oauth-authorization-server`,
        'issuer',
        allowInsecure,
      );
      discover = async () => {
        const { json } = await fetchJson(metadataUrl, { timeoutMs, maxBytes, fetch: fetchImpl });
        const metadata = json as { issuer?: unknown; jwks_uri?: unknown } | null;
        // RFC 8414 3.3: the metadata must name exactly the issuer it was fetched for.
        if (metadata === null || typeof metadata !== 'object' || metadata.issuer !== issuer) {
          throw new Error('authorization server metadata names another issuer');
        }
        try {
          return checkFetchUrl(metadata.jwks_uri, 'jwks_uri', allowInsecure);
        } catch (error) {
          throw new Error((error as Error).message);
        }
      };
    }
    jwks = new RemoteJwks({
      url,
      discover,
      timeoutMs,
      maxBytes,
      minCacheSec,
      maxCacheSec,
      defaultCacheSec,
      cooldownSec,
      logger,
      fetch: fetchImpl,
    });
    resolver = jwks.resolve;
  }
  if (options.issuer === undefined)
    throw new TypeError('issuer must be a non-empty string or a non-empty array of strings');
  if (options.audience === undefined)
    throw new TypeError('audience must be a non-empty string or a non-empty array of strings');
  // The remote resolver answers synchronously for a known kid, with a promise otherwise; the
  // verifier awaits either on its async path.
  const verifier = createAccessTokenVerifier(resolver as AsyncKeyResolver, {
    issuer: options.issuer,
    audience: options.audience,
    ...(options.algorithms === undefined ? {} : { algorithms: options.algorithms }),
    ...(options.typ === undefined ? {} : { typ: options.typ }),
    ...(options.clockToleranceSec === undefined ? {} : { clockToleranceSec: options.clockToleranceSec }),
    clock,
  });

  let cache: VerifiedTokenCache<CacheEntry> | undefined;
  if (options.cache !== false) {
    if (options.cache !== undefined && (options.cache === null || typeof options.cache !== 'object')) {
      throw new TypeError('cache must be false or { maxEntries, maxAgeSec }');
    }
    cache = new VerifiedTokenCache<CacheEntry>(options.cache ?? {});
  }

  // --- counters ---
  let authenticated = 0;
  let rejected = 0;
  let cacheMisses = 0;
  let revokedRejected = 0;
  let staleRejected = 0;
  let staleAccepted = 0;
  let evictions = 0;
  let lastFailOpenLog = Number.NEGATIVE_INFINITY;
  let failOpenSinceLog = 0;

  // --- revocation events evict the cache ---
  let unsubscribe: (() => void) | undefined;
  if (source !== undefined && cache !== undefined) {
    const c = cache;
    unsubscribe = source.onRevocation((event: RevocationEvent) => {
      switch (event.kind) {
        case 'jti':
          evictions += c.evict({ jti: event.value });
          break;
        case 'sid':
          evictions += c.evict({ sid: event.value });
          break;
        case 'sub': {
          const at = event.value.lastIndexOf('@');
          evictions += c.evict({ sub: at === -1 ? event.value : event.value.slice(0, at) });
          break;
        }
        case 'user_disabled':
          evictions += c.evict({ sub: event.value });
          break;
        default: {
          // A retired key (or a kind this guard does not know): drop everything, re-verify.
          evictions += c.size;
          c.clear();
        }
      }
    });
  }

  const defaultRoute: CompiledRoute = Object.freeze({
    scopes: requiredScopes,
    onStale: defaultStale,
    maxStalenessSec: defaultMaxStaleness,
  });

  function compile(route: AuthenticateOptions | undefined, field = 'options'): CompiledRoute {
    if (route === undefined) return defaultRoute;
    if (route === null || typeof route !== 'object') throw new TypeError(`${field} must be an object`);
    const scopes =
      route.scopes === undefined
        ? requiredScopes
        : Object.freeze([...new Set([...requiredScopes, ...checkScopeList(route.scopes, `${field}.scopes`)])]);
    return Object.freeze({
      scopes,
      onStale: route.onStale === undefined ? defaultStale : checkStale(route.onStale, `${field}.onStale`),
      maxStalenessSec:
        route.maxStalenessSec === undefined
          ? defaultMaxStaleness
          : checkInt(route.maxStalenessSec, `${field}.maxStalenessSec`, 0, 86_400, 'seconds'),
    });
  }

  const staleError = new GuardError('ERR_REVOCATION_STALE', { retryAfterSec: REVOCATION_RETRY_AFTER_SEC });

  function checkScopes(claims: AccessTokenClaims, route: CompiledRoute): void {
    if (!hasScopes(claims.scope, route.scopes)) {
      throw new GuardError('ERR_INSUFFICIENT_SCOPE', { scopes: route.scopes });
    }
  }

  function accept(claims: AccessTokenClaims, kid: string | undefined, route: CompiledRoute): AccessTokenClaims {
    if (source !== undefined) {
      // Every request, cache hit or not: a revoked token is never served from the cache.
      if (source.isRevoked(claims, kid)) {
        revokedRejected++;
        throw new GuardError('ERR_TOKEN_REVOKED');
      }
      const staleness = source.stalenessSec();
      if (!(staleness <= route.maxStalenessSec)) {
        if (route.onStale === 'fail-closed') {
          staleRejected++;
          throw staleError;
        }
        staleAccepted++;
        failOpenSinceLog++;
        const now = performance.now();
        if (logger !== undefined && now - lastFailOpenLog >= FAIL_OPEN_LOG_INTERVAL_MS) {
          logger.warn(
            { stalenessSec: staleness, maxStalenessSec: route.maxStalenessSec, accepted: failOpenSinceLog },
            'guard: revocation data is stale; accepting the token (fail-open)',
          );
          lastFailOpenLog = now;
          failOpenSinceLog = 0;
        }
      }
    }
    checkScopes(claims, route);
    authenticated++;
    return claims;
  }

  const kidMemo = new Map<string, string | undefined>();

  function onMiss(token: string, route: CompiledRoute) {
    return (claims: AccessTokenClaims): AccessTokenClaims => {
      const kid = headerKid(token, kidMemo);
      if (cache !== undefined) {
        cache.set(token, { exp: claims.exp, jti: claims.jti, sid: claims.sid, sub: claims.sub, claims, kid }, clock());
      }
      return accept(claims, kid, route);
    };
  }

  function countRejection(error: unknown): never {
    rejected++;
    throw error;
  }

  function check(request: RequestLike, route: CompiledRoute): AccessTokenClaims | Promise<AccessTokenClaims> {
    try {
      let probed: string | undefined;
      if (cache !== undefined && !allowFormBody) {
        // The hot path: one header read and one cache lookup, no regex (see peekBearer).
        probed = peekBearer(request);
        if (probed !== undefined) {
          const hit = cache.get(probed, clock());
          if (hit !== undefined) return accept(hit.claims, hit.kid, route);
        }
      }
      const token = extractToken(request, allowFormBody);
      if (cache !== undefined && token !== probed) {
        const hit = cache.get(token, clock());
        if (hit !== undefined) return accept(hit.claims, hit.kid, route);
      }
      cacheMisses++;
      return verifier.verifyAsync(token).then(onMiss(token, route)).catch(countRejection);
    } catch (error) {
      rejected++;
      throw error;
    }
  }

  const core: GuardCore = Object.freeze({
    realm,
    allowFormBody,
    compile,
    check,
    checkScopes,
    toResponse: (error: unknown) => toResponse(error, { realm }),
  });

  return {
    core,
    verifier,
    cache,
    jwks,
    stats: () => {
      const cacheStats = cache?.stats;
      return Object.freeze({
        authenticated,
        rejected,
        cacheHits: cacheStats?.hits ?? 0,
        cacheMisses,
        cacheSize: cacheStats?.size ?? 0,
        revokedRejected,
        staleRejected,
        staleAccepted,
        evictions,
        jwksFetches: jwks?.stats.fetches ?? 0,
        jwksFetchFailures: jwks?.stats.fetchFailures ?? 0,
        jwksUnknownKidRefetches: jwks?.stats.unknownKidRefetches ?? 0,
      });
    },
    close: () => {
      unsubscribe?.();
      unsubscribe = undefined;
      jwks?.close();
    },
  };
}
