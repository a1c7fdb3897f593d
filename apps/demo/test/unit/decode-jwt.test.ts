import { describe, expect, it } from 'vitest';
import { decodeBase64url, encodeBase64url } from '../../src/jwt/base64url.js';
import { decodeJwt } from '../../src/jwt/decode-jwt.js';

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const token = (header: unknown, claims: unknown, signature = 'c2ln') => `${b64(header)}.${b64(claims)}.${signature}`;

describe('decodeBase64url', () => {
  it('round-trips every length and agrees with Node', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const text = encodeBase64url(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64url'));
      expect(decodeBase64url(text)).toEqual(bytes);
    }
  });

  it('refuses padding, the standard alphabet, spaces, impossible lengths and stray bits', () => {
    for (const bad of ['YQ==', 'a+b/', 'YW J', 'Y', 'YR', 'YWJ', 'YWN']) {
      expect(decodeBase64url(bad), bad).toBeUndefined();
    }
    expect(decodeBase64url('YQ')).toEqual(new Uint8Array([0x61]));
    expect(decodeBase64url('YWI')).toEqual(new Uint8Array([0x61, 0x62]));
  });
});

describe('decodeJwt', () => {
  it('decodes header and claims and keeps the signing input and signature bytes', () => {
    const t = token({ alg: 'ES256', typ: 'at+jwt' }, { sub: 'u1', exp: 1 });
    const decoded = decodeJwt(`  Bearer ${t}\n`);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.header).toEqual({ alg: 'ES256', typ: 'at+jwt' });
    expect(decoded.claims).toEqual({ sub: 'u1', exp: 1 });
    expect(new TextDecoder().decode(decoded.signingInput)).toBe(t.split('.').slice(0, 2).join('.'));
    expect(new TextDecoder().decode(decoded.signature)).toBe('sig');
  });

  it('names the problem with a stable code instead of throwing', () => {
    const cases: [string, string][] = [
      ['', 'ERR_TOKEN_EMPTY'],
      ['   ', 'ERR_TOKEN_EMPTY'],
      ['abc', 'ERR_TOKEN_PARTS'],
      ['a.b', 'ERR_TOKEN_PARTS'],
      ['a.b.c.d', 'ERR_TOKEN_PARTS'],
      ['a.b.c.d.e', 'ERR_TOKEN_ENCRYPTED'],
      [`.${b64({})}.c2ln`, 'ERR_TOKEN_PARTS'],
      [`${b64({ alg: 'ES256' })}.${b64({})}=.c2ln`, 'ERR_TOKEN_BASE64URL'],
      [`${b64({ alg: 'ES256' })}.${b64({})}.c2l+`, 'ERR_TOKEN_BASE64URL'],
      [`${b64('{"alg":')}.${b64({})}.c2ln`, 'ERR_TOKEN_JSON'],
      [`${b64({ alg: 'ES256' })}.${b64('not json')}.c2ln`, 'ERR_TOKEN_JSON'],
      [`${b64({ alg: 'ES256' })}.${b64([1, 2])}.c2ln`, 'ERR_TOKEN_NOT_OBJECT'],
      [`${b64({ alg: 'ES256' })}.${b64('null')}.c2ln`, 'ERR_TOKEN_NOT_OBJECT'],
      [`${Buffer.from([0xff, 0xfe]).toString('base64url')}.${b64({})}.c2ln`, 'ERR_TOKEN_UTF8'],
    ];
    for (const [input, code] of cases) {
      const decoded = decodeJwt(input);
      expect(decoded.ok, input).toBe(false);
      if (decoded.ok) continue;
      expect(decoded.code, input).toBe(code);
      expect(decoded.message.length).toBeGreaterThan(10);
    }
  });

  it('does not mistake a header that contains "ok": false for a failure', () => {
    const decoded = decodeJwt(token({ alg: 'ES256', ok: false }, { ok: false }));
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(decoded.claims).toEqual({ ok: false });
  });

  it('accepts an empty signature part (an unsigned token) so that it can be shown and warned about', () => {
    const decoded = decodeJwt(`${b64({ alg: 'none' })}.${b64({ sub: 'x' })}.`);
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(decoded.signature.length).toBe(0);
  });
});
