import { sign } from 'node:crypto';
import {
  type Algorithm,
  AuthError,
  exportPublicJwk,
  generateKey,
  importKey,
  type JwtHeader,
  type TesseraKey,
} from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  b64json,
  defaultHeader,
  expectAuthErrorAsync,
  forge,
  NOW,
  splitSegments,
  thrownBy,
  validClaims,
  verifierFor,
} from './support/helpers.js';

const ASYMMETRIC = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;

const keys = new Map<Algorithm, TesseraKey>();
const impostors = new Map<Algorithm, TesseraKey>();

beforeAll(async () => {
  const [es, ed, rs, es2, ed2, rs2] = await Promise.all([
    generateKey('ES256', { kid: 'k' }),
    generateKey('EdDSA', { kid: 'k' }),
    generateKey('RS256', { kid: 'k' }),
    generateKey('ES256', { kid: 'k' }),
    generateKey('EdDSA', { kid: 'k' }),
    generateKey('RS256', { kid: 'k' }),
  ]);
  if (rs.signKey === undefined || rs2.signKey === undefined) throw new Error('RSA key cannot sign');
  keys.set('ES256', es);
  keys.set('EdDSA', ed);
  keys.set('RS256', rs);
  keys.set('PS256', importKey(rs.signKey, { alg: 'PS256', kid: 'k' }));
  impostors.set('ES256', es2);
  impostors.set('EdDSA', ed2);
  impostors.set('RS256', rs2);
  impostors.set('PS256', importKey(rs2.signKey, { alg: 'PS256', kid: 'k' }));
});

function keyFor(alg: Algorithm): TesseraKey {
  return keys.get(alg) as TesseraKey;
}

/** Token variants: name → how to make it from the key. */
const variants: [string, (key: TesseraKey, alg: Algorithm) => unknown][] = [
  ['a valid token', (key) => forge(key)],
  [
    'a tampered payload',
    (key) => {
      const [h, , s] = splitSegments(forge(key));
      return `${h}.${b64json(validClaims({ sub: 'admin' }))}.${s}`;
    },
  ],
  ['a token signed by an impostor with the same kid', (_key, alg) => forge(impostors.get(alg) as TesseraKey)],
  ['a truncated signature', (key) => forge(key).slice(0, -4)],
  [
    'an all-zero signature',
    (key) => {
      const [h, p, s] = splitSegments(forge(key));
      return `${h}.${p}.${Buffer.alloc(Buffer.from(s, 'base64url').length).toString('base64url')}`;
    },
  ],
  ['an expired token', (key) => forge(key, { payload: validClaims({ exp: NOW - 100, iat: NOW - 700 }) })],
  ['a future nbf', (key) => forge(key, { payload: validClaims({ nbf: NOW + 3600 }) })],
  ['a wrong audience', (key) => forge(key, { payload: validClaims({ aud: 'api://other' }) })],
  ['a wrong issuer', (key) => forge(key, { payload: validClaims({ iss: 'https://evil.example' }) })],
  ['a missing jti', (key) => forge(key, { payload: validClaims({ jti: undefined }) })],
  ['a fractional exp', (key) => forge(key, { payload: validClaims({ exp: NOW + 0.5 }) })],
  [
    'a duplicate payload member',
    (key) => forge(key, { payload: `${JSON.stringify(validClaims()).slice(0, -1)},"sub":"x"}` }),
  ],
  ['alg none', () => `${b64json({ alg: 'none', typ: 'at+jwt' })}.${b64json(validClaims())}.AAAA`],
  ['a header jwk', (key) => forge(key, { header: defaultHeader(key, { jwk: exportPublicJwk(key) }) })],
  ['typ JWT', (key) => forge(key, { header: defaultHeader(key, { typ: 'JWT' }) })],
  ['an unknown kid', (key) => forge(key, { header: defaultHeader(key, { kid: 'unknown' }) })],
  ['an HS256 header', (key) => forge(key, { header: defaultHeader(key, { alg: 'HS256' }) })],
  ['a padded signature', (key) => `${forge(key)}=`],
  ['a two-segment token', (key) => forge(key).split('.').slice(0, 2).join('.')],
  ['a number', () => 42],
];

function outcome(run: () => unknown): string {
  try {
    const claims = run() as Record<string, unknown>;
    return `ok:${JSON.stringify(claims)}`;
  } catch (error) {
    return error instanceof AuthError ? `AuthError:${error.code}:${error.claim ?? ''}` : `other:${String(error)}`;
  }
}

async function outcomeAsync(run: () => Promise<unknown>): Promise<string> {
  try {
    const claims = (await run()) as Record<string, unknown>;
    return `ok:${JSON.stringify(claims)}`;
  } catch (error) {
    return error instanceof AuthError ? `AuthError:${error.code}:${error.claim ?? ''}` : `other:${String(error)}`;
  }
}

describe('verifyAsync gives the same result as verify', () => {
  for (const alg of ASYMMETRIC) {
    for (const [name, make] of variants) {
      it(`${alg}: ${name} gets the same result from verifyAsync as from verify`, async () => {
        const key = keyFor(alg);
        const token = make(key, alg);
        const verifier = verifierFor(key);
        const sync = outcome(() => verifier.verify(token));
        const async = await outcomeAsync(() => verifier.verifyAsync(token));
        expect(async).toBe(sync);
        expect(sync.startsWith('other:'), sync).toBe(false);
        if (name === 'a valid token') expect(sync.startsWith('ok:')).toBe(true);
        else expect(sync.startsWith('AuthError:'), `${name} must be rejected`).toBe(true);
      });
    }
  }

  it('ES256: a DER-encoded signature is rejected with ERR_SIGNATURE_INVALID by verifyAsync', async () => {
    const key = keyFor('ES256');
    const [h, p] = splitSegments(forge(key));
    const der = sign('sha256', Buffer.from(`${h}.${p}`), key.signKey as NonNullable<TesseraKey['signKey']>);
    await expectAuthErrorAsync(
      () => verifierFor(key).verifyAsync(`${h}.${p}.${der.toString('base64url')}`),
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('verifyAsync never throws synchronously: a non-string token yields a rejected promise', async () => {
    const verifier = verifierFor(keyFor('ES256'));
    let promise: Promise<unknown> | undefined;
    expect(
      thrownBy(() => {
        promise = verifier.verifyAsync(undefined);
      }),
    ).toBeUndefined();
    await expectAuthErrorAsync(() => promise as Promise<unknown>, 'ERR_TOKEN_MALFORMED');
  });
});

describe('concurrency', () => {
  for (const alg of ASYMMETRIC) {
    it(`64 concurrent verifyAsync calls of distinct ${alg} tokens all succeed with their own claims`, async () => {
      const key = keyFor(alg);
      const verifier = verifierFor(key);
      const tokens = Array.from({ length: 64 }, (_, i) => forge(key, { payload: validClaims({ sub: `user-${i}` }) }));
      const results = await Promise.all(tokens.map((token) => verifier.verifyAsync(token)));
      expect(results.map((claims) => claims.sub)).toEqual(tokens.map((_, i) => `user-${i}`));
    });
  }

  it('64 concurrent verifyAsync calls mixing valid and tampered ES256 tokens each settle correctly', async () => {
    const key = keyFor('ES256');
    const verifier = verifierFor(key);
    const tokens = Array.from({ length: 64 }, (_, i) => {
      const token = forge(key, { payload: validClaims({ sub: `user-${i}` }) });
      return i % 2 === 0 ? token : `${token.slice(0, -3)}AAA`;
    });
    const results = await Promise.allSettled(tokens.map((token) => verifier.verifyAsync(token)));
    results.forEach((result, i) => {
      if (i % 2 === 0) expect(result).toMatchObject({ status: 'fulfilled', value: { sub: `user-${i}` } });
      else expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ERR_SIGNATURE_INVALID' } });
    });
  });
});

describe('async resolvers and the clock', () => {
  it('an async resolver returning the key verifies, and returning undefined gives ERR_KEY_NOT_FOUND', async () => {
    const key = keyFor('EdDSA');
    await expect(verifierFor(async () => key).verifyAsync(forge(key))).resolves.toMatchObject({ sub: 'user-1' });
    await expectAuthErrorAsync(() => verifierFor(async () => undefined).verifyAsync(forge(key)), 'ERR_KEY_NOT_FOUND');
  });

  it('an async resolver returning a key of another algorithm gives ERR_ALG_NOT_ALLOWED', async () => {
    const ed = keyFor('EdDSA');
    await expectAuthErrorAsync(
      () => verifierFor(async () => ed).verifyAsync(forge(keyFor('ES256'))),
      'ERR_ALG_NOT_ALLOWED',
    );
  });

  it('verifyAsync checks expiry against the clock read after the key and signature work', async () => {
    const key = keyFor('ES256');
    const token = forge(key, { payload: validClaims({ exp: NOW + 10 }) });
    let verifier: ReturnType<typeof verifierFor> | undefined;
    const resolver = async (_header: JwtHeader) => {
      verifier?.clock.set(NOW + 10);
      return key;
    };
    verifier = verifierFor(resolver, { clockToleranceSec: 0 });
    await expectAuthErrorAsync(
      () => (verifier as ReturnType<typeof verifierFor>).verifyAsync(token),
      'ERR_TOKEN_EXPIRED',
    );
  });
});
