import { generateKey, type TesseraKey } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, expectAuthError, forge, ISSUER, NOW, validClaims, verifierFor } from './support/helpers.js';

const KID = 'es-strict-json';
let key: TesseraKey;

beforeAll(async () => {
  key = await generateKey('ES256', { kid: KID });
});

/** The valid claims as JSON text without the closing brace, to splice members into. */
function claimsTextOpen(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify(validClaims(overrides)).slice(0, -1);
}

function headerText(): string {
  return JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: KID });
}

function verify(token: string) {
  return verifierFor(key).verify(token);
}

describe('payload and header must be JSON objects', () => {
  const notObjects: [string, string][] = [
    ['a JSON array', '[1,2,3]'],
    ['an array holding the claims', `[${JSON.stringify(validClaims())}]`],
    ['a JSON string', '"claims"'],
    ['a JSON number', '12345'],
    ['JSON null', 'null'],
    ['JSON true', 'true'],
    ['empty text', ''],
    ['not JSON at all', 'not json'],
    ['a truncated object', claimsTextOpen()],
    ['an object with a trailing comma', `${claimsTextOpen()},}`],
    ['an object with single-quoted names', "{'sub':'x'}"],
    ['an object with a comment', `${claimsTextOpen()}/* c */}`],
    ['an object followed by a second object', `${JSON.stringify(validClaims())}{}`],
    ['NaN as a value', `${claimsTextOpen()},"x":NaN}`],
  ];

  for (const [name, text] of notObjects) {
    it(`a payload that is ${name} is rejected with ERR_TOKEN_MALFORMED`, () => {
      expectAuthError(() => verify(forge(key, { payload: text })), 'ERR_TOKEN_MALFORMED');
    });
  }

  for (const [name, text] of [
    ['a JSON array', `[${headerText()}]`],
    ['a JSON string', '"ES256"'],
    ['a JSON number', '256'],
    ['JSON null', 'null'],
    ['not JSON', '{alg:ES256}'],
  ] as const) {
    it(`a header that is ${name} is rejected with ERR_TOKEN_MALFORMED`, () => {
      expectAuthError(() => verify(forge(key, { header: text })), 'ERR_TOKEN_MALFORMED');
    });
  }

  it('a payload starting with a UTF-8 byte order mark is rejected with ERR_TOKEN_MALFORMED', () => {
    expectAuthError(
      () => verify(forge(key, { payload: `\uFEFF${JSON.stringify(validClaims())}` })),
      'ERR_TOKEN_MALFORMED',
    );
  });
});

describe('duplicate member names', () => {
  it('a payload with a duplicate "sub", correctly signed, is rejected with ERR_TOKEN_MALFORMED', () => {
    const payload = `${claimsTextOpen()},"sub":"admin"}`;
    // The control: the same text without the duplicate, also off the canonical fast path, verifies.
    expect(verify(forge(key, { payload: `${claimsTextOpen()}, "scope":"admin"}` })).scope).toBe('admin');
    expectAuthError(() => verify(forge(key, { payload })), 'ERR_TOKEN_MALFORMED');
  });

  it('a payload with the same "sub" value repeated is rejected with ERR_TOKEN_MALFORMED', () => {
    expectAuthError(
      () => verify(forge(key, { payload: `${claimsTextOpen()},"sub":"user-1"}` })),
      'ERR_TOKEN_MALFORMED',
    );
  });

  it('a payload with a duplicate "iss" placed first is rejected with ERR_TOKEN_MALFORMED', () => {
    const payload = `{"iss":"https://evil.example",${claimsTextOpen().slice(1)}}`;
    expectAuthError(() => verify(forge(key, { payload })), 'ERR_TOKEN_MALFORMED');
  });

  it('a duplicate hidden by a JSON escape ("sub" and "\\u0073ub") is rejected with ERR_TOKEN_MALFORMED', () => {
    const payload = `${claimsTextOpen()},"\\u0073ub":"admin"}`;
    expectAuthError(() => verify(forge(key, { payload })), 'ERR_TOKEN_MALFORMED');
  });

  it('a duplicate where both spellings are escaped differently is rejected with ERR_TOKEN_MALFORMED', () => {
    const base = JSON.stringify(validClaims({ sub: undefined }));
    const payload = `${base.slice(0, -1)},"s\\u0075b":"a","\\u0073\\u0075\\u0062":"b"}`;
    expectAuthError(() => verify(forge(key, { payload })), 'ERR_TOKEN_MALFORMED');
  });

  it('an escaped member name without a duplicate ("\\u0073ub" alone) is accepted as "sub"', () => {
    const base = JSON.stringify(validClaims({ sub: undefined }));
    const payload = `${base.slice(0, -1)},"\\u0073ub":"escaped-user"}`;
    expect(verify(forge(key, { payload })).sub).toBe('escaped-user');
  });

  it('a duplicate "a/b" and "a\\/b" member is rejected with ERR_TOKEN_MALFORMED', () => {
    expectAuthError(
      () => verify(forge(key, { payload: `${claimsTextOpen()},"a/b":1,"a\\/b":2}` })),
      'ERR_TOKEN_MALFORMED',
    );
  });

  it('a duplicate inside a nested object is rejected with ERR_TOKEN_MALFORMED', () => {
    const payload = `${claimsTextOpen()},"ctx":{"role":"user","role":"admin"}}`;
    expectAuthError(() => verify(forge(key, { payload })), 'ERR_TOKEN_MALFORMED');
  });

  it('a duplicate inside an object inside an array is rejected with ERR_TOKEN_MALFORMED', () => {
    const payload = `${claimsTextOpen()},"list":[{"a":1},{"b":1,"b":2}]}`;
    expectAuthError(() => verify(forge(key, { payload })), 'ERR_TOKEN_MALFORMED');
  });

  it('the same member name in sibling nested objects is not a duplicate and verifies', () => {
    const payload = `${claimsTextOpen()},"x":{"role":"a"},"y":{"role":"b"},"list":[{"k":1},{"k":2}]}`;
    expect(verify(forge(key, { payload })).y).toEqual({ role: 'b' });
  });

  it('a nested member with the same name as a top-level claim is not a duplicate and verifies', () => {
    const payload = `${claimsTextOpen()},"ctx":{"sub":"other","iss":"x"}}`;
    expect(verify(forge(key, { payload })).sub).toBe('user-1');
  });

  it('a string value that looks like a duplicate member is not a duplicate and verifies', () => {
    const payload = `${claimsTextOpen()},"note":"\\",\\"sub\\":\\"admin"}`;
    const claims = verify(forge(key, { payload }));
    expect(claims.sub).toBe('user-1');
    expect(claims.note).toBe('","sub":"admin');
  });

  it('a duplicate "__proto__" member is rejected with ERR_TOKEN_MALFORMED', () => {
    expectAuthError(
      () => verify(forge(key, { payload: `${claimsTextOpen()},"__proto__":{},"__proto__":{}}` })),
      'ERR_TOKEN_MALFORMED',
    );
  });

  it('a header with a duplicate "alg" is rejected with ERR_TOKEN_MALFORMED', () => {
    const header = `{"alg":"ES256","alg":"ES256","typ":"at+jwt","kid":"${key.kid}"}`;
    expectAuthError(() => verify(forge(key, { header })), 'ERR_TOKEN_MALFORMED');
  });

  it('a header with "alg":"none" followed by "alg":"ES256" is rejected with ERR_TOKEN_MALFORMED', () => {
    const header = `{"alg":"none","typ":"at+jwt","kid":"${key.kid}","alg":"ES256"}`;
    expectAuthError(() => verify(forge(key, { header })), 'ERR_TOKEN_MALFORMED');
  });

  it('a header with a duplicate "kid" is rejected with ERR_TOKEN_MALFORMED', () => {
    const header = `{"alg":"ES256","typ":"at+jwt","kid":"other","kid":"${key.kid}"}`;
    expectAuthError(() => verify(forge(key, { header })), 'ERR_TOKEN_MALFORMED');
  });

  it('a header with a duplicate "typ" via an escape is rejected with ERR_TOKEN_MALFORMED', () => {
    const header = `{"alg":"ES256","typ":"JWT","kid":"${key.kid}","\\u0074yp":"at+jwt"}`;
    expectAuthError(() => verify(forge(key, { header })), 'ERR_TOKEN_MALFORMED');
  });
});

describe('non-canonical but valid JSON', () => {
  it('a pretty-printed payload and header, correctly signed, verify (RFC 8259 whitespace is legal)', () => {
    const claims = verify(
      forge(key, {
        header: JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid }, null, 2),
        payload: ` \n${JSON.stringify(validClaims(), null, 2)}\t\r\n`,
      }),
    );
    expect(claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE, exp: NOW + 600 });
  });

  it('a payload with integer-like member names (reordered by JSON.stringify) verifies', () => {
    const payload = `${claimsTextOpen()},"2":"b","1":"a"}`;
    expect(verify(forge(key, { payload }))).toMatchObject({ 1: 'a', 2: 'b' });
  });

  it('a payload with integer-like member names duplicated is rejected with ERR_TOKEN_MALFORMED', () => {
    expectAuthError(
      () => verify(forge(key, { payload: `${claimsTextOpen()},"1":"a","2":"b","1":"c"}` })),
      'ERR_TOKEN_MALFORMED',
    );
  });

  it('non-ASCII text and a literal U+FFFD in a claim value verify', () => {
    const claims = verify(forge(key, { payload: validClaims({ name: '名前 é \uFFFD' }) }));
    expect(claims.name).toBe('名前 é \uFFFD');
  });
});

describe('nesting depth', () => {
  it('a payload nested exactly to the default depth of 4 verifies', () => {
    const claims = verify(forge(key, { payload: validClaims({ a: { b: { c: { d: 1 } } } }) }));
    expect(claims.a).toEqual({ b: { c: { d: 1 } } });
  });

  it('a payload nested one level deeper than the default depth is rejected with ERR_TOKEN_MALFORMED', () => {
    expectAuthError(
      () => verify(forge(key, { payload: validClaims({ a: { b: { c: { d: { e: 1 } } } } }) })),
      'ERR_TOKEN_MALFORMED',
    );
  });

  it('a payload with arrays nested too deeply is rejected with ERR_TOKEN_MALFORMED', () => {
    expectAuthError(() => verify(forge(key, { payload: validClaims({ a: [[[[1]]]] }) })), 'ERR_TOKEN_MALFORMED');
  });

  it('a payload nested 2500 levels deep is rejected with ERR_TOKEN_MALFORMED, not a stack overflow', () => {
    const deep = `${claimsTextOpen()},"x":${'['.repeat(2500)}${']'.repeat(2500)}}`;
    expectAuthError(() => verify(forge(key, { payload: deep })), 'ERR_TOKEN_MALFORMED');
  });

  it('a payload nested too deeply off the fast path (with whitespace) is rejected with ERR_TOKEN_MALFORMED', () => {
    const payload = `${claimsTextOpen()}, "a": { "b": { "c": { "d": { "e": 1 } } } } }`;
    expectAuthError(() => verify(forge(key, { payload })), 'ERR_TOKEN_MALFORMED');
  });

  it('a header nested too deeply is rejected with ERR_TOKEN_MALFORMED', () => {
    const header = `{"alg":"ES256","typ":"at+jwt","kid":"${key.kid}","x":${'['.repeat(10)}${']'.repeat(10)}}`;
    expectAuthError(() => verify(forge(key, { header })), 'ERR_TOKEN_MALFORMED');
  });

  it('maxJsonDepth 2 rejects a payload that the default depth accepts', () => {
    const token = forge(key, { payload: validClaims({ a: { b: { c: 1 } } }) });
    expect(verify(token).sub).toBe('user-1');
    expectAuthError(() => verifierFor(key, { maxJsonDepth: 2 }).verify(token), 'ERR_TOKEN_MALFORMED');
  });
});

describe('UTF-8', () => {
  const json = JSON.stringify(validClaims({ name: 'XX' }));
  const at = json.indexOf('XX');
  const withBytes = (bytes: number[]) =>
    Buffer.concat([Buffer.from(json.slice(0, at)), Buffer.from(bytes), Buffer.from(json.slice(at + 2))]);

  const invalid: [string, number[]][] = [
    ['a lone 0xFF byte', [0xff]],
    ['a lone continuation byte', [0x80]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['an encoded UTF-16 surrogate', [0xed, 0xa0, 0x80]],
    ['a truncated three-byte sequence', [0xe2, 0x82]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ];
  for (const [name, bytes] of invalid) {
    it(`a payload containing ${name} is rejected with ERR_TOKEN_MALFORMED`, () => {
      expectAuthError(() => verify(forge(key, { payload: withBytes(bytes) })), 'ERR_TOKEN_MALFORMED');
    });
  }

  it('a header containing invalid UTF-8 is rejected with ERR_TOKEN_MALFORMED', () => {
    const header = Buffer.concat([
      Buffer.from(`{"alg":"ES256","typ":"at+jwt","kid":"${key.kid}","x":"`),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    expectAuthError(() => verify(forge(key, { header })), 'ERR_TOKEN_MALFORMED');
  });

  it('a payload with a valid four-byte UTF-8 sequence verifies', () => {
    expect(verify(forge(key, { payload: withBytes([0xf0, 0x9f, 0x94, 0x91]) })).name).toBe('\u{1F511}');
  });
});
