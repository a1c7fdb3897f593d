import { inspect } from 'node:util';
import { AuthError, createKeySet, exportPublicJwk, generateKey, type TesseraKey } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { b64json, defaultHeader, forge, splitSegments, thrownBy, validClaims, verifierFor } from './support/helpers.js';

/** Claim values and a kid chosen to be recognisable if they leak into an error. */
const SECRET_SUB = 'subject-value-that-must-not-leak';
const SECRET_ISS = 'https://issuer-value-that-must-not-leak.example';
const SECRET_AUD = 'audience-value-that-must-not-leak';
const SECRET_KID = 'kid-value-that-must-not-leak';

let es: TesseraKey;

beforeAll(async () => {
  es = await generateKey('ES256', { kid: 'es-leak' });
});

function leakyPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return validClaims({ sub: SECRET_SUB, ...overrides });
}

/** Every rendering of an error a log line or HTTP body might contain. */
function renderings(error: AuthError): string[] {
  return [
    error.message,
    String(error.detail),
    String(error.claim),
    String(error.stack),
    String(error),
    JSON.stringify(error),
    JSON.stringify(error.toJSON()),
    inspect(error, { depth: 10 }),
  ];
}

function expectNoLeak(token: string, error: unknown, extra: string[] = []): void {
  expect(error).toBeInstanceOf(AuthError);
  const [h, p, s] = token.split('.');
  const needles = [token, h, p, s, SECRET_SUB, ...extra].filter(
    (needle): needle is string => typeof needle === 'string' && needle.length >= 8,
  );
  for (const text of renderings(error as AuthError)) {
    for (const needle of needles) expect(text.includes(needle), `error rendering contains "${needle}"`).toBe(false);
  }
}

describe('AuthError renderings never contain the token, its segments or claim values', () => {
  const cases: [string, () => string, string[]?][] = [
    ['a bad signature', () => `${forge(es, { payload: leakyPayload() }).slice(0, -4)}AAAA`],
    [
      'a tampered payload',
      () => {
        const [h, , sig] = splitSegments(forge(es));
        return `${h}.${b64json(leakyPayload({ scope: 'admin' }))}.${sig}`;
      },
    ],
    ['malformed payload JSON', () => forge(es, { payload: `{"sub":"${SECRET_SUB}"` })],
    ['a duplicate member', () => forge(es, { payload: `{"sub":"${SECRET_SUB}","sub":"${SECRET_SUB}"}` })],
    ['an expired token', () => forge(es, { payload: leakyPayload({ exp: 1, iat: 0 }) })],
    ['a wrong issuer', () => forge(es, { payload: leakyPayload({ iss: SECRET_ISS }) }), [SECRET_ISS]],
    ['a wrong audience', () => forge(es, { payload: leakyPayload({ aud: [SECRET_AUD] }) }), [SECRET_AUD]],
    ['an invalid exp', () => forge(es, { payload: leakyPayload({ exp: `${SECRET_SUB}-exp` }) })],
    [
      'an unknown kid',
      () => forge(es, { header: defaultHeader(es, { kid: SECRET_KID }), payload: leakyPayload() }),
      [SECRET_KID],
    ],
    [
      'a kid with control characters',
      () => forge(es, { header: defaultHeader(es, { kid: `${SECRET_KID}\n` }) }),
      [SECRET_KID],
    ],
    ['an attacker jwk header', () => forge(es, { header: defaultHeader(es, { jwk: exportPublicJwk(es) }) })],
    ['an unknown header member', () => forge(es, { header: defaultHeader(es, { [SECRET_KID]: 1 }) }), [SECRET_KID]],
    ['alg none', () => `${b64json({ alg: 'none', typ: 'at+jwt' })}.${b64json(leakyPayload())}.AAAA`],
    ['a wrong typ', () => forge(es, { header: defaultHeader(es, { typ: SECRET_KID }) }), [SECRET_KID]],
    ['a too-large token', () => forge(es, { payload: leakyPayload({ pad: 'x'.repeat(9000) }) })],
    ['padding on the signature', () => `${forge(es, { payload: leakyPayload() })}=`],
    ['a missing claim', () => forge(es, { payload: leakyPayload({ jti: undefined }) })],
  ];

  for (const [name, make, extra] of cases) {
    it(`the AuthError for ${name} does not contain the token, its segments or claim values`, async () => {
      const token = make();
      const verifier = verifierFor(createKeySet([es]));
      expectNoLeak(
        token,
        thrownBy(() => verifier.verify(token)),
        extra,
      );
      let asyncError: unknown;
      await verifier.verifyAsync(token).catch((error: unknown) => {
        asyncError = error;
      });
      expectNoLeak(token, asyncError, extra);
    });
  }

  it('the public JSON body of an AuthError has exactly error, error_description and code', () => {
    const token = forge(es, { payload: leakyPayload({ exp: 1 }) });
    const error = thrownBy(() => verifierFor(es).verify(token)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(Object.keys(error.toJSON()).sort()).toEqual(['code', 'error', 'error_description']);
    expect(error.toJSON().code).toBe(error.code);
  });
});
