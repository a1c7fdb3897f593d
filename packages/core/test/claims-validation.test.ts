import { generateKey, type TesseraKey } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  expectAuthError,
  expectAuthErrorAsync,
  forge,
  ISSUER,
  NOW,
  validClaims,
  verifierFor,
} from './support/helpers.js';

let key: TesseraKey;

beforeAll(async () => {
  key = await generateKey('EdDSA', { kid: 'ed-claims' });
});

function tokenWith(overrides: Record<string, unknown>): string {
  return forge(key, { payload: validClaims(overrides) });
}

/** Claims as JSON text with one member's value spelled exactly as `raw`. */
function tokenWithRaw(claim: string, raw: string): string {
  const text = JSON.stringify(validClaims({ [claim]: '__RAW__' })).replace('"__RAW__"', raw);
  return forge(key, { payload: text });
}

describe('NumericDate claims', () => {
  const badValues: [string, string][] = [
    ['1e309 (parsed as Infinity)', '1e309'],
    ['-1e309', '-1e309'],
    ['a numeric string "9999999999"', '"9999999999"'],
    ['negative', '-1'],
    ['fractional', `${NOW + 600}.5`],
    ['2^53 (not a safe integer)', '9007199254740992'],
    ['true', 'true'],
    ['null', 'null'],
    ['an array', `[${NOW + 600}]`],
    ['an object', '{}'],
  ];

  for (const [name, raw] of badValues) {
    it(`exp that is ${name} is rejected with ERR_CLAIM_INVALID (claim exp)`, async () => {
      const token = tokenWithRaw('exp', raw);
      expectAuthError(() => verifierFor(key).verify(token), 'ERR_CLAIM_INVALID', 'exp');
      await expectAuthErrorAsync(() => verifierFor(key).verifyAsync(token), 'ERR_CLAIM_INVALID', 'exp');
    });
  }

  for (const claim of ['iat', 'nbf', 'auth_time']) {
    for (const [name, raw] of [
      ['fractional', `${NOW - 10}.25`],
      ['negative', '-5'],
      ['a numeric string', `"${NOW}"`],
      ['1e309', '1e309'],
    ] as const) {
      it(`${claim} that is ${name} is rejected with ERR_CLAIM_INVALID (claim ${claim})`, () => {
        expectAuthError(() => verifierFor(key).verify(tokenWithRaw(claim, raw)), 'ERR_CLAIM_INVALID', claim);
      });
    }
  }

  it('exp written in exponent notation with an integral value is read as that NumericDate', () => {
    const claims = verifierFor(key).verify(tokenWithRaw('exp', '1.7500006e9'));
    expect(claims.exp).toBe(NOW + 600);
  });
});

describe('expiry, not-before and issued-at against a frozen clock', () => {
  it('a token whose exp is 100 s in the past is rejected with ERR_TOKEN_EXPIRED', () => {
    expectAuthError(() => verifierFor(key).verify(tokenWith({ exp: NOW - 100, iat: NOW - 700 })), 'ERR_TOKEN_EXPIRED');
  });

  it('a token is rejected with ERR_TOKEN_EXPIRED exactly at exp when the tolerance is 0', () => {
    expectAuthError(
      () => verifierFor(key, { clockToleranceSec: 0 }).verify(tokenWith({ exp: NOW })),
      'ERR_TOKEN_EXPIRED',
    );
  });

  it('a token is accepted one second before exp when the tolerance is 0', () => {
    expect(verifierFor(key, { clockToleranceSec: 0 }).verify(tokenWith({ exp: NOW + 1 })).exp).toBe(NOW + 1);
  });

  it('an expired token within the default 30 s tolerance is accepted and at 30 s past exp is rejected', () => {
    expect(verifierFor(key).verify(tokenWith({ exp: NOW - 29 })).exp).toBe(NOW - 29);
    expectAuthError(() => verifierFor(key).verify(tokenWith({ exp: NOW - 30 })), 'ERR_TOKEN_EXPIRED');
  });

  it('advancing the frozen clock to exp turns an accepted token into ERR_TOKEN_EXPIRED (tolerance 0)', async () => {
    const verifier = verifierFor(key, { clockToleranceSec: 0 });
    const token = tokenWith({});
    verifier.clock.set(NOW + 599);
    expect(verifier.verify(token).sub).toBe('user-1');
    verifier.clock.set(NOW + 600);
    expectAuthError(() => verifier.verify(token), 'ERR_TOKEN_EXPIRED');
    await expectAuthErrorAsync(() => verifier.verifyAsync(token), 'ERR_TOKEN_EXPIRED');
  });

  it('a token with nbf beyond the tolerance is rejected with ERR_TOKEN_NOT_YET_VALID', async () => {
    const token = tokenWith({ nbf: NOW + 31 });
    expectAuthError(() => verifierFor(key).verify(token), 'ERR_TOKEN_NOT_YET_VALID');
    await expectAuthErrorAsync(() => verifierFor(key).verifyAsync(token), 'ERR_TOKEN_NOT_YET_VALID');
  });

  it('a token with nbf exactly at the tolerance edge is accepted', () => {
    expect(verifierFor(key).verify(tokenWith({ nbf: NOW + 30 })).nbf).toBe(NOW + 30);
  });

  it('a token with nbf 1 s in the future is rejected with ERR_TOKEN_NOT_YET_VALID when the tolerance is 0', () => {
    expectAuthError(
      () => verifierFor(key, { clockToleranceSec: 0 }).verify(tokenWith({ nbf: NOW + 1 })),
      'ERR_TOKEN_NOT_YET_VALID',
    );
  });

  it('a token with iat in the future beyond the tolerance is rejected with ERR_CLAIM_INVALID (claim iat)', () => {
    expectAuthError(() => verifierFor(key).verify(tokenWith({ iat: NOW + 31 })), 'ERR_CLAIM_INVALID', 'iat');
    expect(verifierFor(key).verify(tokenWith({ iat: NOW + 30 })).iat).toBe(NOW + 30);
  });

  it('a token older than maxTokenAgeSec (plus tolerance) is rejected with ERR_TOKEN_TOO_OLD', async () => {
    const verifier = verifierFor(key, { maxTokenAgeSec: 300 });
    const token = tokenWith({ iat: NOW - 331 });
    expectAuthError(() => verifier.verify(token), 'ERR_TOKEN_TOO_OLD');
    await expectAuthErrorAsync(() => verifier.verifyAsync(token), 'ERR_TOKEN_TOO_OLD');
    expect(verifier.verify(tokenWith({ iat: NOW - 330 })).iat).toBe(NOW - 330);
  });

  it('maxTokenAgeSec with a token lacking iat (iat not otherwise required) is rejected with ERR_CLAIM_MISSING (claim iat)', () => {
    const verifier = verifierFor(key, { maxTokenAgeSec: 300, requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'] });
    expect(verifierFor(key, { requiredClaims: ['exp'] }).verify(tokenWith({ iat: undefined })).sub).toBe('user-1');
    expectAuthError(() => verifier.verify(tokenWith({ iat: undefined })), 'ERR_CLAIM_MISSING', 'iat');
  });
});

describe('required claims', () => {
  for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti']) {
    it(`a token without ${claim} is rejected with ERR_CLAIM_MISSING (claim ${claim})`, async () => {
      const token = tokenWith({ [claim]: undefined });
      expectAuthError(() => verifierFor(key).verify(token), 'ERR_CLAIM_MISSING', claim);
      await expectAuthErrorAsync(() => verifierFor(key).verifyAsync(token), 'ERR_CLAIM_MISSING', claim);
    });
  }

  it('a configured extra required claim that is absent is rejected with ERR_CLAIM_MISSING naming it', () => {
    const verifier = verifierFor(key, { requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'] });
    expectAuthError(() => verifier.verify(tokenWith({})), 'ERR_CLAIM_MISSING', 'client_id');
    expect(verifier.verify(tokenWith({ client_id: 'c1' })).client_id).toBe('c1');
  });

  it('exp stays mandatory with an empty requiredClaims list (ERR_CLAIM_MISSING, claim exp)', () => {
    expectAuthError(
      () => verifierFor(key, { requiredClaims: [] }).verify(tokenWith({ exp: undefined })),
      'ERR_CLAIM_MISSING',
      'exp',
    );
  });

  it('iss and aud stay mandatory with an empty requiredClaims list', () => {
    const verifier = verifierFor(key, { requiredClaims: [] });
    expectAuthError(() => verifier.verify(tokenWith({ iss: undefined })), 'ERR_CLAIM_MISSING', 'iss');
    expectAuthError(() => verifier.verify(tokenWith({ aud: undefined })), 'ERR_CLAIM_MISSING', 'aud');
  });
});

describe('issuer', () => {
  for (const [name, iss] of [
    ['another issuer', 'https://evil.example'],
    ['the issuer with a trailing slash', `${ISSUER}/`],
    ['the issuer in upper case', ISSUER.toUpperCase()],
    ['the issuer with a path suffix', `${ISSUER}.evil.example`],
    ['a number', 42],
    ['null', null],
    ['an array holding the issuer', [ISSUER]],
    ['an empty string', ''],
  ] as const) {
    it(`iss that is ${name} is rejected with ERR_CLAIM_INVALID (claim iss)`, () => {
      expectAuthError(() => verifierFor(key).verify(tokenWith({ iss })), 'ERR_CLAIM_INVALID', 'iss');
    });
  }

  it('a token of any configured issuer is accepted', () => {
    const verifier = verifierFor(key, { issuer: ['https://a.example', ISSUER] });
    expect(verifier.verify(tokenWith({})).iss).toBe(ISSUER);
    expect(verifier.verify(tokenWith({ iss: 'https://a.example' })).iss).toBe('https://a.example');
  });
});

describe('audience', () => {
  for (const [name, aud] of [
    ['another audience string', 'api://other'],
    ['a prefix-extended audience', `${AUDIENCE}-evil`],
    ['an array without our audience', ['api://a', 'api://b']],
    ['an empty array', []],
    ['an array with a number beside our audience', [AUDIENCE, 1]],
    ['an array with null', [null]],
    ['an array holding an array', [[AUDIENCE]]],
    ['a number', 7],
    ['an object', { aud: AUDIENCE }],
    ['null', null],
    ['an empty string', ''],
  ] as const) {
    it(`aud that is ${name} is rejected with ERR_CLAIM_INVALID (claim aud)`, () => {
      expectAuthError(() => verifierFor(key).verify(tokenWith({ aud })), 'ERR_CLAIM_INVALID', 'aud');
    });
  }

  it('an aud array that contains our audience is accepted', () => {
    expect(verifierFor(key).verify(tokenWith({ aud: ['api://x', AUDIENCE] })).aud).toEqual(['api://x', AUDIENCE]);
  });

  it('a verifier with several audiences accepts any of them and rejects others with ERR_CLAIM_INVALID', () => {
    const verifier = verifierFor(key, { audience: ['api://one', 'api://two'] });
    expect(verifier.verify(tokenWith({ aud: 'api://two' })).aud).toBe('api://two');
    expectAuthError(() => verifier.verify(tokenWith({})), 'ERR_CLAIM_INVALID', 'aud');
  });
});

describe('string claims', () => {
  for (const claim of ['sub', 'jti', 'sid', 'client_id', 'scope']) {
    for (const [name, value] of [
      ['a number', 1],
      ['an empty string', ''],
      ['an object', { id: 'x' }],
      ['an array', ['x']],
      ['1025 characters long', 'x'.repeat(1025)],
    ] as const) {
      it(`${claim} that is ${name} is rejected with ERR_CLAIM_INVALID (claim ${claim})`, () => {
        expectAuthError(() => verifierFor(key).verify(tokenWith({ [claim]: value })), 'ERR_CLAIM_INVALID', claim);
      });
    }
  }

  it('string claims of exactly 1024 characters are accepted', () => {
    const long = 'x'.repeat(1024);
    expect(verifierFor(key).verify(tokenWith({ sub: long, scope: long })).sub).toBe(long);
  });
});
