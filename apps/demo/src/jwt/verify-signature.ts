/**
 * Checks a decoded token's signature with WebCrypto against a pasted JWKS (or one JWK) or an
 * HMAC secret: ES256/384/512, RS256/384/512, PS256/384/512, EdDSA (Ed25519, where the runtime
 * supports it) and HS256/384/512. The header's `alg` only picks among keys of the matching
 * type (an RSA or EC key is never used as an HMAC secret); `alg: none` is never valid. Whether
 * the pasted text is keys or a shared secret is the user's explicit choice ({@link KeyKind}),
 * never a guess, and anything that looks like a key (PEM, base64 DER, an OpenSSH key, JSON) is
 * refused as a secret: an issuer's public key is public, so an HS256 token "signed" with it
 * proves nothing. Never throws: every outcome is a {@link SignatureResult}.
 */

import type { DecodedJwt, JsonObject } from './decode-jwt.js';

export type SignatureStatus =
  /** A key verified the signature. */
  | 'valid'
  /** A matching key was tried and the signature does not verify (tampered, or signed by another key). */
  | 'invalid'
  /** `alg: none` or no signature: there is nothing to verify. */
  | 'unsigned'
  /** No key in the set fits the header (`kid`, key type, `alg`). */
  | 'no-key'
  /** The algorithm is not supported here. */
  | 'unsupported'
  /** The key input could not be read. */
  | 'bad-key-input';

export interface SignatureResult {
  readonly status: SignatureStatus;
  readonly message: string;
  /** The `kid` of the key that verified it. */
  readonly kid?: string;
}

export type Jwk = JsonObject & { readonly kty?: unknown; readonly kid?: unknown; readonly alg?: unknown };

/** What the pasted text is, as the user chose it: public keys (a JWKS or one JWK) or an HMAC shared secret. */
export type KeyKind = 'jwks' | 'secret';

export type KeyInput =
  | { readonly kind: 'jwks'; readonly keys: readonly Jwk[]; readonly hadPrivateParts: boolean }
  | { readonly kind: 'secret'; readonly secret: Uint8Array };

interface AlgorithmSpec {
  readonly kty: 'EC' | 'RSA' | 'OKP' | 'oct';
  readonly hash?: 'SHA-256' | 'SHA-384' | 'SHA-512';
  readonly curve?: 'P-256' | 'P-384' | 'P-521' | 'Ed25519';
  readonly kind: 'ecdsa' | 'pkcs1' | 'pss' | 'eddsa' | 'hmac';
  /** Bytes of a raw ECDSA signature (r || s). */
  readonly signatureBytes?: number;
}

const ALGORITHMS: Readonly<Record<string, AlgorithmSpec>> = {
  ES256: { kty: 'EC', hash: 'SHA-256', curve: 'P-256', kind: 'ecdsa', signatureBytes: 64 },
  ES384: { kty: 'EC', hash: 'SHA-384', curve: 'P-384', kind: 'ecdsa', signatureBytes: 96 },
  ES512: { kty: 'EC', hash: 'SHA-512', curve: 'P-521', kind: 'ecdsa', signatureBytes: 132 },
  RS256: { kty: 'RSA', hash: 'SHA-256', kind: 'pkcs1' },
  RS384: { kty: 'RSA', hash: 'SHA-384', kind: 'pkcs1' },
  RS512: { kty: 'RSA', hash: 'SHA-512', kind: 'pkcs1' },
  PS256: { kty: 'RSA', hash: 'SHA-256', kind: 'pss' },
  PS384: { kty: 'RSA', hash: 'SHA-384', kind: 'pss' },
  PS512: { kty: 'RSA', hash: 'SHA-512', kind: 'pss' },
  EdDSA: { kty: 'OKP', curve: 'Ed25519', kind: 'eddsa' },
  Ed25519: { kty: 'OKP', curve: 'Ed25519', kind: 'eddsa' },
  HS256: { kty: 'oct', hash: 'SHA-256', kind: 'hmac' },
  HS384: { kty: 'oct', hash: 'SHA-384', kind: 'hmac' },
  HS512: { kty: 'oct', hash: 'SHA-512', kind: 'hmac' },
};

export const SUPPORTED_ALGORITHMS: readonly string[] = Object.keys(ALGORITHMS);

/** Members of a JWK that are private key material; stripped before import. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['kty', 'crv', 'x', 'y'],
  RSA: ['kty', 'n', 'e'],
  OKP: ['kty', 'crv', 'x'],
};

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The length a DER SEQUENCE says it has (tag, length octets, contents), or undefined when `bytes` is not one. */
function derSequenceLength(bytes: Uint8Array): number | undefined {
  if (bytes.length < 2 || bytes[0] !== 0x30) return undefined;
  const first = bytes[1] as number;
  if (first < 0x80) return 2 + first;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 3 || bytes.length < 2 + octets) return undefined;
  let length = 0;
  for (let i = 0; i < octets; i += 1) length = length * 256 + (bytes[2 + i] as number);
  return 2 + octets + length;
}

function decodeBase64(text: string): Uint8Array | undefined {
  const standard = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (standard.length % 4 === 1) return undefined;
  try {
    const binary = atob(standard + '='.repeat((4 - (standard.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * What kind of key `text` looks like (`'a PEM key'`, ...), or undefined when it does not look like
 * one. Such text must never be used as an HMAC secret: public keys are public.
 */
export function describeKeyLike(text: string): string | undefined {
  const trimmed = text.trim();
  if (/-----BEGIN [A-Z0-9 ]*-----/.test(trimmed)) return 'a PEM key';
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return 'JSON (a JWK or JWKS)';
  if (/^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-|sk-(ssh|ecdsa)-)\S* [A-Za-z0-9+/=]{16,}/.test(trimmed))
    return 'an OpenSSH key';
  const compact = trimmed.replace(/\s+/g, '');
  if (compact.length >= 24 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
    const bytes = decodeBase64(compact);
    if (bytes !== undefined && derSequenceLength(bytes) === bytes.length) return 'a base64 DER key (SPKI/PKCS#8)';
  }
  return undefined;
}

function refuseKeyAsSecret(what: string): string {
  return `This is ${what}, not a shared secret: a key is never used as an HMAC secret (its public half is public, so anyone could sign with it). Choose "Public keys" and paste it as a JWK or JWKS, e.g. this server's /.well-known/jwks.json.`;
}

/**
 * Reads what was pasted as the user said it is: `'jwks'` (default), a JWKS (`{"keys": [...]}`)
 * or a single JWK; `'secret'`, an HMAC secret (its UTF-8 bytes), refused when it looks like a
 * key ({@link describeKeyLike}). `{ error }` with a message a person can act on otherwise.
 */
export function parseKeyInput(text: string, kind: KeyKind = 'jwks'): KeyInput | { readonly error: string } {
  const trimmed = text.trim();
  if (kind === 'secret') {
    if (trimmed === '') return { error: 'Paste the shared secret (HS256/384/512) first.' };
    const keyLike = describeKeyLike(text);
    if (keyLike !== undefined) return { error: refuseKeyAsSecret(keyLike) };
    return { kind: 'secret', secret: new TextEncoder().encode(text) };
  }
  if (trimmed === '') return { error: 'Paste a JWKS or a JWK first.' };
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) {
    const keyLike = describeKeyLike(text);
    return {
      error:
        keyLike !== undefined
          ? `This is ${keyLike}: paste the key as a JWK or JWKS (JSON with "kty"), e.g. this server's /.well-known/jwks.json.`
          : 'Expected a JWKS ({"keys": [...]}) or a single JWK. For an HMAC shared secret, choose "Shared secret (HS256)".',
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    return { error: `The key input is not valid JSON (${error instanceof Error ? error.message : String(error)}).` };
  }
  const list =
    isObject(value) && Array.isArray(value.keys) ? value.keys : isObject(value) && 'kty' in value ? [value] : undefined;
  if (list === undefined) return { error: 'Expected a JWKS ({"keys": [...]}) or a single JWK (with "kty").' };
  const keys = list.filter(isObject) as Jwk[];
  if (keys.length === 0) return { error: 'The JWKS has no keys.' };
  const hadPrivateParts = keys.some((key) => key.kty !== 'oct' && PRIVATE_MEMBERS.some((member) => member in key));
  return { kind: 'jwks', keys, hadPrivateParts };
}

function importParams(spec: AlgorithmSpec): AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams {
  switch (spec.kind) {
    case 'ecdsa':
      return { name: 'ECDSA', namedCurve: spec.curve as string };
    case 'pkcs1':
      return { name: 'RSASSA-PKCS1-v1_5', hash: spec.hash as string };
    case 'pss':
      return { name: 'RSA-PSS', hash: spec.hash as string };
    case 'eddsa':
      return { name: 'Ed25519' };
    case 'hmac':
      return { name: 'HMAC', hash: spec.hash as string } as AlgorithmIdentifier;
  }
}

function verifyParams(spec: AlgorithmSpec): AlgorithmIdentifier | EcdsaParams | RsaPssParams {
  switch (spec.kind) {
    case 'ecdsa':
      return { name: 'ECDSA', hash: spec.hash as string };
    case 'pss':
      return { name: 'RSA-PSS', saltLength: spec.hash === 'SHA-256' ? 32 : spec.hash === 'SHA-384' ? 48 : 64 };
    case 'pkcs1':
      return { name: 'RSASSA-PKCS1-v1_5' };
    case 'eddsa':
      return { name: 'Ed25519' };
    case 'hmac':
      return { name: 'HMAC' };
  }
}

/** The key's public members only, so a pasted private JWK is never imported as one. */
function publicJwk(key: Jwk): JsonWebKey {
  const members = PUBLIC_MEMBERS[key.kty as string] ?? [];
  const out: Record<string, unknown> = {};
  for (const member of members) if (member in key) out[member] = key[member];
  return out as JsonWebKey;
}

/** Keys that could have made this signature: right type and curve, `alg` and `use` compatible, `kid` equal when the token names one. */
export function candidateKeys(keys: readonly Jwk[], alg: string, kid: unknown): Jwk[] {
  const spec = ALGORITHMS[alg];
  if (spec === undefined) return [];
  return keys.filter((key) => {
    if (key.kty !== spec.kty) return false;
    if (spec.curve !== undefined && key.crv !== spec.curve) return false;
    if (key.alg !== undefined && key.alg !== alg && !(alg === 'Ed25519' && key.alg === 'EdDSA')) return false;
    if (key.use !== undefined && key.use !== 'sig') return false;
    if (typeof kid === 'string' && kid !== '' && key.kid !== undefined && key.kid !== kid) return false;
    return true;
  });
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Verifies `token` with the pasted keys; resolves, never rejects. */
export async function verifySignature(token: DecodedJwt, input: KeyInput): Promise<SignatureResult> {
  const { alg, kid } = token.header;
  if (typeof alg !== 'string' || alg.trim().toLowerCase() === 'none') {
    return { status: 'unsigned', message: 'alg is none (or missing): the token is unsigned and never valid.' };
  }
  if (token.signature.length === 0) return { status: 'unsigned', message: 'The token has no signature.' };
  const spec = ALGORITHMS[alg];
  if (spec === undefined) {
    return { status: 'unsupported', message: `alg ${alg} is not supported (${SUPPORTED_ALGORITHMS.join(', ')}).` };
  }
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) {
    return { status: 'unsupported', message: 'This browser has no WebCrypto here (a secure context is needed).' };
  }
  if (spec.signatureBytes !== undefined && token.signature.length !== spec.signatureBytes) {
    return {
      status: 'invalid',
      message: `An ${alg} signature is ${spec.signatureBytes} bytes (r || s); this one is ${token.signature.length}.`,
    };
  }

  if (input.kind === 'secret') {
    if (spec.kind !== 'hmac') {
      return {
        status: 'no-key',
        message: `The token is signed with ${alg}, a public-key algorithm: paste the JWKS, not a secret.`,
      };
    }
    // Also here, for a KeyInput built without parseKeyInput: never a key as a secret.
    const keyLike = describeKeyLike(new TextDecoder().decode(input.secret));
    if (keyLike !== undefined) return { status: 'bad-key-input', message: refuseKeyAsSecret(keyLike) };
    try {
      const key = await subtle.importKey('raw', input.secret as BufferSource, importParams(spec), false, ['verify']);
      const ok = await subtle.verify(
        verifyParams(spec),
        key,
        token.signature as BufferSource,
        token.signingInput as BufferSource,
      );
      return ok
        ? { status: 'valid', message: `Signature verified with the ${alg} secret.` }
        : {
            status: 'invalid',
            message: 'The signature does not match this secret: the token was altered or the secret is wrong.',
          };
    } catch (error) {
      return { status: 'bad-key-input', message: `The secret could not be used: ${describeError(error)}.` };
    }
  }

  const candidates = candidateKeys(input.keys, alg, kid).filter(
    (key) => spec.kind !== 'hmac' || typeof key.k === 'string',
  );
  if (candidates.length === 0) {
    if (spec.kind === 'hmac') {
      return {
        status: 'no-key',
        message: `The token is signed with ${alg}: choose "Shared secret (HS256)" and paste the secret (or paste an "oct" JWK here).`,
      };
    }
    const named = typeof kid === 'string' && kid !== '' ? ` with kid "${kid}"` : '';
    return { status: 'no-key', message: `No ${spec.kty} key for ${alg}${named} in this JWKS.` };
  }
  const failures: string[] = [];
  let tried = 0;
  for (const jwk of candidates) {
    let key: CryptoKey;
    try {
      const material = spec.kind === 'hmac' ? ({ kty: 'oct', k: jwk.k } as JsonWebKey) : publicJwk(jwk);
      key = await subtle.importKey('jwk', material, importParams(spec), false, ['verify']);
    } catch (error) {
      failures.push(`${typeof jwk.kid === 'string' ? jwk.kid : 'a key'}: ${describeError(error)}`);
      continue;
    }
    tried += 1;
    try {
      if (
        await subtle.verify(
          verifyParams(spec),
          key,
          token.signature as BufferSource,
          token.signingInput as BufferSource,
        )
      ) {
        const keyId = typeof jwk.kid === 'string' ? jwk.kid : undefined;
        return {
          status: 'valid',
          message: `Signature verified (${alg}${keyId === undefined ? '' : `, key ${keyId}`}).`,
          ...(keyId === undefined ? {} : { kid: keyId }),
        };
      }
    } catch (error) {
      failures.push(describeError(error));
    }
  }
  if (tried === 0) {
    const unsupported = spec.kind === 'eddsa' ? ' (this browser may not support Ed25519 in WebCrypto)' : '';
    return { status: 'unsupported', message: `The key could not be imported${unsupported}: ${failures.join('; ')}` };
  }
  return {
    status: 'invalid',
    message: `The signature does not verify with ${tried === 1 ? 'the matching key' : `any of the ${tried} matching keys`}: the token was altered or signed by another key.`,
  };
}
