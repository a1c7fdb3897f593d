import {
  createAccessTokenVerifier,
  exportPublicJwk,
  generateKey,
  type KeyResolver,
  type TesseraKey,
  type VerifyOptions,
  verifyAccessToken,
} from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, expectAuthError, expectTypeError, forge, frozenClock, ISSUER } from './support/helpers.js';

let key: TesseraKey;

beforeAll(async () => {
  key = await generateKey('ES256');
});

function create(overrides: Record<string, unknown>) {
  return createAccessTokenVerifier(key, {
    issuer: ISSUER,
    audience: AUDIENCE,
    clock: frozenClock(),
    ...overrides,
  } as VerifyOptions);
}

const invalid: [string, unknown[]][] = [
  ['clockToleranceSec', [301, -1, 1.5, '30', Number.NaN, Number.POSITIVE_INFINITY]],
  ['issuer', ['', [], [''], undefined, 1, null, [ISSUER, 2]]],
  ['audience', [[], '', undefined, [''], 5, null]],
  ['algorithms', [['none'], [], 'ES256', ['RS512'], ['ES256', 'none'], ['es256'], null]],
  ['maxTokenBytes', [10, 255, 65_537, 1.5, '8192', 0]],
  ['maxJsonDepth', [0, 33, 2.5, -1]],
  ['maxTokenAgeSec', [0, -1, 1.5, 31_536_001]],
  ['typ', ['', 1, 'x'.repeat(65)]],
  ['requiredClaims', ['sub', [''], [1], {}]],
  ['clock', ['now', 1_750_000_000, {}]],
  ['cache', ['yes', 1]],
];

describe('verifier options are validated when the verifier is built', () => {
  for (const [field, values] of invalid) {
    for (const value of values) {
      it(`${field}: ${JSON.stringify(value) ?? String(value)} throws a TypeError naming ${field}`, () => {
        expectTypeError(() => create({ [field]: value }), field);
      });
    }
  }

  it('cache options with maxEntries 0 throw a TypeError naming maxEntries', () => {
    expectTypeError(() => create({ cache: { maxEntries: 0 } }), 'maxEntries');
  });

  it('cache options with maxAgeSec 86401 throw a TypeError naming maxAgeSec', () => {
    expectTypeError(() => create({ cache: { maxAgeSec: 86_401 } }), 'maxAgeSec');
  });

  it('options that are not an object throw a TypeError', () => {
    for (const options of [null, undefined, 'options', 1]) {
      expectTypeError(() => createAccessTokenVerifier(key, options as unknown as VerifyOptions));
    }
  });

  it('keys that are not a KeySet, TesseraKey or function throw a TypeError naming keys', () => {
    for (const keys of [null, undefined, {}, key.verifyKey, exportPublicJwk(key), [key], 'key']) {
      expectTypeError(
        () => createAccessTokenVerifier(keys as unknown as KeyResolver, { issuer: ISSUER, audience: AUDIENCE }),
        'keys',
      );
    }
  });

  it('the one-shot verifyAccessToken validates options the same way (issuer "" throws naming issuer)', () => {
    expectTypeError(() => verifyAccessToken(forge(key), key, { issuer: '', audience: AUDIENCE }), 'issuer');
  });
});

describe('boundary values that are accepted', () => {
  const valid: [string, unknown][] = [
    ['clockToleranceSec', 0],
    ['clockToleranceSec', 300],
    ['maxTokenBytes', 65_536],
    ['maxJsonDepth', 1],
    ['maxJsonDepth', 32],
    ['maxTokenAgeSec', 1],
    ['maxTokenAgeSec', 31_536_000],
    ['typ', null],
    ['algorithms', ['ES256']],
    ['issuer', [ISSUER, 'https://other.example']],
    ['cache', false],
    ['cache', true],
    ['cache', { maxEntries: 1, maxAgeSec: 1 }],
  ];
  for (const [field, value] of valid) {
    it(`${field}: ${JSON.stringify(value)} builds a verifier that verifies a valid token`, () => {
      expect(create({ [field]: value }).verify(forge(key)).sub).toBe('user-1');
    });
  }
});

describe('smallest size limit', () => {
  it('maxTokenBytes 256 is accepted and rejects a longer valid token with ERR_TOKEN_TOO_LARGE', () => {
    const token = forge(key);
    expect(token.length).toBeGreaterThan(256);
    expectAuthError(() => create({ maxTokenBytes: 256 }).verify(token), 'ERR_TOKEN_TOO_LARGE');
  });
});

describe('resolver kinds', () => {
  it('the synchronous verify refuses an async resolver with a TypeError while verifyAsync accepts it', async () => {
    const verifier = createAccessTokenVerifier(async () => key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      clock: frozenClock(),
    });
    expectTypeError(() => verifier.verify(forge(key)), 'verifyAsync');
    await expect(verifier.verifyAsync(forge(key))).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('the verifier object is frozen', () => {
    expect(Object.isFrozen(create({}))).toBe(true);
  });
});
