/**
 * Security review of the demo's in-browser JWT decoder. `it.fails(...)` = a reproduced defect
 * (passes while it exists; flip to `it(...)` once fixed). Plain `it(...)` = checked, sound.
 */

import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { prettyJson } from '../../src/dom.js';
import { type DecodedJwt, decodeJwt } from '../../src/jwt/decode-jwt.js';
import { describeTimes } from '../../src/jwt/token-times.js';
import { listWarnings } from '../../src/jwt/token-warnings.js';
import { parseKeyInput, verifySignature } from '../../src/jwt/verify-signature.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function hs256(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function decoded(token: string): DecodedJwt {
  const result = decodeJwt(token);
  if (!result.ok) throw new Error(result.message);
  return result;
}

function tokenWithRawPayload(payloadJson: string): string {
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${Buffer.from(payloadJson).toString('base64url')}.c2ln`;
}

describe('signature check: alg confusion', () => {
  it('refuses a pasted PEM public key as an HMAC secret: a forged HS256 token never verifies as "valid"', async () => {
    // The server's (or any issuer's) public key is public: the attacker has it too.
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const forged = hs256(
      { alg: 'HS256', typ: 'at+jwt' },
      { iss: 'https://auth.example.com', sub: 'admin', exp: 4_000_000_000 },
      pem,
    );
    // The user pastes the issuer's public key: in the keys field (the default) it is not taken
    // for a secret, and with "shared secret" chosen explicitly it is refused as one, pointing to JWK/JWKS.
    for (const kind of ['jwks', 'secret'] as const) {
      const keys = parseKeyInput(pem, kind);
      expect(keys, kind).toHaveProperty('error');
      expect((keys as { error: string }).error, kind).toMatch(/JWK or JWKS/);
    }
    // Even handed the PEM's bytes as a secret directly, verifySignature refuses them.
    const result = await verifySignature(decoded(forged), { kind: 'secret', secret: new TextEncoder().encode(pem) });
    expect(result.status).toBe('bad-key-input');
    expect(result.status).not.toBe('valid');
  });

  it('never verifies alg none, or an HS256 token against a pasted public JWK (sound)', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const jwkText = JSON.stringify(jwk);
    const forged = hs256({ alg: 'HS256' }, { sub: 'admin' }, jwkText);
    const keys = parseKeyInput(jwkText);
    if ('error' in keys) throw new Error(keys.error);
    expect((await verifySignature(decoded(forged), keys)).status).toBe('no-key');
    for (const alg of ['none', 'None', 'NONE', ' none ']) {
      const unsigned = `${b64({ alg })}.${b64({ sub: 'admin' })}.c2ln`;
      expect((await verifySignature(decoded(unsigned), keys)).status).toBe('unsigned');
    }
  });
});

describe('hostile token content', () => {
  it('refuses a deeply nested claim with ERR_TOKEN_TOO_DEEP; warnings and the panels never throw on one', () => {
    // JSON.parse (iterative in V8) accepts 200,000 levels; JSON.stringify (recursive) overflows.
    const depth = 200_000;
    const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const payload = `{"sub":"x","exp":${deep}}`;
    const result = decodeJwt(tokenWithRawPayload(payload));
    // decodeJwt refuses it with a stable code ("never an exception")...
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('ERR_TOKEN_TOO_DEEP');
    // ...as it does a deep header, while 64 levels (the limit; the payload object is level 1) still decode.
    const deepHeader = `${Buffer.from(`{"alg":"HS256","x":${deep}}`).toString('base64url')}.${b64({ sub: 'x' })}.c2ln`;
    expect(decodeJwt(deepHeader)).toMatchObject({ ok: false, code: 'ERR_TOKEN_TOO_DEEP' });
    expect(decodeJwt(tokenWithRawPayload(`{"a":${'['.repeat(63)}${']'.repeat(63)}}`)).ok).toBe(true);
    expect(decodeJwt(tokenWithRawPayload(`{"a":${'['.repeat(64)}${']'.repeat(64)}}`))).toMatchObject({
      ok: false,
      code: 'ERR_TOKEN_TOO_DEEP',
    });
    // Brackets inside strings are text, not nesting.
    expect(decodeJwt(tokenWithRawPayload(JSON.stringify({ sub: `"\\${'['.repeat(1000)}` }))).ok).toBe(true);
    // And what render() does with claims copes with such a value anyway (defence in depth).
    const claims = { sub: 'x', exp: JSON.parse(deep) as unknown };
    expect(() => listWarnings({ alg: 'HS256' }, claims, 1_700_000_000)).not.toThrow();
    expect(listWarnings({ alg: 'HS256' }, claims, 1_700_000_000).map((w) => w.code)).toContain('time-invalid');
    expect(() => prettyJson(claims)).not.toThrow();
    expect(() => describeTimes(claims, 1_700_000_000)).not.toThrow();
  });

  it('keeps markup in claims as data: decoding returns strings, never HTML (sound; the page uses textContent)', () => {
    const xss = '<img src=x onerror=alert(1)>';
    const token = `${b64({ alg: xss, kid: xss })}.${b64({ sub: xss, [xss]: 1, exp: xss })}.c2ln`;
    const result = decodeJwt(token);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const warnings = listWarnings(result.header, result.claims, 1_700_000_000);
    // Messages quote the values as text; whatever shows them must use textContent (it does: dom.ts `el`).
    expect(warnings.map((w) => w.code)).toContain('time-invalid');
  });

  it('handles a 1 MB token without throwing (sound)', () => {
    const big = `${b64({ alg: 'HS256' })}.${b64({ sub: 'x'.repeat(1_000_000) })}.c2ln`;
    const result = decodeJwt(big);
    expect(result.ok).toBe(true);
    const garbage = decodeJwt('a.'.repeat(500_000));
    expect(garbage.ok).toBe(false);
  });
});
