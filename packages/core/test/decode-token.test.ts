import { decodeToken, generateKey, type TesseraKey } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { b64json, defaultHeader, expectAuthError, forge, NOW, splitSegments, validClaims } from './support/helpers.js';

let es: TesseraKey;

beforeAll(async () => {
  es = await generateKey('ES256', { kid: 'decode-es' });
});

describe('decodeToken (inspection, not verification)', () => {
  it('decodes a valid token without warnings', () => {
    const decoded = decodeToken(forge(es), NOW);
    expect(decoded.header).toEqual(defaultHeader(es));
    expect(decoded.payload).toEqual(validClaims());
    expect(decoded.signatureBytes).toBe(64);
    expect(decoded.warnings).toEqual([]);
  });

  it('shows an alg none token with a warning instead of rejecting it', () => {
    const [, p] = splitSegments(forge(es));
    const decoded = decodeToken(`${b64json({ alg: 'none' })}.${p}.AAAA`, NOW);
    expect(decoded.header.alg).toBe('none');
    expect(decoded.warnings.some((w) => w.includes('none'))).toBe(true);
  });

  it('warns about jku/jwk header members, a missing exp and sensitive-looking claims', () => {
    const token = forge(es, {
      header: defaultHeader(es, { jku: 'https://attacker.example', jwk: {} }),
      payload: validClaims({ exp: undefined, password: 'x' }),
    });
    const warnings = decodeToken(token, NOW).warnings.join('\n');
    expect(warnings).toContain('"jku"');
    expect(warnings).toContain('"jwk"');
    expect(warnings).toContain('"exp"');
    expect(warnings).toContain('password');
  });

  it('warns that an expired token is expired', () => {
    expect(decodeToken(forge(es, { payload: validClaims({ exp: NOW - 1 }) }), NOW).warnings).toContain('expired');
  });

  it('still rejects structural faults with ERR_TOKEN_MALFORMED (padding, duplicates, non-objects)', () => {
    expectAuthError(() => decodeToken(`${forge(es)}=`, NOW), 'ERR_TOKEN_MALFORMED');
    expectAuthError(
      () => decodeToken(forge(es, { payload: `${JSON.stringify(validClaims()).slice(0, -1)},"sub":"x"}` })),
      'ERR_TOKEN_MALFORMED',
    );
    expectAuthError(() => decodeToken(forge(es, { payload: '[1]' })), 'ERR_TOKEN_MALFORMED');
    expectAuthError(() => decodeToken(42, NOW), 'ERR_TOKEN_MALFORMED');
  });

  it('rejects a token over 64 KiB with ERR_TOKEN_TOO_LARGE', () => {
    expectAuthError(
      () => decodeToken(forge(es, { payload: validClaims({ pad: 'x'.repeat(70_000) }) })),
      'ERR_TOKEN_TOO_LARGE',
    );
  });
});
