import { randomBytes } from 'node:crypto';
import { createKeySet, exportPublicJwk, generateKey, importKey, type JwtHeader, type TesseraKey } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  b64json,
  defaultHeader,
  expectAuthError,
  expectAuthErrorAsync,
  forge,
  splitSegments,
  validClaims,
  verifierFor,
} from './support/helpers.js';

let es: TesseraKey;
let attacker: TesseraKey;
let hs: TesseraKey;

beforeAll(async () => {
  [es, attacker, hs] = await Promise.all([
    generateKey('ES256', { kid: 'trusted-es' }),
    generateKey('ES256', { kid: 'attacker-es' }),
    generateKey('HS256', { kid: 'trusted-hs' }),
  ]);
});

/** A resolver that records how often it was asked, always answering with `key`. */
function countingResolver(key: TesseraKey): { resolve: (header: JwtHeader) => TesseraKey; calls: number } {
  const state = {
    calls: 0,
    resolve: (_header: JwtHeader) => {
      state.calls++;
      return key;
    },
  };
  return state;
}

describe('alg none in any casing', () => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    it(`a token with alg ${alg} and a non-empty signature is rejected with ERR_ALG_NOT_ALLOWED before any key lookup`, async () => {
      const [, payload] = splitSegments(forge(es));
      const token = `${b64json({ alg, typ: 'at+jwt', kid: es.kid })}.${payload}.${randomBytes(64).toString('base64url')}`;
      const resolver = countingResolver(es);
      const verifier = verifierFor(resolver.resolve);
      expectAuthError(() => verifier.verify(token), 'ERR_ALG_NOT_ALLOWED');
      await expectAuthErrorAsync(() => verifier.verifyAsync(token), 'ERR_ALG_NOT_ALLOWED');
      expect(resolver.calls).toBe(0);
    });

    it(`a token with alg ${alg} and an empty signature ("h.p.") is rejected with ERR_TOKEN_MALFORMED`, async () => {
      const [, payload] = splitSegments(forge(es));
      const token = `${b64json({ alg, typ: 'at+jwt' })}.${payload}.`;
      const verifier = verifierFor(createKeySet([es, hs]));
      expectAuthError(() => verifier.verify(token), 'ERR_TOKEN_MALFORMED');
      await expectAuthErrorAsync(() => verifier.verifyAsync(token), 'ERR_TOKEN_MALFORMED');
    });

    it(`a token with alg ${alg}, no kid and an HMAC signature is rejected with ERR_ALG_NOT_ALLOWED`, () => {
      const token = forge(hs, { header: { alg, typ: 'at+jwt' } });
      expectAuthError(() => verifierFor(createKeySet([hs])).verify(token), 'ERR_ALG_NOT_ALLOWED');
    });
  }

  it('a token with alg "none" is rejected with ERR_ALG_NOT_ALLOWED even with typ checking disabled', () => {
    const [, payload] = splitSegments(forge(es));
    const token = `${b64json({ alg: 'none' })}.${payload}.AAAA`;
    expectAuthError(() => verifierFor(es, { typ: null }).verify(token), 'ERR_ALG_NOT_ALLOWED');
  });
});

describe('alg member', () => {
  for (const [name, alg] of [
    ['missing', undefined],
    ['an empty string', ''],
    ['a number', 256],
    ['null', null],
    ['an array', ['ES256']],
  ] as const) {
    it(`a header whose alg is ${name} is rejected with ERR_TOKEN_MALFORMED`, () => {
      const token = forge(es, { header: { alg, typ: 'at+jwt', kid: es.kid } });
      expectAuthError(() => verifierFor(es).verify(token), 'ERR_TOKEN_MALFORMED');
    });
  }

  for (const alg of ['ES384', 'ES512', 'RS256', 'HS512', 'es256', 'ES256 ']) {
    it(`a header naming alg "${alg}" for an ES256 key is rejected with ERR_ALG_NOT_ALLOWED`, () => {
      const token = forge(es, { header: defaultHeader(es, { alg }) });
      expectAuthError(() => verifierFor(createKeySet([es])).verify(token), 'ERR_ALG_NOT_ALLOWED');
    });
  }
});

describe('header parameters outside the allowlist', () => {
  it('a header jwk carrying the attacker key, signed by that key, is rejected with ERR_HEADER_PARAM_NOT_ALLOWED (claim jwk)', async () => {
    const header = defaultHeader(attacker, { jwk: exportPublicJwk(attacker) });
    const token = forge(attacker, { header });
    const resolver = countingResolver(es);
    const verifier = verifierFor(resolver.resolve);
    expectAuthError(() => verifier.verify(token), 'ERR_HEADER_PARAM_NOT_ALLOWED', 'jwk');
    await expectAuthErrorAsync(() => verifier.verifyAsync(token), 'ERR_HEADER_PARAM_NOT_ALLOWED', 'jwk');
    expect(resolver.calls).toBe(0);
  });

  it('a header jwk carrying the attacker key with the trusted kid is rejected with ERR_HEADER_PARAM_NOT_ALLOWED', () => {
    const header = defaultHeader(attacker, { kid: es.kid, jwk: exportPublicJwk(attacker) });
    expectAuthError(
      () => verifierFor(createKeySet([es])).verify(forge(attacker, { header })),
      'ERR_HEADER_PARAM_NOT_ALLOWED',
      'jwk',
    );
  });

  const params: [string, unknown][] = [
    ['jku', 'https://attacker.example/jwks.json'],
    ['x5u', 'https://attacker.example/cert.pem'],
    ['x5c', ['MIIBszCCAVmgAwIBAgIU']],
    ['x5t', 'dGh1bWJwcmludA'],
    ['x5t#S256', 'dGh1bWJwcmludA'],
    ['zip', 'DEF'],
    ['crit', ['exp']],
    ['b64', false],
    ['cty', 'JWT'],
    ['enc', 'A256GCM'],
    ['epk', { kty: 'EC' }],
    ['p2c', 1_000_000],
    ['url', 'https://attacker.example'],
    ['nonce', 'abc'],
  ];
  for (const [param, value] of params) {
    it(`a header with "${param}" is rejected with ERR_HEADER_PARAM_NOT_ALLOWED naming ${param}`, () => {
      const token = forge(es, { header: defaultHeader(es, { [param]: value }) });
      expectAuthError(() => verifierFor(es).verify(token), 'ERR_HEADER_PARAM_NOT_ALLOWED', param);
    });
  }

  it('a header with "crit" and "b64": false together is rejected with ERR_HEADER_PARAM_NOT_ALLOWED', () => {
    const token = forge(es, { header: defaultHeader(es, { b64: false, crit: ['b64'] }) });
    expectAuthError(() => verifierFor(es).verify(token), 'ERR_HEADER_PARAM_NOT_ALLOWED');
  });

  it('an unknown header member is rejected with ERR_HEADER_PARAM_NOT_ALLOWED without echoing its name', () => {
    const token = forge(es, { header: defaultHeader(es, { 'attacker-chosen-name': 1 }) });
    const error = expectAuthError(() => verifierFor(es).verify(token), 'ERR_HEADER_PARAM_NOT_ALLOWED');
    expect(error.claim).toBeUndefined();
  });

  it('a header with an own "__proto__" member is rejected with ERR_HEADER_PARAM_NOT_ALLOWED', () => {
    const header = `{"alg":"ES256","typ":"at+jwt","kid":"${es.kid}","__proto__":{"alg":"none"}}`;
    expectAuthError(() => verifierFor(es).verify(forge(es, { header })), 'ERR_HEADER_PARAM_NOT_ALLOWED');
  });
});

describe('kid member', () => {
  for (const kid of ['../../dev/null', "'OR'1'='1'--", '%00', 'trusted-es/../trusted-es', 'TRUSTED-ES']) {
    it(`a token with kid ${JSON.stringify(kid)} is rejected with ERR_KEY_NOT_FOUND`, () => {
      const token = forge(es, { header: defaultHeader(es, { kid }) });
      expectAuthError(() => verifierFor(createKeySet([es, hs])).verify(token), 'ERR_KEY_NOT_FOUND');
      expectAuthError(() => verifierFor(es).verify(token), 'ERR_KEY_NOT_FOUND');
    });
  }

  it('a kid of 128 printable characters is accepted and one of 129 is rejected with ERR_TOKEN_MALFORMED', () => {
    const long = importKey(randomBytes(32), { alg: 'HS256', kid: 'k'.repeat(128) });
    expect(verifierFor(long).verify(forge(long)).sub).toBe('user-1');
    const token = forge(long, { header: defaultHeader(long, { kid: 'k'.repeat(129) }) });
    expectAuthError(() => verifierFor(long).verify(token), 'ERR_TOKEN_MALFORMED');
  });

  const badKids: [string, unknown][] = [
    ['a NUL character', 'key\u0000'],
    ['a newline', 'key\nid'],
    ['a carriage return', 'key\rid'],
    ['a tab', 'key\tid'],
    ['a space', 'key id'],
    ['DEL', 'key\u007f'],
    ['an ANSI escape', '\u001b[31mred'],
    ['non-ASCII letters', 'ключ'],
    ['an accented letter', 'clé'],
    ['a zero-width space', 'key\u200b'],
    ['an empty string', ''],
    ['a number', 1],
    ['null', null],
    ['an object', { id: 'x' }],
  ];
  for (const [name, kid] of badKids) {
    it(`a kid containing ${name} is rejected with ERR_TOKEN_MALFORMED`, () => {
      const token = forge(es, { header: defaultHeader(es, { kid }) });
      expectAuthError(() => verifierFor(createKeySet([es])).verify(token), 'ERR_TOKEN_MALFORMED');
    });
  }
});

describe('typ member', () => {
  for (const [name, typ] of [
    ['missing', undefined],
    ['"JWT"', 'JWT'],
    ['"application/at+jwt"', 'application/at+jwt'],
    ['"AT+JWT"', 'AT+JWT'],
    ['"at+jwt " with a trailing space', 'at+jwt '],
    ['"jwt"', 'jwt'],
  ] as const) {
    it(`a token with typ ${name} is rejected with ERR_TYP_INVALID`, async () => {
      const token = forge(es, { header: { alg: 'ES256', typ, kid: es.kid } });
      const verifier = verifierFor(es);
      expectAuthError(() => verifier.verify(token), 'ERR_TYP_INVALID');
      await expectAuthErrorAsync(() => verifier.verifyAsync(token), 'ERR_TYP_INVALID');
    });
  }

  it('a typ that is not a string is rejected with ERR_TOKEN_MALFORMED', () => {
    const token = forge(es, { header: defaultHeader(es, { typ: ['at+jwt'] }) });
    expectAuthError(() => verifierFor(es).verify(token), 'ERR_TOKEN_MALFORMED');
  });

  it('a rejected typ stays rejected on a second verification of the same header (no header-cache bypass)', () => {
    const token = forge(es, { header: defaultHeader(es, { typ: 'JWT' }) });
    const verifier = verifierFor(es);
    expectAuthError(() => verifier.verify(token), 'ERR_TYP_INVALID');
    expectAuthError(() => verifier.verify(token), 'ERR_TYP_INVALID');
  });

  it('typ: null disables the typ check and a custom typ is compared exactly', () => {
    const jwtTyped = forge(es, { header: defaultHeader(es, { typ: 'JWT' }) });
    expect(verifierFor(es, { typ: null }).verify(jwtTyped).sub).toBe('user-1');
    expect(verifierFor(es, { typ: 'JWT' }).verify(jwtTyped).sub).toBe('user-1');
    expectAuthError(() => verifierFor(es, { typ: 'JWT' }).verify(forge(es)), 'ERR_TYP_INVALID');
  });

  it('a header of exactly {alg, typ, kid} with the right values verifies', () => {
    expect(verifierFor(es).verify(forge(es, { payload: validClaims({ sub: 'ok' }) })).sub).toBe('ok');
  });
});
