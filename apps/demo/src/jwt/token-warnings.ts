/**
 * What is risky or wrong about a decoded token, each with a stable code: unsigned (`alg: none`
 * in any casing), no `exp`, a lifetime over an hour, no `kid`, personal or secret-looking
 * claims, and time claims that are not NumericDates.
 */

import type { JsonObject } from './decode-jwt.js';
import { showJson } from './show-json.js';
import { formatDuration, isNumericDate, TIME_CLAIMS } from './token-times.js';

export type WarningCode =
  | 'alg-none'
  | 'alg-missing'
  | 'exp-missing'
  | 'lifetime-long'
  | 'kid-missing'
  | 'sensitive-claim'
  | 'time-invalid'
  | 'header-jwk'
  | 'header-jku';

export interface TokenWarning {
  readonly code: WarningCode;
  /** `danger`: the token must not be trusted as it is; `caution`: a bad practice. */
  readonly severity: 'danger' | 'caution';
  readonly message: string;
}

/** Lifetimes above this (`exp - iat`, or `exp - now` without `iat`) are flagged, seconds. */
export const LONG_LIFETIME_SEC = 3_600;

/**
 * Claim names (compared without case, `_` and `-`) that suggest personal data or secrets. A
 * JWT's payload is readable by anyone holding it: such claims leak through logs and browsers.
 */
const SENSITIVE_PATTERNS: readonly RegExp[] = [
  /e?mail/,
  /^(given|family|middle|nick|full|first|last|user)?name$/,
  /phone|mobile|^tel$/,
  /address|street|postal|zip(code)?$/,
  /passw(or)?d|^pwd$|passphrase/,
  /secret/,
  /ssn|socialsecurity|nationalid|passport|taxid/,
  /card|^pan$|cvv|cvc|iban|accountnumber/,
  /birth(date|day)?|^dob$/,
  /^(private|api)?key$|apikey|privatekey/,
  /^(access|refresh|id)?token$/,
  /^ip(address)?$|^location$|^gps$/,
];

function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/** The names of top-level claims (and claims nested one level in objects) that look sensitive. */
export function findSensitiveClaims(claims: JsonObject): string[] {
  const found: string[] = [];
  const visit = (object: JsonObject, prefix: string, depth: number) => {
    for (const [name, value] of Object.entries(object)) {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      const normalised = normaliseName(name);
      if (SENSITIVE_PATTERNS.some((pattern) => pattern.test(normalised))) found.push(path);
      else if (depth < 1 && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        visit(value as JsonObject, path, depth + 1);
      }
    }
  };
  visit(claims, '', 0);
  return found;
}

export function listWarnings(header: JsonObject, claims: JsonObject, nowSec: number): TokenWarning[] {
  const warnings: TokenWarning[] = [];
  const { alg, kid } = header;
  if (typeof alg === 'string' && alg.trim().toLowerCase() === 'none') {
    warnings.push({
      code: 'alg-none',
      severity: 'danger',
      message: `alg is "${alg}": the token is unsigned and anyone could have written it. Never accept it.`,
    });
  } else if (typeof alg !== 'string' || alg === '') {
    warnings.push({
      code: 'alg-missing',
      severity: 'danger',
      message: 'The header has no alg: it cannot be verified.',
    });
  }
  if (typeof kid !== 'string' || kid === '') {
    warnings.push({
      code: 'kid-missing',
      severity: 'caution',
      message: 'No kid in the header: a verifier cannot tell which key signed it, and key rotation gets harder.',
    });
  }
  if ('jwk' in header) {
    warnings.push({
      code: 'header-jwk',
      severity: 'danger',
      message: 'The header carries its own key (jwk). A verifier must never trust a key the token brings along.',
    });
  }
  if ('jku' in header || 'x5u' in header) {
    warnings.push({
      code: 'header-jku',
      severity: 'danger',
      message: 'The header points to a key URL (jku/x5u). Verifiers must only use keys they already trust.',
    });
  }

  for (const claim of TIME_CLAIMS) {
    if (claim in claims && !isNumericDate(claims[claim])) {
      warnings.push({
        code: 'time-invalid',
        severity: 'danger',
        message: `${claim} is not a NumericDate (a number of seconds since 1970): ${showJson(claims[claim], { maxLength: 120 })}.`,
      });
    }
  }
  const { exp, iat } = claims;
  if (exp === undefined) {
    warnings.push({
      code: 'exp-missing',
      severity: 'danger',
      message: 'No exp: the token never expires, so a stolen copy works forever.',
    });
  } else if (isNumericDate(exp)) {
    const lifetime = isNumericDate(iat) ? exp - iat : exp - nowSec;
    if (lifetime > LONG_LIFETIME_SEC) {
      warnings.push({
        code: 'lifetime-long',
        severity: 'caution',
        message: `Lifetime ${formatDuration(lifetime)}${isNumericDate(iat) ? '' : ' (from now; no iat)'}: access tokens should live minutes (at most 1 h) and be refreshed.`,
      });
    }
  }
  const sensitive = findSensitiveClaims(claims);
  if (sensitive.length > 0) {
    warnings.push({
      code: 'sensitive-claim',
      severity: 'caution',
      message: `Personal or secret-looking claims: ${sensitive.join(', ')}. Anyone holding the token can read them; it is signed, not encrypted.`,
    });
  }
  return warnings;
}
