/**
 * Decoding without verification, for tools (the CLI's `decode`, the browser decoder). The
 * structure is parsed as strictly as for verification, but unknown header members and
 * `alg: none` are reported as warnings instead of errors so the tool can show them.
 * Decoding is not verifying: nothing returned here may be trusted.
 */

import { isSensitiveClaimName } from './sign-access-token.js';
import { isNumericDate } from './time.js';
import { DEFAULT_MAX_JSON_DEPTH, type JwtHeader, parseToken } from './token-parser.js';

export interface DecodedToken {
  readonly header: JwtHeader;
  readonly payload: Record<string, unknown>;
  readonly signatureBytes: number;
  readonly warnings: readonly string[];
}

/** Decodes a token of up to 64 KiB. Throws `AuthError` when it is not a well-formed JWS. */
export function decodeToken(token: unknown, nowSec: number = Math.floor(Date.now() / 1000)): DecodedToken {
  const parsed = parseToken(token, { maxTokenBytes: 65_536, maxJsonDepth: DEFAULT_MAX_JSON_DEPTH * 4 }, 'inspect');
  return {
    header: parsed.header,
    payload: parsed.payload,
    signatureBytes: parsed.signature.length,
    warnings: inspectClaims(parsed.header, parsed.payload, nowSec),
  };
}

/** Human warnings about a token's header and claims. */
export function inspectClaims(header: JwtHeader, payload: Record<string, unknown>, nowSec: number): string[] {
  const warnings: string[] = [];
  if (header.alg.toLowerCase() === 'none')
    warnings.push('alg "none": this token is unsigned and must never be accepted');
  for (const name of ['jku', 'x5u', 'jwk', 'x5c']) {
    if (name in header)
      warnings.push(`header "${name}" present: a verifier must never fetch or trust keys named by a token`);
  }
  if (header.alg.startsWith('HS'))
    warnings.push('symmetric algorithm: anyone who can verify this token can also mint one');
  const { exp, iat, nbf } = payload;
  if (exp === undefined) warnings.push('no "exp": this token never expires');
  else if (!isNumericDate(exp)) warnings.push('"exp" is not a whole number of seconds');
  else if (exp <= nowSec) warnings.push('expired');
  if (iat !== undefined && !isNumericDate(iat)) warnings.push('"iat" is not a whole number of seconds');
  if (nbf !== undefined && !isNumericDate(nbf)) warnings.push('"nbf" is not a whole number of seconds');
  if (isNumericDate(exp) && isNumericDate(iat) && exp - iat > 3600) {
    warnings.push(`long lifetime: ${Math.round((exp - iat) / 60)} minutes (access tokens should live 5-15 minutes)`);
  }
  const sensitive = Object.keys(payload).filter(isSensitiveClaimName);
  if (sensitive.length > 0)
    warnings.push(`sensitive-looking claims: ${sensitive.join(', ')} (JWT payloads are readable by anyone)`);
  return warnings;
}
