/**
 * The one typed configuration. Every field has a default and a unit in its name; every field
 * can be overridden by a `TESSERA_*` environment variable (camelCase → SCREAMING_SNAKE, nested
 * with `_`: `cookie.secure` → `TESSERA_COOKIE_SECURE`). `resolveConfig` validates everything
 * at start and throws a `TypeError` naming the field and its allowed range.
 */

import { type Algorithm, isAlgorithm } from '@tessera/core';

export interface Argon2Config {
  /** Memory per hash, in KiB. Default 19,456 (19 MiB, OWASP's argon2id baseline); 8,192 to 1,048,576. */
  readonly memoryCostKiB: number;
  /** Iterations. Default 2; 1 to 10. */
  readonly timeCost: number;
  /** Lanes. Default 1; 1 to 8. */
  readonly parallelism: number;
}

export interface CookieConfig {
  /**
   * Send the refresh cookie with `Secure` and the `__Secure-` prefix. Default true. `false` is
   * for plain-http development off localhost only: it warns and is refused in production.
   * Browsers treat http://localhost as secure, so local development needs no opt-out.
   */
  readonly secure: boolean;
  /** Cookie path: the narrowest covering refresh and logout. Default `/auth`. */
  readonly path: string;
  /** Optional cookie `Domain`. Default none (host-only, the safest). */
  readonly domain: string | null;
}

/** A token bucket: `burst` requests at once, refilled at `perMinute`. */
export interface RateLimitRule {
  /** Bucket capacity, requests. */
  readonly burst: number;
  /** Refill rate, requests per minute. */
  readonly perMinute: number;
}

export interface RateLimitConfig {
  /** Apply the limits. Default true. */
  readonly enabled: boolean;
  /** `POST /auth/login` per client IP. Default burst 20, 10/min. */
  readonly loginPerIp: RateLimitRule;
  /** `POST /auth/login` per email address (known or not). Default burst 10, 5/min. */
  readonly loginPerAccount: RateLimitRule;
  /** `POST /auth/register` per client IP. Default burst 10, 2/min. */
  readonly registerPerIp: RateLimitRule;
  /** `POST /auth/refresh` and `/oauth/token` per client IP. Default burst 120, 60/min. */
  readonly refreshPerIp: RateLimitRule;
  /**
   * Failed client authentications (unknown client or wrong secret) on `/oauth/revoke`,
   * `/oauth/introspect` and `/auth/revocations`, per client IP; only failures take from the
   * bucket, so a busy resource server is never slowed. Default burst 20, 10/min.
   */
  readonly clientAuthFailuresPerIp: RateLimitRule;
}

/**
 * Progressive delay after failed logins. Per (account, IP): after `freeAttempts` failures each
 * further attempt must wait `baseDelaySec * 2^(n - freeAttempts)` seconds after the last
 * failure, at most `maxDelaySec`. Per account over all IPs: after `accountFreeAttempts`
 * failures the same doubling, capped at `accountMaxDelaySec`, which is short so that an
 * attacker can slow a victim down but never lock them out. A success clears the counters.
 */
export interface LockoutConfig {
  /** Failures per (account, IP) before delays start. Default 5; 1 to 100. */
  readonly freeAttempts: number;
  /** First delay, seconds. Default 1; 1 to 60. */
  readonly baseDelaySec: number;
  /** Longest delay per (account, IP), seconds. Default 900; 1 to 86,400. */
  readonly maxDelaySec: number;
  /** Failures per account, all IPs, before delays start. Default 20; 1 to 10,000. */
  readonly accountFreeAttempts: number;
  /** Longest delay per account, seconds. Default 30; 1 to 300. */
  readonly accountMaxDelaySec: number;
  /** Counters reset after this long without a failure, seconds. Default 86,400; 60 to 604,800. */
  readonly windowSec: number;
}

export interface AuthServerConfig {
  /** Public base URL of this server: the `iss` claim. Default `http://localhost:8080`. */
  readonly issuer: string;
  /** Listen address. Default `127.0.0.1`. */
  readonly host: string;
  /** Listen port. Default 8080; 0 picks a free port. */
  readonly port: number;
  /** `aud` of access tokens: the API(s) they are for. Default `["tessera-api"]`. */
  readonly audience: readonly string[];
  /** `client_id` of the first-party browser client. Default `tessera-web`. */
  readonly clientId: string;
  /** Default `scope` granted at login. Default `openid profile`. */
  readonly defaultScope: string;
  /** Access token lifetime, seconds. Default 600; 60 to 3,600 (300-900 recommended). */
  readonly accessTokenTtlSec: number;
  /** Refresh idle lifetime, seconds. Default 1,209,600 (14 d); 300 to 31,536,000. */
  readonly refreshIdleTtlSec: number;
  /** Absolute session ceiling, seconds. Default 2,592,000 (30 d); 300 to 31,536,000. */
  readonly sessionMaxTtlSec: number;
  /** Grace window for concurrent duplicate refreshes, seconds. Default 10; 0 (off) to 60. */
  readonly refreshGraceSec: number;
  /**
   * Refresh tokens this process issued whose session it remembers, so their next refresh
   * needs one store call instead of two (docs/server.md). Default 50,000 entries (about 15 MB
   * when full); 0 (off) to 1,000,000.
   */
  readonly refreshCacheEntries: number;
  /** Signing algorithm of generated keys. Default `ES256`: cheapest sign + verify here (docs/benchmarks.md). */
  readonly signingAlg: Algorithm;
  /** How often the signing key rotates, seconds. Default 2,592,000 (30 d); 3,600 to 31,536,000. */
  readonly keyRotationIntervalSec: number;
  /** `Cache-Control: max-age` of the JWKS, seconds. Default 600; 60 to 86,400. */
  readonly jwksMaxAgeSec: number;
  /** Accept `POST /auth/register`. Default true, except false when NODE_ENV=production. */
  readonly registrationOpen: boolean;
  /** SQLite database file. Default `.tessera/tessera.sqlite`. */
  readonly databasePath: string;
  /** Where the development master key is kept when TESSERA_MASTER_KEY is unset. Default `.tessera/master.key`. */
  readonly masterKeyFile: string;
  /**
   * Proxies in front of the server whose `X-Forwarded-For` entries are trusted, counted from
   * the server: the client IP is the address that many hops back. Default 0 (none: the socket
   * address). `true` means 1 (one reverse proxy). Never trust every hop: the left-most entry is
   * written by the client, so "trust all" would let it pick its own IP and escape rate limits.
   */
  readonly trustProxy: number;
  /** Maximum request body, bytes. Default 16,384; 1,024 to 1,048,576. */
  readonly bodyLimitBytes: number;
  /** pino log level. Default `info`. */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * Browser origins (scheme://host[:port]) allowed to call the auth server with credentials:
   * CORS allowlist and CSRF `Origin` check. The issuer's own origin is always allowed.
   * Default none. `*` is refused.
   */
  readonly allowedOrigins: readonly string[];
  /** The custom header cookie-authenticated requests must carry (value `1`). Default `x-tessera-csrf`. */
  readonly csrfHeader: string;
  /** Serve `GET /metrics` (Prometheus text). Default true. */
  readonly metricsEnabled: boolean;
  /** Serve metrics on this port instead of the main one (e.g. internal only). Default 0: same port. */
  readonly metricsPort: number;
  /**
   * With `metricsPort` 0, serve `/metrics` on the main (public) port. Default true, except with
   * `NODE_ENV=production`, where it is false: set `metricsPort` (or this, with a warning).
   */
  readonly metricsPublic: boolean;
  /** Heartbeat interval of the `GET /auth/revocations` event stream, seconds. Default 5; 1 to 60. */
  readonly revocationHeartbeatSec: number;
  readonly argon2: Argon2Config;
  readonly cookie: CookieConfig;
  readonly rateLimit: RateLimitConfig;
  readonly lockout: LockoutConfig;
  /** `production` refuses insecure options and requires TESSERA_MASTER_KEY. From NODE_ENV. */
  readonly environment: 'production' | 'development' | 'test';
}

export type AuthServerConfigInput = Partial<
  Omit<AuthServerConfig, 'argon2' | 'cookie' | 'rateLimit' | 'lockout' | 'trustProxy'>
> & {
  /** Hops, or `true` for one proxy. */
  readonly trustProxy?: number | boolean;
  readonly argon2?: Partial<Argon2Config>;
  readonly cookie?: Partial<CookieConfig>;
  readonly rateLimit?: Partial<Omit<RateLimitConfig, 'enabled'>> & { readonly enabled?: boolean };
  readonly lockout?: Partial<LockoutConfig>;
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function defaults(environment: AuthServerConfig['environment']): AuthServerConfig {
  return {
    issuer: 'http://localhost:8080',
    host: '127.0.0.1',
    port: 8080,
    audience: ['tessera-api'],
    clientId: 'tessera-web',
    defaultScope: 'openid profile',
    accessTokenTtlSec: 600,
    refreshIdleTtlSec: 14 * 86_400,
    sessionMaxTtlSec: 30 * 86_400,
    refreshGraceSec: 10,
    refreshCacheEntries: 50_000,
    signingAlg: 'ES256',
    keyRotationIntervalSec: 30 * 86_400,
    jwksMaxAgeSec: 600,
    registrationOpen: environment !== 'production',
    databasePath: '.tessera/tessera.sqlite',
    masterKeyFile: '.tessera/master.key',
    trustProxy: 0,
    bodyLimitBytes: 16_384,
    logLevel: environment === 'test' ? 'silent' : 'info',
    argon2: { memoryCostKiB: 19_456, timeCost: 2, parallelism: 1 },
    cookie: { secure: true, path: '/auth', domain: null },
    allowedOrigins: [],
    csrfHeader: 'x-tessera-csrf',
    metricsEnabled: true,
    metricsPort: 0,
    metricsPublic: environment !== 'production',
    revocationHeartbeatSec: 5,
    rateLimit: {
      enabled: true,
      loginPerIp: { burst: 20, perMinute: 10 },
      loginPerAccount: { burst: 10, perMinute: 5 },
      registerPerIp: { burst: 10, perMinute: 2 },
      refreshPerIp: { burst: 120, perMinute: 60 },
      clientAuthFailuresPerIp: { burst: 20, perMinute: 10 },
    },
    lockout: {
      freeAttempts: 5,
      baseDelaySec: 1,
      maxDelaySec: 900,
      accountFreeAttempts: 20,
      accountMaxDelaySec: 30,
      windowSec: 86_400,
    },
    environment,
  };
}

function envName(path: string): string {
  // `argon2.memoryCostKiB` → `TESSERA_ARGON2_MEMORY_COST_KIB`: a unit suffix is one word.
  return `TESSERA_${path
    .replace(/KiB$/, 'Kib')
    .replace(/\./g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()}`;
}

/** Reads `TESSERA_*` overrides for every field, parsed by the type of the default. */
function fromEnv(base: AuthServerConfig, env: NodeJS.ProcessEnv): AuthServerConfigInput {
  const out: Record<string, unknown> = {};
  const walk = (obj: Record<string, unknown>, prefix: string, target: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(obj)) {
      if (key === 'environment') continue;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const nested: Record<string, unknown> = {};
        walk(value as Record<string, unknown>, path, nested);
        if (Object.keys(nested).length > 0) target[key] = nested;
        continue;
      }
      const raw = env[envName(path)];
      if (raw === undefined || raw === '') continue;
      if (typeof value === 'number') {
        const n = Number(raw);
        target[key] = /^-?\d+$/.test(raw.trim()) ? n : raw;
      } else if (typeof value === 'boolean') {
        target[key] = raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
      } else if (Array.isArray(value)) {
        target[key] = raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      } else {
        target[key] = raw;
      }
    }
  };
  walk(base as unknown as Record<string, unknown>, '', out);
  return out as AuthServerConfigInput;
}

function int(value: unknown, field: string, min: number, max: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`config.${field} (${envName(field)}) must be an integer from ${min} to ${max} ${unit}`);
  }
  return value;
}

function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`config.${field} (${envName(field)}) must be true or false`);
  return value;
}

function str(value: unknown, field: string, pattern?: RegExp, what?: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048 || (pattern && !pattern.test(value))) {
    throw new TypeError(`config.${field} (${envName(field)}) must be ${what ?? 'a non-empty string'}`);
  }
  return value;
}

function proxyHops(value: unknown): number {
  const hops =
    value === true ? 1 : value === false ? 0 : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return int(hops, 'trustProxy', 0, 10, 'proxy hops (true = 1)');
}

function rule(value: Partial<RateLimitRule>, field: string): RateLimitRule {
  return {
    burst: int(value.burst, `${field}.burst`, 1, 100_000, 'requests'),
    perMinute: int(value.perMinute, `${field}.perMinute`, 1, 1_000_000, 'requests per minute'),
  };
}

function checkOrigins(value: unknown): string[] {
  if (!Array.isArray(value))
    throw new TypeError('config.allowedOrigins (TESSERA_ALLOWED_ORIGINS) must be a list of origins');
  return value.map((origin, i) => {
    let url: URL | undefined;
    try {
      url = new URL(String(origin));
    } catch {
      url = undefined;
    }
    if (
      url === undefined ||
      !['http:', 'https:'].includes(url.protocol) ||
      url.origin !== origin ||
      url.hostname.includes('*')
    ) {
      throw new TypeError(
        `config.allowedOrigins[${i}] (TESSERA_ALLOWED_ORIGINS) must be an exact origin such as https://app.example.com (no path, no wildcard)`,
      );
    }
    return origin as string;
  });
}

export interface ResolveConfigResult {
  readonly config: AuthServerConfig;
  /** Loud warnings about insecure opt-outs (also logged at start). */
  readonly warnings: readonly string[];
}

/**
 * Merges defaults, environment and explicit input (explicit wins), validates, and applies the
 * production rules. Throws `TypeError` naming the field.
 */
export function resolveConfig(
  input: AuthServerConfigInput = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolveConfigResult {
  const nodeEnv = input.environment ?? env.NODE_ENV;
  const environment = nodeEnv === 'production' ? 'production' : nodeEnv === 'test' ? 'test' : 'development';
  const base = defaults(environment);
  const e = fromEnv(base, env);
  const merged = {
    ...base,
    ...e,
    ...input,
    argon2: { ...base.argon2, ...e.argon2, ...input.argon2 },
    cookie: { ...base.cookie, ...e.cookie, ...input.cookie },
    rateLimit: {
      enabled: input.rateLimit?.enabled ?? e.rateLimit?.enabled ?? base.rateLimit.enabled,
      loginPerIp: { ...base.rateLimit.loginPerIp, ...e.rateLimit?.loginPerIp, ...input.rateLimit?.loginPerIp },
      loginPerAccount: {
        ...base.rateLimit.loginPerAccount,
        ...e.rateLimit?.loginPerAccount,
        ...input.rateLimit?.loginPerAccount,
      },
      registerPerIp: {
        ...base.rateLimit.registerPerIp,
        ...e.rateLimit?.registerPerIp,
        ...input.rateLimit?.registerPerIp,
      },
      refreshPerIp: { ...base.rateLimit.refreshPerIp, ...e.rateLimit?.refreshPerIp, ...input.rateLimit?.refreshPerIp },
      clientAuthFailuresPerIp: {
        ...base.rateLimit.clientAuthFailuresPerIp,
        ...e.rateLimit?.clientAuthFailuresPerIp,
        ...input.rateLimit?.clientAuthFailuresPerIp,
      },
    },
    lockout: { ...base.lockout, ...e.lockout, ...input.lockout },
    environment,
  };

  let issuerUrl: URL;
  try {
    issuerUrl = new URL(str(merged.issuer, 'issuer'));
  } catch (cause) {
    throw new TypeError('config.issuer (TESSERA_ISSUER) must be an absolute http(s) URL', { cause });
  }
  if (!['http:', 'https:'].includes(issuerUrl.protocol) || issuerUrl.search !== '' || issuerUrl.hash !== '') {
    throw new TypeError('config.issuer (TESSERA_ISSUER) must be an http(s) URL without query or fragment');
  }
  if (!Array.isArray(merged.audience) || merged.audience.length === 0) {
    throw new TypeError('config.audience (TESSERA_AUDIENCE) must be a non-empty list');
  }
  const config: AuthServerConfig = {
    issuer: merged.issuer.replace(/\/$/, ''),
    host: str(merged.host, 'host'),
    port: int(merged.port, 'port', 0, 65_535, ''),
    audience: Object.freeze(merged.audience.map((a, i) => str(a, `audience[${i}]`))),
    clientId: str(merged.clientId, 'clientId', /^[\x21-\x7e]{1,128}$/, '1-128 printable ASCII characters'),
    defaultScope: str(
      merged.defaultScope,
      'defaultScope',
      /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/,
      'space-separated scope tokens (RFC 6749 3.3)',
    ),
    accessTokenTtlSec: int(merged.accessTokenTtlSec, 'accessTokenTtlSec', 60, 3600, 'seconds'),
    refreshIdleTtlSec: int(merged.refreshIdleTtlSec, 'refreshIdleTtlSec', 300, 31_536_000, 'seconds'),
    sessionMaxTtlSec: int(merged.sessionMaxTtlSec, 'sessionMaxTtlSec', 300, 31_536_000, 'seconds'),
    refreshGraceSec: int(merged.refreshGraceSec, 'refreshGraceSec', 0, 60, 'seconds'),
    refreshCacheEntries: int(merged.refreshCacheEntries, 'refreshCacheEntries', 0, 1_000_000, 'entries'),
    signingAlg: merged.signingAlg,
    keyRotationIntervalSec: int(merged.keyRotationIntervalSec, 'keyRotationIntervalSec', 3600, 31_536_000, 'seconds'),
    jwksMaxAgeSec: int(merged.jwksMaxAgeSec, 'jwksMaxAgeSec', 60, 86_400, 'seconds'),
    registrationOpen: bool(merged.registrationOpen, 'registrationOpen'),
    databasePath: str(merged.databasePath, 'databasePath'),
    masterKeyFile: str(merged.masterKeyFile, 'masterKeyFile'),
    trustProxy: proxyHops(merged.trustProxy),
    bodyLimitBytes: int(merged.bodyLimitBytes, 'bodyLimitBytes', 1024, 1_048_576, 'bytes'),
    logLevel: merged.logLevel,
    argon2: {
      memoryCostKiB: int(merged.argon2.memoryCostKiB, 'argon2.memoryCostKiB', 8192, 1_048_576, 'KiB'),
      timeCost: int(merged.argon2.timeCost, 'argon2.timeCost', 1, 10, 'iterations'),
      parallelism: int(merged.argon2.parallelism, 'argon2.parallelism', 1, 8, 'lanes'),
    },
    cookie: {
      secure: bool(merged.cookie.secure, 'cookie.secure'),
      path: str(merged.cookie.path, 'cookie.path', /^\/[A-Za-z0-9/_-]*$/, 'an absolute path'),
      domain:
        merged.cookie.domain === null || merged.cookie.domain === undefined
          ? null
          : str(merged.cookie.domain, 'cookie.domain', /^[a-z0-9.-]+$/, 'a host name'),
    },
    allowedOrigins: Object.freeze(checkOrigins(merged.allowedOrigins)),
    csrfHeader: str(
      merged.csrfHeader,
      'csrfHeader',
      /^x-[a-z0-9-]{1,62}$/,
      'a lower-case header name starting with x-',
    ),
    metricsEnabled: bool(merged.metricsEnabled, 'metricsEnabled'),
    metricsPort: int(merged.metricsPort, 'metricsPort', 0, 65_535, ''),
    metricsPublic: bool(merged.metricsPublic, 'metricsPublic'),
    revocationHeartbeatSec: int(merged.revocationHeartbeatSec, 'revocationHeartbeatSec', 1, 60, 'seconds'),
    rateLimit: {
      enabled: bool(merged.rateLimit.enabled, 'rateLimit.enabled'),
      loginPerIp: rule(merged.rateLimit.loginPerIp, 'rateLimit.loginPerIp'),
      loginPerAccount: rule(merged.rateLimit.loginPerAccount, 'rateLimit.loginPerAccount'),
      registerPerIp: rule(merged.rateLimit.registerPerIp, 'rateLimit.registerPerIp'),
      refreshPerIp: rule(merged.rateLimit.refreshPerIp, 'rateLimit.refreshPerIp'),
      clientAuthFailuresPerIp: rule(merged.rateLimit.clientAuthFailuresPerIp, 'rateLimit.clientAuthFailuresPerIp'),
    },
    lockout: {
      freeAttempts: int(merged.lockout.freeAttempts, 'lockout.freeAttempts', 1, 100, 'failures'),
      baseDelaySec: int(merged.lockout.baseDelaySec, 'lockout.baseDelaySec', 1, 60, 'seconds'),
      maxDelaySec: int(merged.lockout.maxDelaySec, 'lockout.maxDelaySec', 1, 86_400, 'seconds'),
      accountFreeAttempts: int(
        merged.lockout.accountFreeAttempts,
        'lockout.accountFreeAttempts',
        1,
        10_000,
        'failures',
      ),
      accountMaxDelaySec: int(merged.lockout.accountMaxDelaySec, 'lockout.accountMaxDelaySec', 1, 300, 'seconds'),
      windowSec: int(merged.lockout.windowSec, 'lockout.windowSec', 60, 604_800, 'seconds'),
    },
    environment,
  };
  if (!isAlgorithm(config.signingAlg) || config.signingAlg === 'HS256') {
    throw new TypeError('config.signingAlg (TESSERA_SIGNING_ALG) must be one of ES256, EdDSA, RS256, PS256');
  }
  if (!(LOG_LEVELS as readonly string[]).includes(config.logLevel)) {
    throw new TypeError(`config.logLevel (TESSERA_LOG_LEVEL) must be one of ${LOG_LEVELS.join(', ')}`);
  }
  if (config.sessionMaxTtlSec < config.refreshIdleTtlSec) {
    throw new TypeError('config.sessionMaxTtlSec must be at least config.refreshIdleTtlSec');
  }
  if (config.keyRotationIntervalSec < config.jwksMaxAgeSec * 2 + config.accessTokenTtlSec) {
    throw new TypeError('config.keyRotationIntervalSec must be at least 2 x jwksMaxAgeSec + accessTokenTtlSec');
  }
  if (!config.cookie.path.startsWith('/auth') && config.cookie.path !== '/') {
    throw new TypeError('config.cookie.path must cover /auth/refresh and /auth/logout (use /auth)');
  }

  const warnings: string[] = [];
  if (!config.cookie.secure) {
    if (environment === 'production') {
      throw new TypeError('config.cookie.secure=false is refused when NODE_ENV=production');
    }
    warnings.push(
      'INSECURE: refresh cookies are sent without Secure (cookie.secure=false). Use only for plain-http development; never in production.',
    );
  }
  if (environment === 'production' && config.metricsEnabled && config.metricsPort === 0 && config.metricsPublic) {
    warnings.push(
      'INSECURE: /metrics is served on the main port (metricsPublic=true) in production; anyone who reaches the auth server can read it. Prefer TESSERA_METRICS_PORT on an internal address.',
    );
  }
  if (environment === 'production' && issuerUrl.protocol !== 'https:') {
    throw new TypeError('config.issuer must be https when NODE_ENV=production');
  }
  return { config: Object.freeze(config), warnings };
}

export { envName as configEnvName };
