/** @tessera/core: keys and JWKS, strict parsing, sign, verify, the verified-token cache, errors. */

export { decodeBase64urlStrict, encodeBase64url } from './base64url.js';
export type { BearerChallengeParams } from './bearer.js';
export { formatBearerChallenge, quoteChallengeValue, readBearerToken } from './bearer.js';
export type { DecodedToken } from './decode-token.js';
export { decodeToken, inspectClaims } from './decode-token.js';
export type { AuthErrorOptions, ErrorCode, ErrorSpec } from './errors.js';
export { AuthError, ERROR_CODES, ERROR_TABLE, isAuthError } from './errors.js';
export type {
  Algorithm,
  GenerateKeyOptions,
  ImportJwksResult,
  ImportKeyOptions,
  JwkSet,
  KeyOptions,
  PublicJwk,
} from './keys.js';
export {
  ALGORITHMS,
  computeJwkThumbprint,
  createJwks,
  createKeySet,
  exportPrivateJwk,
  exportPublicJwk,
  generateKey,
  importJwk,
  importJwks,
  importKey,
  isAlgorithm,
  isValidKid,
  KeySet,
  MAX_KID_LENGTH,
  MIN_HS256_SECRET_BYTES,
  MIN_RSA_MODULUS_BITS,
  TesseraKey,
} from './keys.js';
export { takeRandomBytes } from './random.js';
export type { AccessTokenInput, AccessTokenSigner, SignedAccessToken, SignOptions } from './sign-access-token.js';
export {
  createAccessTokenSigner,
  createTokenId,
  isSensitiveClaimName,
  signAccessToken,
  signAccessTokenAsync,
} from './sign-access-token.js';
export { checkSignature, checkSignatureAsync, createSignature, createSignatureAsync } from './signature.js';
export type { Clock } from './time.js';
export { createManualClock, isNumericDate, systemClock } from './time.js';
export type { JwtHeader, ParsedToken, ParseLimits } from './token-parser.js';
export {
  ALLOWED_HEADER_PARAMS,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_TOKEN_BYTES,
  parseToken,
} from './token-parser.js';
export type { CachedClaims, VerifiedTokenCacheOptions } from './verified-token-cache.js';
export { VerifiedTokenCache } from './verified-token-cache.js';
export type {
  AccessTokenClaims,
  AccessTokenVerifier,
  AsyncKeyResolver,
  KeyResolver,
  VerifyOptions,
} from './verify-access-token.js';
export { createAccessTokenVerifier, verifyAccessToken } from './verify-access-token.js';
