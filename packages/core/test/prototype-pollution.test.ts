import { randomBytes } from 'node:crypto';
import { AuthError, createKeySet, generateKey, importKey, signAccessToken, type TesseraKey } from '@tessera/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  defaultHeader,
  expectAuthError,
  forge,
  frozenClock,
  ISSUER,
  validClaims,
  verifierFor,
} from './support/helpers.js';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

let es: TesseraKey;

beforeAll(async () => {
  es = await generateKey('ES256', { kid: 'es-proto' });
});

afterEach(() => {
  // Nothing in these tests may leave a trace on Object.prototype.
  const probe: Record<string, unknown> = {};
  expect(probe.admin).toBeUndefined();
  expect(probe.polluted).toBeUndefined();
  expect(probe.iss).toBeUndefined();
});

function claimsOpen(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify(validClaims(overrides)).slice(0, -1);
}

describe('prototype member names as kid', () => {
  for (const kid of PROTOTYPE_NAMES) {
    it(`a token with kid "${kid}" is rejected with ERR_KEY_NOT_FOUND by a key set without that kid`, () => {
      const token = forge(es, { header: defaultHeader(es, { kid }) });
      expectAuthError(() => verifierFor(createKeySet([es])).verify(token), 'ERR_KEY_NOT_FOUND');
    });
  }

  for (const kid of ['__proto__', 'constructor']) {
    it(`a key whose kid is "${kid}" is found by that kid only, and its tokens verify`, () => {
      const special = importKey(randomBytes(32), { alg: 'HS256', kid });
      const set = createKeySet([es, special]);
      expect(set.get(kid)).toBe(special);
      expect(set.get('toString')).toBeUndefined();
      expect(verifierFor(set).verify(forge(special)).sub).toBe('user-1');
      expect(verifierFor(set).verify(forge(es)).sub).toBe('user-1');
    });
  }

  it('KeySet.get returns undefined for every prototype member name', () => {
    const set = createKeySet([es]);
    for (const name of PROTOTYPE_NAMES) expect(set.get(name)).toBeUndefined();
  });
});

describe('prototype member names in the payload', () => {
  it('a payload "__proto__" member does not become the prototype of the returned claims', () => {
    const payload = `${claimsOpen()},"__proto__":{"admin":true,"scope":"admin"}}`;
    const claims = verifierFor(es).verify(forge(es, { payload })) as Record<string, unknown>;
    expect(Object.getPrototypeOf(claims)).toBe(Object.prototype);
    expect(claims.admin).toBeUndefined();
    expect(claims.scope).toBeUndefined();
    expect(Object.hasOwn(claims, '__proto__')).toBe(true);
  });

  it('iss supplied only through a "__proto__" member does not satisfy iss (ERR_CLAIM_MISSING, claim iss)', () => {
    const base = JSON.stringify(validClaims({ iss: undefined })).slice(0, -1);
    const payload = `${base},"__proto__":{"iss":"${ISSUER}"}}`;
    expectAuthError(() => verifierFor(es).verify(forge(es, { payload })), 'ERR_CLAIM_MISSING', 'iss');
  });

  it('aud supplied only through a "__proto__" member does not satisfy aud (ERR_CLAIM_MISSING, claim aud)', () => {
    const base = JSON.stringify(validClaims({ aud: undefined })).slice(0, -1);
    const payload = `${base},"__proto__":{"aud":"${AUDIENCE}"}}`;
    expectAuthError(() => verifierFor(es).verify(forge(es, { payload })), 'ERR_CLAIM_MISSING', 'aud');
  });

  it('a payload "constructor": {"prototype": …} member is kept as plain data and pollutes nothing', () => {
    const payload = `${claimsOpen()},"constructor":{"prototype":{"polluted":true}}}`;
    const claims = verifierFor(es).verify(forge(es, { payload })) as Record<string, unknown>;
    expect(claims.constructor).toEqual({ prototype: { polluted: true } });
  });

  it('a payload "__proto__" member in a nested object does not change that object\'s prototype', () => {
    const payload = `${claimsOpen()},"ctx":{"__proto__":{"admin":true}}}`;
    const claims = verifierFor(es).verify(forge(es, { payload })) as Record<string, Record<string, unknown>>;
    expect(Object.getPrototypeOf(claims.ctx)).toBe(Object.prototype);
    expect(claims.ctx?.admin).toBeUndefined();
  });

  for (const claim of ['constructor', 'toString', '__proto__']) {
    it(`a required claim named "${claim}" that the token lacks is rejected with ERR_CLAIM_MISSING`, () => {
      const verifier = verifierFor(es, { requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', claim] });
      expectAuthError(() => verifier.verify(forge(es)), 'ERR_CLAIM_MISSING', claim);
    });
  }

  it('a cache indexed by a sub of "__proto__" evicts exactly that subject', () => {
    const verifier = verifierFor(es, { cache: true });
    verifier.verify(forge(es, { payload: validClaims({ sub: '__proto__' }) }));
    verifier.verify(forge(es, { payload: validClaims({ sub: 'constructor' }) }));
    expect(verifier.cache?.evict({ sub: '__proto__' })).toBe(1);
    expect(verifier.cache?.evict({ sub: 'toString' })).toBe(0);
    expect(verifier.cache?.size).toBe(1);
  });
});

describe('prototype member names when signing', () => {
  it('an own "__proto__" member in the signing input is refused with ERR_CLAIM_NOT_ALLOWED, at any depth', () => {
    // Refused rather than signed: a "__proto__" claim would either replace the prototype of the
    // returned claims or reach downstream code that merges claims into objects.
    for (const json of [
      '{"sub":"user-1","__proto__":{"admin":true}}',
      '{"sub":"user-1","ctx":{"__proto__":{"admin":true}}}',
    ]) {
      const input = JSON.parse(json) as { sub: string };
      let caught: unknown;
      try {
        signAccessToken(input, es, { issuer: ISSUER, audience: AUDIENCE, clock: frozenClock() });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AuthError);
      expect((caught as AuthError).code).toBe('ERR_CLAIM_NOT_ALLOWED');
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('a "constructor" claim is signed as a plain member and round-trips', () => {
    const { token } = signAccessToken({ sub: 'user-1', constructor: 'x' }, es, {
      issuer: ISSUER,
      audience: AUDIENCE,
      clock: frozenClock(),
    });
    expect((verifierFor(es).verify(token) as Record<string, unknown>).constructor).toBe('x');
  });
});
