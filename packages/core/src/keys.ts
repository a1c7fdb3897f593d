/**
 * Keys: generation, import, export and lookup. A {@link TesseraKey} carries its `kid`, its one
 * `alg` and `use: "sig"`, and verifies only tokens of that algorithm; the algorithm is always
 * taken from the key, never from a token header (RFC 8725 section 3.1).
 */

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPair as generateKeyPairCallback,
  type JsonWebKey,
  KeyObject,
  randomBytes,
} from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPair = promisify(generateKeyPairCallback);

export const ALGORITHMS = Object.freeze(['ES256', 'EdDSA', 'RS256', 'PS256', 'HS256'] as const);
export type Algorithm = (typeof ALGORITHMS)[number];

/** Minimum HS256 secret length, in bytes (RFC 7518 section 3.2: at least the hash size). */
export const MIN_HS256_SECRET_BYTES = 32;
/** Minimum RSA modulus length, in bits. */
export const MIN_RSA_MODULUS_BITS = 2048;
/** Maximum `kid` length, in characters. */
export const MAX_KID_LENGTH = 128;

export interface PublicJwk extends JsonWebKey {
  kid: string;
  alg: Algorithm;
  use: 'sig';
}

export interface JwkSet {
  keys: PublicJwk[];
}

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && (ALGORITHMS as readonly string[]).includes(value);
}

/** A printable-ASCII identifier of bounded length: safe in logs, maps and headers. */
export function isValidKid(kid: unknown): kid is string {
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) return false;
  for (let i = 0; i < kid.length; i++) {
    const c = kid.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

export class TesseraKey {
  readonly kid: string;
  readonly alg: Algorithm;
  readonly use = 'sig' as const;
  /** The public key, or the secret for HS256. */
  readonly verifyKey: KeyObject;
  /** The private key or secret when this key can sign. */
  readonly signKey: KeyObject | undefined;
  /** `crypto.sign`/`crypto.verify` digest argument (null for Ed25519). */
  readonly digest: 'sha256' | null;
  /** Prebuilt `crypto.verify` key argument, built once so the hot path allocates nothing. */
  readonly verifyInput:
    | KeyObject
    | { key: KeyObject; dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number };
  /** Exact signature length in bytes for this key; anything else is rejected before crypto. */
  readonly signatureLength: number;
  readonly #headerSegments = new Map<string, string>();

  /** Use {@link importKey}, {@link importJwk} or {@link generateKey}; this does no validation. */
  private constructor(alg: Algorithm, kid: string, verifyKey: KeyObject, signKey: KeyObject | undefined) {
    this.alg = alg;
    this.kid = kid;
    this.verifyKey = verifyKey;
    this.signKey = signKey;
    this.digest = alg === 'EdDSA' ? null : 'sha256';
    this.verifyInput =
      alg === 'ES256'
        ? { key: verifyKey, dsaEncoding: 'ieee-p1363' }
        : alg === 'PS256'
          ? { key: verifyKey, padding: RSA_PKCS1_PSS_PADDING, saltLength: 32 }
          : verifyKey;
    this.signatureLength =
      alg === 'HS256'
        ? 32
        : alg === 'ES256' || alg === 'EdDSA'
          ? 64
          : Math.ceil((verifyKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    Object.freeze(this);
  }

  /** @internal */
  static create(alg: Algorithm, kid: string, verifyKey: KeyObject, signKey: KeyObject | undefined): TesseraKey {
    return new TesseraKey(alg, kid, verifyKey, signKey);
  }

  get canSign(): boolean {
    return this.signKey !== undefined;
  }

  get isSymmetric(): boolean {
    return this.alg === 'HS256';
  }

  /** The base64url JOSE header for tokens of the given `typ`, cached per key. */
  headerSegment(typ: string): string {
    let segment = this.#headerSegments.get(typ);
    if (segment === undefined) {
      segment = Buffer.from(JSON.stringify({ alg: this.alg, typ, kid: this.kid })).toString('base64url');
      if (this.#headerSegments.size < 16) this.#headerSegments.set(typ, segment);
    }
    return segment;
  }

  /** Never print key material. */
  toJSON(): { kid: string; alg: Algorithm; use: 'sig'; canSign: boolean } {
    return { kid: this.kid, alg: this.alg, use: this.use, canSign: this.canSign };
  }
}

const RSA_PKCS1_PSS_PADDING = 6; // crypto.constants.RSA_PKCS1_PSS_PADDING

export interface KeyOptions {
  /** Key id; defaults to the RFC 7638 JWK thumbprint (a random id for HS256 secrets). */
  readonly kid?: string;
}

export interface GenerateKeyOptions extends KeyOptions {
  /** RSA modulus length in bits (RS256/PS256 only). Default 2048, minimum 2048. */
  readonly modulusLength?: number;
}

/** Generates a new signing key for `alg`. RSA generation takes tens to hundreds of ms. */
export async function generateKey(alg: Algorithm, options: GenerateKeyOptions = {}): Promise<TesseraKey> {
  assertAlgorithm(alg, 'alg');
  if (alg === 'HS256') return importSecret(randomBytes(MIN_HS256_SECRET_BYTES), options);
  let pair: { publicKey: KeyObject; privateKey: KeyObject };
  if (alg === 'ES256') {
    pair = await generateKeyPair('ec', { namedCurve: 'P-256' });
  } else if (alg === 'EdDSA') {
    pair = await generateKeyPair('ed25519');
  } else {
    const modulusLength = options.modulusLength ?? MIN_RSA_MODULUS_BITS;
    if (!Number.isInteger(modulusLength) || modulusLength < MIN_RSA_MODULUS_BITS || modulusLength > 16384) {
      throw new TypeError(`modulusLength must be an integer from ${MIN_RSA_MODULUS_BITS} to 16384 bits`);
    }
    pair = await generateKeyPair('rsa', { modulusLength, publicExponent: 0x10001 });
  }
  return fromKeyObjects(alg, pair.publicKey, pair.privateKey, options.kid);
}

export interface ImportKeyOptions extends KeyOptions {
  /** The one algorithm this key is for. Required: never inferred from a token. */
  readonly alg: Algorithm;
}

/**
 * Imports a key from a PEM string (SPKI, PKCS#8, PKCS#1, SEC1), a Node `KeyObject`, or, for
 * HS256 only, raw secret bytes. A private key yields a key that can sign and verify.
 */
export function importKey(input: string | KeyObject | Uint8Array, options: ImportKeyOptions): TesseraKey {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  assertAlgorithm(options.alg, 'options.alg');
  if (options.alg === 'HS256') {
    if (input instanceof Uint8Array) return importSecret(input, options);
    if (isKeyObject(input) && input.type === 'secret') return importSecret(input.export(), options);
    throw new TypeError('HS256 keys must be raw secret bytes (a Uint8Array) of at least 32 bytes');
  }
  let key: KeyObject;
  if (isKeyObject(input)) key = input;
  else if (typeof input === 'string') {
    try {
      key = input.includes('PRIVATE KEY') ? createPrivateKey(input) : createPublicKey(input);
    } catch (cause) {
      throw new TypeError('key is not a valid PEM key', { cause });
    }
  } else throw new TypeError(`${options.alg} keys must be PEM strings or KeyObjects`);
  if (key.type === 'secret') throw new TypeError(`${options.alg} requires an asymmetric key, not a secret`);
  return key.type === 'private'
    ? fromKeyObjects(options.alg, createPublicKey(key), key, options.kid)
    : fromKeyObjects(options.alg, key, undefined, options.kid);
}

/**
 * Imports a JWK. `alg` comes from the JWK or the options and must agree when both are given;
 * EC P-256 and Ed25519 keys imply ES256 and EdDSA.
 */
export function importJwk(jwk: JsonWebKey, options: Partial<ImportKeyOptions> = {}): TesseraKey {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new TypeError('jwk must be an object');
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new TypeError('jwk.use must be "sig"');
  const alg = options.alg ?? (jwk.alg as Algorithm | undefined) ?? impliedAlg(jwk);
  if (alg === undefined) throw new TypeError('jwk.alg is required for this key type');
  assertAlgorithm(alg, 'jwk.alg');
  if (jwk.alg !== undefined && jwk.alg !== alg) throw new TypeError('jwk.alg does not match options.alg');
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops) || !jwk.key_ops.every((op) => op === 'sign' || op === 'verify')) {
      throw new TypeError('jwk.key_ops may only contain "sign" and "verify"');
    }
  }
  const kid = options.kid ?? (typeof jwk.kid === 'string' ? jwk.kid : undefined);
  if (alg === 'HS256') {
    if (jwk.kty !== 'oct' || typeof jwk.k !== 'string') throw new TypeError('HS256 requires an "oct" JWK with "k"');
    return importSecret(Buffer.from(jwk.k, 'base64url'), { kid });
  }
  const material = stripJwkMetadata(jwk);
  let key: KeyObject;
  try {
    key =
      typeof jwk.d === 'string'
        ? createPrivateKey({ key: material, format: 'jwk' })
        : createPublicKey({ key: material, format: 'jwk' });
  } catch (cause) {
    throw new TypeError('jwk is not a valid key', { cause });
  }
  return key.type === 'private'
    ? fromKeyObjects(alg, createPublicKey(key), key, kid)
    : fromKeyObjects(alg, key, undefined, kid);
}

function impliedAlg(jwk: JsonWebKey): Algorithm | undefined {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

function stripJwkMetadata(jwk: JsonWebKey): JsonWebKey {
  const {
    kid: _kid,
    alg: _alg,
    use: _use,
    key_ops: _ops,
    ext: _ext,
    ...material
  } = jwk as JsonWebKey & {
    kid?: unknown;
  };
  return material;
}

function importSecret(secret: Uint8Array, options: KeyOptions): TesseraKey {
  if (secret.byteLength < MIN_HS256_SECRET_BYTES) {
    throw new TypeError(`HS256 secrets must be at least ${MIN_HS256_SECRET_BYTES} random bytes`);
  }
  const key = createSecretKey(Buffer.from(secret));
  const kid = options.kid ?? randomBytes(12).toString('base64url');
  assertKid(kid);
  return TesseraKey.create('HS256', kid, key, key);
}

function fromKeyObjects(
  alg: Algorithm,
  publicKey: KeyObject,
  privateKey: KeyObject | undefined,
  kid: string | undefined,
): TesseraKey {
  assertKeyFitsAlg(alg, publicKey);
  const id = kid ?? computeJwkThumbprint(publicKey);
  assertKid(id);
  return TesseraKey.create(alg, id, publicKey, privateKey);
}

function assertKeyFitsAlg(alg: Algorithm, key: KeyObject): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (alg === 'ES256') {
    if (type !== 'ec' || details.namedCurve !== 'prime256v1') throw new TypeError('ES256 requires a P-256 EC key');
  } else if (alg === 'EdDSA') {
    if (type !== 'ed25519') throw new TypeError('EdDSA requires an Ed25519 key');
  } else if (alg === 'RS256' || alg === 'PS256') {
    if (type !== 'rsa') throw new TypeError(`${alg} requires an RSA key`);
    if ((details.modulusLength ?? 0) < MIN_RSA_MODULUS_BITS) {
      throw new TypeError(`${alg} requires an RSA modulus of at least ${MIN_RSA_MODULUS_BITS} bits`);
    }
  }
}

function assertAlgorithm(alg: unknown, field: string): asserts alg is Algorithm {
  if (!isAlgorithm(alg)) throw new TypeError(`${field} must be one of ${ALGORITHMS.join(', ')}`);
}

function assertKid(kid: string): void {
  if (!isValidKid(kid)) throw new TypeError(`kid must be 1-${MAX_KID_LENGTH} printable ASCII characters`);
}

function isKeyObject(value: unknown): value is KeyObject {
  return value instanceof KeyObject;
}

/** RFC 7638 JWK SHA-256 thumbprint of a public key, base64url. */
export function computeJwkThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  let members: Record<string, unknown>;
  if (jwk.kty === 'EC') members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  else if (jwk.kty === 'OKP') members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  else if (jwk.kty === 'RSA') members = { e: jwk.e, kty: jwk.kty, n: jwk.n };
  else throw new TypeError('unsupported key type for a thumbprint');
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** The public JWK of a key, with `kid`, `alg` and `use`. HS256 secrets are never exported here. */
export function exportPublicJwk(key: TesseraKey): PublicJwk {
  if (key.isSymmetric) throw new TypeError('HS256 keys are secret and have no public JWK');
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = key.verifyKey.export({ format: 'jwk' });
  return { ...pub, kid: key.kid, alg: key.alg, use: 'sig' };
}

/** The private JWK of a key (secret material: store it encrypted, never log it). */
export function exportPrivateJwk(key: TesseraKey): JsonWebKey & { kid: string; alg: Algorithm; use: 'sig' } {
  if (key.signKey === undefined) throw new TypeError('this key has no private part');
  return { ...key.signKey.export({ format: 'jwk' }), kid: key.kid, alg: key.alg, use: 'sig' };
}

/** A JWKS document (RFC 7517 section 5) of the public keys. Refuses HS256 secrets. */
export function createJwks(keys: Iterable<TesseraKey>): JwkSet {
  return { keys: [...keys].map(exportPublicJwk) };
}

/** Keys indexed by `kid`, the lookup the verifier uses. Immutable: build a new one to change it. */
export class KeySet {
  readonly #byKid = new Map<string, TesseraKey>();
  readonly keys: readonly TesseraKey[];

  constructor(keys: Iterable<TesseraKey>) {
    const list: TesseraKey[] = [];
    for (const key of keys) {
      if (!(key instanceof TesseraKey)) throw new TypeError('KeySet accepts TesseraKey values only');
      if (this.#byKid.has(key.kid)) throw new TypeError(`duplicate kid in key set: ${key.kid}`);
      this.#byKid.set(key.kid, key);
      list.push(key);
    }
    this.keys = Object.freeze(list);
  }

  get size(): number {
    return this.keys.length;
  }

  get(kid: string): TesseraKey | undefined {
    return this.#byKid.get(kid);
  }

  /** The single key of `alg` when a token has no `kid`; undefined when zero or several match. */
  onlyKeyFor(alg: string): TesseraKey | undefined {
    let found: TesseraKey | undefined;
    for (const key of this.keys) {
      if (key.alg === alg) {
        if (found !== undefined) return undefined;
        found = key;
      }
    }
    return found;
  }
}

export function createKeySet(keys: Iterable<TesseraKey>): KeySet {
  return new KeySet(keys);
}

export interface ImportJwksResult {
  readonly keySet: KeySet;
  /** Keys that were skipped (unsupported type, `use: "enc"`, weak, duplicate), with why. */
  readonly skipped: readonly { kid: string | undefined; reason: string }[];
}

/** Imports a JWKS document, skipping (and reporting) keys Tessera will not use. */
export function importJwks(jwks: unknown): ImportJwksResult {
  if (jwks === null || typeof jwks !== 'object' || !Array.isArray((jwks as JwkSet).keys)) {
    throw new TypeError('jwks must be an object with a "keys" array');
  }
  const keys = new Map<string, TesseraKey>();
  const skipped: { kid: string | undefined; reason: string }[] = [];
  for (const jwk of (jwks as JwkSet).keys as unknown[]) {
    const kid = typeof (jwk as JsonWebKey)?.kid === 'string' ? ((jwk as JsonWebKey).kid as string) : undefined;
    try {
      if (typeof (jwk as JsonWebKey)?.d === 'string' || (jwk as JsonWebKey)?.kty === 'oct') {
        throw new TypeError('a JWKS must not contain private or secret keys');
      }
      const key = importJwk(jwk as JsonWebKey);
      if (keys.has(key.kid)) throw new TypeError('duplicate kid');
      keys.set(key.kid, key);
    } catch (error) {
      skipped.push({ kid, reason: error instanceof Error ? error.message : 'invalid key' });
    }
  }
  return { keySet: new KeySet(keys.values()), skipped };
}
