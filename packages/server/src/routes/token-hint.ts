/**
 * `token` and `token_type_hint` of RFC 7009 section 2.1 and RFC 7662 section 2.1. The hint
 * only orders the search: a token not found as the hinted type is looked up as the other one,
 * and an unknown hint value is ignored (both RFCs let the server ignore it).
 */

import { AuthError } from '@tessera/core';

export type TokenType = 'access_token' | 'refresh_token';

export function requireTokenParam(body: Readonly<Record<string, string | undefined>>): string {
  const token = body.token;
  if (token === undefined || token === '') throw new AuthError('ERR_VALIDATION', { claim: 'token' });
  return token;
}

/** The lookup order: the hinted type first; refresh tokens first when there is no usable hint. */
export function searchOrder(hint: string | undefined): readonly TokenType[] {
  return hint === 'access_token' ? ['access_token', 'refresh_token'] : ['refresh_token', 'access_token'];
}
