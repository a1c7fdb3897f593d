/**
 * The scale-out switches: `TESSERA_DATABASE_URL` moves the durable store to PostgreSQL and
 * `TESSERA_REDIS_URL` the ephemeral store to Redis. Either, both or neither may be set; what is
 * not set stays on the embedded SQLite file. Both are validated before anything is opened, with
 * a message that names the variable and never echoes a password.
 */

export interface ServiceUrls {
  /** `postgres://` or `postgresql://` URL of the durable store, when set. */
  readonly databaseUrl?: string;
  /** `redis://` or `rediss://` URL of the ephemeral store, when set. */
  readonly redisUrl?: string;
}

const DATABASE_SCHEMES = ['postgres:', 'postgresql:'];
const REDIS_SCHEMES = ['redis:', 'rediss:'];
/** PostgreSQL schema names Tessera accepts: a plain lower-case identifier. */
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws a `TypeError` naming `variable` unless `raw` is an absolute URL with one of `schemes` and a host. */
function checkUrl(variable: string, raw: string, schemes: readonly string[], example: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || !schemes.includes(url.protocol)) {
    throw new TypeError(`${variable} must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL such as ${example}`);
  }
  if (url.hostname === '') {
    throw new TypeError(`${variable} must name a host, as in ${example}`);
  }
  if (url.hash !== '') throw new TypeError(`${variable} must not have a #fragment`);
  return raw;
}

/**
 * Reads and validates `TESSERA_DATABASE_URL` and `TESSERA_REDIS_URL` (empty counts as unset).
 * Throws `TypeError` naming the variable.
 */
export function readServiceUrls(env: Readonly<Record<string, string | undefined>>): ServiceUrls {
  const database = env.TESSERA_DATABASE_URL?.trim() ?? '';
  const redis = env.TESSERA_REDIS_URL?.trim() ?? '';
  return {
    ...(database === ''
      ? {}
      : {
          databaseUrl: checkUrl(
            'TESSERA_DATABASE_URL',
            database,
            DATABASE_SCHEMES,
            'postgres://tessera:secret@db.internal:5432/tessera',
          ),
        }),
    ...(redis === ''
      ? {}
      : { redisUrl: checkUrl('TESSERA_REDIS_URL', redis, REDIS_SCHEMES, 'redis://cache.internal:6379/0') }),
  };
}

/**
 * The PostgreSQL schema Tessera's tables live in: `TESSERA_DATABASE_SCHEMA`, default `tessera`.
 * Throws `TypeError` naming the variable for anything but a plain lower-case identifier.
 */
export function readDatabaseSchema(env: Readonly<Record<string, string | undefined>>): string {
  const raw = env.TESSERA_DATABASE_SCHEMA?.trim() ?? '';
  if (raw === '') return 'tessera';
  if (!SCHEMA_PATTERN.test(raw)) {
    throw new TypeError(
      'TESSERA_DATABASE_SCHEMA must be a lower-case identifier (a-z, 0-9, _; at most 63 characters, not starting with a digit)',
    );
  }
  return raw;
}

/**
 * The prefix of every Redis key Tessera writes: `TESSERA_REDIS_KEY_PREFIX`, default `tessera:`.
 * Throws `TypeError` naming the variable unless it is 1-64 letters, digits and `:_-.` (safe inside
 * a SCAN pattern and as the revocation channel's name).
 */
export function readRedisKeyPrefix(env: Readonly<Record<string, string | undefined>>): string {
  const raw = env.TESSERA_REDIS_KEY_PREFIX ?? '';
  if (raw === '') return 'tessera:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(raw)) {
    throw new TypeError('TESSERA_REDIS_KEY_PREFIX must be 1-64 letters, digits or the characters : _ - .');
  }
  return raw;
}

/** `postgres://user:***@host/db`: a URL fit for a log line (the password replaced). */
export function redactUrl(raw: string): string {
  const url = new URL(raw);
  if (url.password !== '') url.password = '***';
  return url.toString();
}
