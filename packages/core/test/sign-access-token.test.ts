import {
  type AccessTokenInput,
  ALGORITHMS,
  type Algorithm,
  createAccessTokenSigner,
  generateKey,
  importKey,
  type SignOptions,
  signAccessToken,
  type TesseraKey,
} from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  expectAuthError,
  expectTypeError,
  frozenClock,
  ISSUER,
  NOW,
  splitSegments,
  verifierFor,
} from './support/helpers.js';

const keys = new Map<Algorithm, TesseraKey>();
let hs: TesseraKey;

beforeAll(async () => {
  const [es, ed, rs, h] = await Promise.all([
    generateKey('ES256'),
    generateKey('EdDSA'),
    generateKey('RS256'),
    generateKey('HS256'),
  ]);
  if (rs.signKey === undefined) throw new Error('RSA key cannot sign');
  keys.set('ES256', es);
  keys.set('EdDSA', ed);
  keys.set('RS256', rs);
  keys.set('PS256', importKey(rs.signKey, { alg: 'PS256' }));
  keys.set('HS256', h);
  hs = h;
});

function options(extra: Partial<SignOptions> = {}): SignOptions {
  return { issuer: ISSUER, audience: AUDIENCE, clock: frozenClock(), ...extra };
}

function signWith(input: Record<string, unknown>, extra: Partial<SignOptions> = {}) {
  return signAccessToken(input as AccessTokenInput, hs, options(extra));
}

function decodeSegment(segment: string): string {
  return Buffer.from(segment, 'base64url').toString('utf8');
}

describe('sensitive claim names', () => {
  for (const name of [
    'password',
    'Password',
    'user_password',
    'passwd',
    'email',
    'Email',
    'e-mail',
    'refresh_token',
    'id_token',
    'access_token',
    'client_secret',
    'api_key',
    'apiKey',
    'private_key',
    'credit_card',
    'cvv',
    'phone_number',
    'ssn',
    'pwd',
    'pin',
    'otp',
    'cookie',
    'birthdate',
    'iban',
  ]) {
    it(`a top-level "${name}" claim is refused with ERR_CLAIM_NOT_ALLOWED (claim ${name})`, () => {
      expectAuthError(() => signWith({ sub: 'u', [name]: 'value' }), 'ERR_CLAIM_NOT_ALLOWED', name);
    });
  }

  it('"email" is signed when allowClaims includes it, and appears in the token', () => {
    const { token } = signWith({ sub: 'u', email: 'a@example.com' }, { allowClaims: ['email'] });
    expect(verifierFor(hs).verify(token).email).toBe('a@example.com');
  });

  it('allowClaims is exact: allowing "email" does not allow "Email" or "password"', () => {
    expectAuthError(
      () => signWith({ sub: 'u', Email: 'x' }, { allowClaims: ['email'] }),
      'ERR_CLAIM_NOT_ALLOWED',
      'Email',
    );
    expectAuthError(
      () => signWith({ sub: 'u', password: 'x' }, { allowClaims: ['email'] }),
      'ERR_CLAIM_NOT_ALLOWED',
      'password',
    );
  });

  it('a sensitive member name nested in an object is refused with ERR_CLAIM_NOT_ALLOWED naming the top-level claim', () => {
    expectAuthError(() => signWith({ sub: 'u', profile: { password: 'x' } }), 'ERR_CLAIM_NOT_ALLOWED', 'profile');
  });

  it('a sensitive member name nested in an array of objects is refused with ERR_CLAIM_NOT_ALLOWED', () => {
    expectAuthError(
      () => signWith({ sub: 'u', items: [{ ok: 1 }, { refresh_token: 'x' }] }),
      'ERR_CLAIM_NOT_ALLOWED',
      'items',
    );
  });

  it('a nested "email" member is signed when allowClaims includes it', () => {
    const { claims } = signWith({ sub: 'u', contact: { email: 'a@example.com' } }, { allowClaims: ['email'] });
    expect(claims.contact).toEqual({ email: 'a@example.com' });
  });

  it('a sensitive word in a claim value (not a name) is allowed', () => {
    expect(signWith({ sub: 'u', note: 'password reset' }).claims.note).toBe('password reset');
  });
});

describe('claim values', () => {
  it('a value nested deeper than the default maxClaimDepth of 2 is refused with ERR_CLAIM_NOT_ALLOWED', () => {
    expect(signWith({ sub: 'u', a: { b: { c: 1 } } }).claims.a).toEqual({ b: { c: 1 } });
    expectAuthError(() => signWith({ sub: 'u', a: { b: { c: { d: 1 } } } }), 'ERR_CLAIM_NOT_ALLOWED', 'a');
    expectAuthError(() => signWith({ sub: 'u', a: [[[1]]] }), 'ERR_CLAIM_NOT_ALLOWED', 'a');
  });

  it('maxClaimDepth 0 refuses any object or array value with ERR_CLAIM_NOT_ALLOWED', () => {
    expect(signWith({ sub: 'u', flag: true }, { maxClaimDepth: 0 }).claims.flag).toBe(true);
    expectAuthError(() => signWith({ sub: 'u', roles: ['a'] }, { maxClaimDepth: 0 }), 'ERR_CLAIM_NOT_ALLOWED', 'roles');
    expectAuthError(() => signWith({ sub: 'u', ctx: {} }, { maxClaimDepth: 0 }), 'ERR_CLAIM_NOT_ALLOWED', 'ctx');
  });

  it('maxClaimDepth 1 accepts a flat array and refuses an array of arrays', () => {
    expect(signWith({ sub: 'u', roles: ['a', 'b'] }, { maxClaimDepth: 1 }).claims.roles).toEqual(['a', 'b']);
    expectAuthError(
      () => signWith({ sub: 'u', roles: [['a']] }, { maxClaimDepth: 1 }),
      'ERR_CLAIM_NOT_ALLOWED',
      'roles',
    );
  });

  const nonJson: [string, unknown][] = [
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a bigint', 10n],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a class instance', new (class Role {})()],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a nested function', { f: () => 1 }],
    ['a nested undefined', { u: undefined }],
  ];
  for (const [name, value] of nonJson) {
    it(`a claim value that is ${name} is refused with ERR_CLAIM_NOT_ALLOWED`, () => {
      expectAuthError(() => signWith({ sub: 'u', extra: value }), 'ERR_CLAIM_NOT_ALLOWED', 'extra');
    });
  }

  it('a top-level claim set to undefined is left out of the token', () => {
    const { claims } = signWith({ sub: 'u', scope: undefined });
    expect(Object.hasOwn(claims, 'scope')).toBe(false);
  });
});

describe('reserved claims and input validation', () => {
  for (const claim of ['iss', 'aud', 'exp', 'iat', 'nbf', 'jti']) {
    it(`supplying the reserved claim ${claim} throws a TypeError naming it`, () => {
      expectTypeError(() => signWith({ sub: 'u', [claim]: claim === 'iss' || claim === 'aud' ? 'x' : 1 }), claim);
    });
  }

  for (const [name, sub] of [
    ['missing', undefined],
    ['empty', ''],
    ['a number', 42],
    ['1025 characters', 'x'.repeat(1025)],
  ] as const) {
    it(`a sub that is ${name} throws a TypeError naming claims.sub`, () => {
      expectTypeError(() => signWith({ sub }), 'claims.sub');
    });
  }

  it('empty sid, client_id or scope throws a TypeError naming the claim', () => {
    for (const claim of ['sid', 'client_id', 'scope'])
      expectTypeError(() => signWith({ sub: 'u', [claim]: '' }), claim);
  });

  it('a fractional or negative auth_time throws a TypeError naming auth_time', () => {
    expectTypeError(() => signWith({ sub: 'u', auth_time: NOW - 0.5 }), 'auth_time');
    expectTypeError(() => signWith({ sub: 'u', auth_time: -1 }), 'auth_time');
  });

  it('non-object claims input throws a TypeError', () => {
    for (const input of [null, 'sub', [], 1]) {
      expectTypeError(() => signAccessToken(input as unknown as AccessTokenInput, hs, options()));
    }
  });

  for (const ttlSec of [59, 3601, 0, -60, 600.5, Number.NaN]) {
    it(`ttlSec ${ttlSec} throws a TypeError naming ttlSec`, () => {
      expectTypeError(() => signWith({ sub: 'u' }, { ttlSec }), 'ttlSec');
    });
  }

  it('ttlSec "600" as a string throws a TypeError naming ttlSec', () => {
    expectTypeError(() => signWith({ sub: 'u' }, { ttlSec: '600' as unknown as number }), 'ttlSec');
  });

  it('ttlSec 60 and 3600 are accepted and set exp = iat + ttlSec', () => {
    expect(signWith({ sub: 'u' }, { ttlSec: 60 }).claims.exp).toBe(NOW + 60);
    expect(signWith({ sub: 'u' }, { ttlSec: 3600 }).claims.exp).toBe(NOW + 3600);
    expect(signWith({ sub: 'u' }).claims.exp).toBe(NOW + 600);
  });

  it('an empty issuer or empty audience list throws a TypeError naming the field', () => {
    expectTypeError(() => signWith({ sub: 'u' }, { issuer: '' }), 'issuer');
    expectTypeError(() => signWith({ sub: 'u' }, { audience: [] }), 'audience');
    expectTypeError(() => signWith({ sub: 'u' }, { audience: [''] }), 'audience');
  });

  it('maxClaimDepth outside 0..8 throws a TypeError naming maxClaimDepth', () => {
    expectTypeError(() => signWith({ sub: 'u' }, { maxClaimDepth: 9 }), 'maxClaimDepth');
    expectTypeError(() => signWith({ sub: 'u' }, { maxClaimDepth: -1 }), 'maxClaimDepth');
  });
});

describe('issued tokens', () => {
  for (const alg of ALGORITHMS) {
    it(`${alg}: a token header is exactly {"alg":"${alg}","typ":"at+jwt","kid":…} in that order`, () => {
      const key = keys.get(alg) as TesseraKey;
      const { token } = signAccessToken({ sub: 'u' }, key, options());
      const [h] = splitSegments(token);
      expect(decodeSegment(h)).toBe(JSON.stringify({ alg, typ: 'at+jwt', kid: key.kid }));
    });
  }

  it('the payload holds iss, sub, aud, exp, iat and jti from the frozen clock, and the returned claims match it', () => {
    const { token, claims } = signWith({ sub: 'user-9', scope: 'read' });
    const [, p] = splitSegments(token);
    const payload = JSON.parse(decodeSegment(p)) as Record<string, unknown>;
    expect(payload).toEqual(claims);
    expect(payload).toMatchObject({
      iss: ISSUER,
      sub: 'user-9',
      aud: AUDIENCE,
      iat: NOW,
      exp: NOW + 600,
      scope: 'read',
    });
    expect(Object.isFrozen(claims)).toBe(true);
  });

  it('several audiences are signed as an array and a single one as a string', () => {
    expect(signWith({ sub: 'u' }, { audience: ['a', 'b'] }).claims.aud).toEqual(['a', 'b']);
    expect(signWith({ sub: 'u' }, { audience: ['a'] }).claims.aud).toBe('a');
  });

  it('jti is 22 base64url characters that decode to 16 bytes (128 bits)', () => {
    const { jti } = signWith({ sub: 'u' }).claims;
    expect(jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(jti, 'base64url')).toHaveLength(16);
    expect(Buffer.from(jti, 'base64url').toString('base64url')).toBe(jti);
  });

  it('1000 tokens signed at the same instant have 1000 distinct jti values', () => {
    const jtis = new Set<string>();
    for (let i = 0; i < 1000; i++) jtis.add(signWith({ sub: 'u' }).claims.jti);
    expect(jtis.size).toBe(1000);
  });

  it('a custom typ is written to the header', () => {
    const { token } = signWith({ sub: 'u' }, { typ: 'custom+jwt' });
    expect(JSON.parse(decodeSegment(splitSegments(token)[0]))).toEqual({
      alg: 'HS256',
      typ: 'custom+jwt',
      kid: hs.kid,
    });
  });

  it('a token with extra claims verifies and the verifier returns exactly the signed claims', () => {
    const { token, claims } = signWith({ sub: 'u', sid: 's', client_id: 'c', roles: ['a'], ctx: { tenant: 't' } });
    expect(verifierFor(hs).verify(token)).toEqual(claims);
  });
});

describe('createAccessTokenSigner', () => {
  it('validates options once, at creation, with a TypeError naming the field', () => {
    expect(() => createAccessTokenSigner({ issuer: '', audience: 'api' })).toThrow(/issuer/);
    expect(() => createAccessTokenSigner({ issuer: 'https://i', audience: 'api', ttlSec: 59 })).toThrow(/ttlSec/);
  });

  it('signs the same tokens as signAccessToken, sync and on the threadpool, with any key passed per call', async () => {
    const { createAccessTokenVerifier } = await import('@tessera/core');
    const clock = () => 1_900_000_000;
    const signer = createAccessTokenSigner({ issuer: 'https://i', audience: ['a', 'b'], clock });
    for (const alg of ['ES256', 'EdDSA', 'HS256'] as const) {
      const key = await generateKey(alg);
      const verifier = createAccessTokenVerifier(key, { issuer: 'https://i', audience: 'b', clock });
      const sync = signer.sign({ sub: 'u', sid: 's' }, key);
      const threaded = await signer.signAsync({ sub: 'u', sid: 's' }, key);
      const reference = signAccessToken({ sub: 'u', sid: 's' }, key, {
        issuer: 'https://i',
        audience: ['a', 'b'],
        clock,
      });
      for (const { token, claims } of [sync, threaded]) {
        expect(verifier.verify(token)).toEqual(claims);
        expect({ ...claims, jti: 'x' }).toEqual({ ...reference.claims, jti: 'x' });
        expect(token.split('.')[0]).toBe(reference.token.split('.')[0]);
      }
    }
  });
});
