import { randomBytes } from 'node:crypto';
import { generateKey, importKey, signAccessToken, type TesseraKey, verifyAccessToken } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  b64json,
  defaultHeader,
  expectAuthError,
  expectAuthErrorAsync,
  forge,
  frozenClock,
  ISSUER,
  signInput,
  splitSegments,
  validClaims,
  verifierFor,
  withNonCanonicalTrailingBits,
} from './support/helpers.js';

let hs: TesseraKey;
let es: TesseraKey;
let ed: TesseraKey;

beforeAll(async () => {
  [hs, es, ed] = await Promise.all([generateKey('HS256'), generateKey('ES256'), generateKey('EdDSA')]);
});

/** A token whose payload segment contains both '-' and '_' so they can be swapped for '+' and '/'. */
function tokenWithUrlSafeChars(key: TesseraKey): string {
  const token = forge(key, { payload: validClaims({ note: '~~~~~?????' }) });
  const [, payload] = splitSegments(token);
  expect(payload).toContain('-');
  expect(payload).toContain('_');
  return token;
}

/** Re-signs `headerSegment.payloadSegment` exactly as given, so only the encoding is wrong. */
function resigned(key: TesseraKey, headerSegment: string, payloadSegment: string): string {
  return forge(key, { headerSegment, payloadSegment });
}

describe('token type and size', () => {
  const nonStrings: [string, unknown][] = [
    ['a number', 42],
    ['an object', { token: 'x.y.z' }],
    ['undefined', undefined],
    ['null', null],
    ['an array of segments', ['a', 'b', 'c']],
    ['a String object', new String('a.b.c')],
  ];

  for (const [name, value] of nonStrings) {
    it(`a token that is ${name} is rejected with ERR_TOKEN_MALFORMED by verify and verifyAsync`, async () => {
      const verifier = verifierFor(hs);
      expectAuthError(() => verifier.verify(value), 'ERR_TOKEN_MALFORMED');
      await expectAuthErrorAsync(() => verifier.verifyAsync(value), 'ERR_TOKEN_MALFORMED');
    });
  }

  it('a valid token passed as a Buffer is rejected with ERR_TOKEN_MALFORMED', async () => {
    const token = forge(hs);
    const verifier = verifierFor(hs);
    expect(verifier.verify(token).sub).toBe('user-1');
    expectAuthError(() => verifier.verify(Buffer.from(token)), 'ERR_TOKEN_MALFORMED');
    await expectAuthErrorAsync(() => verifier.verifyAsync(Buffer.from(token)), 'ERR_TOKEN_MALFORMED');
  });

  it('a non-string token is rejected with ERR_TOKEN_MALFORMED also when a cache is enabled', () => {
    expectAuthError(() => verifierFor(hs, { cache: true }).verify(12345), 'ERR_TOKEN_MALFORMED');
  });

  it('a 1 MB token is rejected with ERR_TOKEN_TOO_LARGE', () => {
    const big = forge(hs, { payload: validClaims({ pad: 'a'.repeat(1024 * 1024) }) });
    expect(big.length).toBeGreaterThan(1024 * 1024);
    expectAuthError(() => verifierFor(hs).verify(big), 'ERR_TOKEN_TOO_LARGE');
  });

  it('a 1 MB string without any dots is rejected with ERR_TOKEN_TOO_LARGE', () => {
    expectAuthError(() => verifierFor(hs).verify('A'.repeat(1024 * 1024)), 'ERR_TOKEN_TOO_LARGE');
  });

  it('a token of exactly maxTokenBytes is accepted and one character more is rejected with ERR_TOKEN_TOO_LARGE', () => {
    const token = forge(hs, { payload: validClaims({ pad: 'a'.repeat(400) }) });
    expect(verifierFor(hs, { maxTokenBytes: token.length }).verify(token).sub).toBe('user-1');
    expectAuthError(() => verifierFor(hs, { maxTokenBytes: token.length - 1 }).verify(token), 'ERR_TOKEN_TOO_LARGE');
  });

  it('a token just over the default 8192 limit is rejected with ERR_TOKEN_TOO_LARGE', () => {
    const token = forge(hs, { payload: validClaims({ pad: 'a'.repeat(6200) }) });
    expect(token.length).toBeGreaterThan(8192);
    expectAuthError(() => verifierFor(hs).verify(token), 'ERR_TOKEN_TOO_LARGE');
  });
});

describe('segments', () => {
  it('a token with its signature stripped to "h.p." is rejected with ERR_TOKEN_MALFORMED', () => {
    const [h, p] = splitSegments(forge(es));
    expectAuthError(() => verifierFor(es).verify(`${h}.${p}.`), 'ERR_TOKEN_MALFORMED');
  });

  it('a token with its signature stripped to "h.p" is rejected with ERR_TOKEN_MALFORMED', () => {
    const [h, p] = splitSegments(forge(es));
    expectAuthError(() => verifierFor(es).verify(`${h}.${p}`), 'ERR_TOKEN_MALFORMED');
  });

  const shapes: [string, (h: string, p: string, s: string) => string][] = [
    ['four segments', (h, p, s) => `${h}.${p}.${s}.${s}`],
    ['a trailing dot after the signature', (h, p, s) => `${h}.${p}.${s}.`],
    ['an empty header segment', (_h, p, s) => `.${p}.${s}`],
    ['an empty payload segment', (h, _p, s) => `${h}..${s}`],
    ['a single segment', (h) => h],
    ['only dots', () => '..'],
    ['an empty string', () => ''],
    ['a JWE-like five-segment shape', (h, p, s) => `${h}.${p}.${p}.${p}.${s}`],
  ];
  for (const [name, make] of shapes) {
    it(`a token with ${name} is rejected with ERR_TOKEN_MALFORMED`, () => {
      const [h, p, s] = splitSegments(forge(hs));
      expectAuthError(() => verifierFor(hs).verify(make(h, p, s)), 'ERR_TOKEN_MALFORMED');
    });
  }

  it('header and payload segments swapped are rejected with ERR_TOKEN_MALFORMED', () => {
    const [h, p, s] = splitSegments(forge(hs));
    expectAuthError(() => verifierFor(hs).verify(`${p}.${h}.${s}`), 'ERR_TOKEN_MALFORMED');
  });
});

describe('whitespace around and inside the token', () => {
  const variants: [string, (t: string) => string][] = [
    ['a trailing newline', (t) => `${t}\n`],
    ['a trailing CRLF', (t) => `${t}\r\n`],
    ['a leading space', (t) => ` ${t}`],
    ['a trailing space', (t) => `${t} `],
    ['a leading tab', (t) => `\t${t}`],
    ['a "Bearer " prefix', (t) => `Bearer ${t}`],
    ['a space after the first dot', (t) => t.replace('.', '. ')],
    ['a newline inside the signature', (t) => `${t.slice(0, -5)}\n${t.slice(-5)}`],
  ];
  for (const [name, mutate] of variants) {
    it(`a valid token with ${name} is rejected with ERR_TOKEN_MALFORMED`, () => {
      const token = forge(hs);
      const verifier = verifierFor(hs);
      expect(verifier.verify(token).sub).toBe('user-1');
      expectAuthError(() => verifier.verify(mutate(token)), 'ERR_TOKEN_MALFORMED');
    });
  }
});

describe('strict base64url', () => {
  for (const padding of ['=', '==']) {
    it(`a header segment with "${padding}" padding, correctly re-signed, is rejected with ERR_TOKEN_MALFORMED`, () => {
      const [h, p] = splitSegments(forge(hs));
      expect(Buffer.from(`${h}${padding}`, 'base64url').equals(Buffer.from(h, 'base64url'))).toBe(true);
      expectAuthError(() => verifierFor(hs).verify(resigned(hs, `${h}${padding}`, p)), 'ERR_TOKEN_MALFORMED');
    });

    it(`a payload segment with "${padding}" padding, correctly re-signed, is rejected with ERR_TOKEN_MALFORMED`, () => {
      const [h, p] = splitSegments(forge(hs));
      expectAuthError(() => verifierFor(hs).verify(resigned(hs, h, `${p}${padding}`)), 'ERR_TOKEN_MALFORMED');
    });

    it(`a signature segment with "${padding}" padding is rejected with ERR_TOKEN_MALFORMED`, () => {
      const token = forge(es);
      expectAuthError(() => verifierFor(es).verify(`${token}${padding}`), 'ERR_TOKEN_MALFORMED');
    });
  }

  it('a properly padded standard-base64 signature (same bytes) is rejected with ERR_TOKEN_MALFORMED', () => {
    const [h, p, s] = splitSegments(forge(hs));
    const standard = Buffer.from(s, 'base64url').toString('base64');
    expect(standard.endsWith('=')).toBe(true);
    expectAuthError(() => verifierFor(hs).verify(`${h}.${p}.${standard}`), 'ERR_TOKEN_MALFORMED');
  });

  for (const [from, to] of [
    ['-', '+'],
    ['_', '/'],
  ] as const) {
    it(`a payload segment spelled with "${to}" instead of "${from}" (same bytes, re-signed) is rejected with ERR_TOKEN_MALFORMED`, () => {
      const [h, p] = splitSegments(tokenWithUrlSafeChars(hs));
      expect(verifierFor(hs).verify(resigned(hs, h, p)).sub).toBe('user-1');
      const spelled = p.replaceAll(from, to);
      expect(Buffer.from(spelled, 'base64url').equals(Buffer.from(p, 'base64url'))).toBe(true);
      expectAuthError(() => verifierFor(hs).verify(resigned(hs, h, spelled)), 'ERR_TOKEN_MALFORMED');
    });

    it(`a signature spelled with "${to}" instead of "${from}" is rejected with ERR_TOKEN_MALFORMED`, () => {
      let token = '';
      for (let i = 0; i < 500 && !splitSegments(token || 'a.b.c')[2].includes(from); i++) {
        token = forge(hs, { payload: validClaims({ jti: `jti-for-signature-${i}` }) });
      }
      const [h, p, s] = splitSegments(token);
      expect(s).toContain(from);
      expectAuthError(() => verifierFor(hs).verify(`${h}.${p}.${s.replaceAll(from, to)}`), 'ERR_TOKEN_MALFORMED');
    });
  }

  for (const [from, to] of [
    ['-', '+'],
    ['_', '/'],
  ] as const) {
    it(`a header segment spelled with "${to}" instead of "${from}" (same bytes, re-signed) is rejected with ERR_TOKEN_MALFORMED`, () => {
      const key = importKey(randomBytes(32), { alg: 'HS256', kid: '~~~~~?????' });
      const h = b64json(defaultHeader(key));
      expect(h).toContain(from);
      const [, p] = splitSegments(forge(key));
      expect(verifierFor(key).verify(resigned(key, h, p)).sub).toBe('user-1');
      const spelled = h.replaceAll(from, to);
      expect(Buffer.from(spelled, 'base64url').equals(Buffer.from(h, 'base64url'))).toBe(true);
      expectAuthError(() => verifierFor(key).verify(resigned(key, spelled, p)), 'ERR_TOKEN_MALFORMED');
    });
  }

  for (const segmentIndex of [0, 1, 2] as const) {
    it(`a "*" inserted into segment ${segmentIndex} (re-signed where possible) is rejected with ERR_TOKEN_MALFORMED`, () => {
      const parts = splitSegments(forge(hs));
      const target = parts[segmentIndex];
      parts[segmentIndex] = `${target.slice(0, 3)}*${target.slice(3)}`;
      expect(Buffer.from(parts[segmentIndex], 'base64url').equals(Buffer.from(target, 'base64url'))).toBe(true);
      const token = segmentIndex === 2 ? parts.join('.') : resigned(hs, parts[0], parts[1]);
      expectAuthError(() => verifierFor(hs).verify(token), 'ERR_TOKEN_MALFORMED');
    });
  }

  it('a header segment with non-canonical trailing bits (same bytes, re-signed) is rejected with ERR_TOKEN_MALFORMED', () => {
    // Choose a kid that makes the header length not a multiple of 3 bytes.
    let header = '';
    for (let n = 1; n < 4; n++) {
      header = b64json(defaultHeader(hs, { kid: hs.kid.slice(0, 10 + n) }));
      if (header.length % 4 !== 0) break;
    }
    const key = hs;
    const mutated = withNonCanonicalTrailingBits(header);
    expect(Buffer.from(mutated, 'base64url').equals(Buffer.from(header, 'base64url'))).toBe(true);
    const [, p] = splitSegments(forge(key));
    expectAuthError(() => verifierFor(key).verify(resigned(key, mutated, p)), 'ERR_TOKEN_MALFORMED');
  });

  it('a payload segment with non-canonical trailing bits (same bytes, re-signed) is rejected with ERR_TOKEN_MALFORMED', () => {
    let payload = '';
    for (let n = 0; n < 3; n++) {
      payload = b64json(validClaims({ sub: `user-${'x'.repeat(n)}` }));
      if (payload.length % 4 !== 0) break;
    }
    const [h] = splitSegments(forge(hs));
    const canonical = resigned(hs, h, payload);
    expect(verifierFor(hs).verify(canonical).iss).toBe(ISSUER);
    const mutated = withNonCanonicalTrailingBits(payload);
    expect(Buffer.from(mutated, 'base64url').equals(Buffer.from(payload, 'base64url'))).toBe(true);
    expectAuthError(() => verifierFor(hs).verify(resigned(hs, h, mutated)), 'ERR_TOKEN_MALFORMED');
  });

  for (const alg of ['HS256', 'ES256', 'EdDSA'] as const) {
    it(`${alg}: a signature with non-canonical trailing bits (same bytes) is rejected with ERR_TOKEN_MALFORMED`, () => {
      const key = alg === 'HS256' ? hs : alg === 'ES256' ? es : ed;
      const [h, p, s] = splitSegments(forge(key));
      const mutated = withNonCanonicalTrailingBits(s);
      expect(Buffer.from(mutated, 'base64url').equals(Buffer.from(s, 'base64url'))).toBe(true);
      expectAuthError(() => verifierFor(key).verify(`${h}.${p}.${mutated}`), 'ERR_TOKEN_MALFORMED');
    });
  }
});

describe('one-shot verifyAccessToken', () => {
  it('verifyAccessToken applies the same strict parser as a verifier (padding rejected with ERR_TOKEN_MALFORMED)', () => {
    const clock = frozenClock();
    const { token } = signAccessToken({ sub: 'u' }, hs, { issuer: ISSUER, audience: AUDIENCE, clock });
    const options = { issuer: ISSUER, audience: AUDIENCE, clock };
    expect(verifyAccessToken(token, hs, options).sub).toBe('u');
    expectAuthError(() => verifyAccessToken(`${token}=`, hs, options), 'ERR_TOKEN_MALFORMED');
  });

  it('a token signed over a different spelling of the signing input fails with ERR_SIGNATURE_INVALID, not a crash', () => {
    const [h, p] = splitSegments(forge(hs));
    const signature = signInput(hs, `${h}.${p}x`);
    expectAuthError(() => verifierFor(hs).verify(`${h}.${p}.${signature}`), 'ERR_SIGNATURE_INVALID');
  });
});
