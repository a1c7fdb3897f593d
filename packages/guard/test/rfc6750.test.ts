import { AuthError, type TesseraKey } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard, GuardError, toResponse } from '../src/index.js';
import { AUDIENCE, ISSUER, newKey, sign } from './support/fixtures.js';

let key: TesseraKey;
let other: TesseraKey;
let guard: Guard;
let formGuard: Guard;

beforeAll(async () => {
  key = await newKey('k1');
  other = await newKey('k1');
  guard = createGuard({ issuer: ISSUER, audience: AUDIENCE, keys: key, realm: 'api' });
  formGuard = createGuard({ issuer: ISSUER, audience: AUDIENCE, keys: key, realm: 'api', allowFormBody: true });
});

async function respond(g: Guard, request: Parameters<Guard['authenticate']>[0], scopes?: string[]) {
  try {
    await g.authenticate(request, scopes === undefined ? undefined : { scopes });
    return undefined;
  } catch (error) {
    return g.toResponse(error);
  }
}

const FORM = 'application/x-www-form-urlencoded';

describe('RFC 6750: no credentials', () => {
  for (const [name, headers] of [
    ['no Authorization header', {}],
    ['an empty Authorization header', { authorization: '' }],
    ['another scheme (Basic)', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['another scheme (Digest)', { authorization: 'Digest username="x"' }],
  ] as const) {
    it(`${name} → 401, challenge without error, body without error`, async () => {
      const res = await respond(guard, { headers });
      expect(res).toEqual({
        status: 401,
        headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer realm="api"' },
        body: { error_description: 'Authentication is required', code: 'ERR_UNAUTHENTICATED' },
      });
    });
  }

  it('a query-string access_token is never read', async () => {
    const res = await respond(guard, { headers: {}, url: `/x?access_token=${sign(key)}` } as never);
    expect(res?.status).toBe(401);
    expect(res?.body).not.toHaveProperty('error');
  });

  it('a form-body access_token is ignored unless allowFormBody is set', async () => {
    const res = await respond(guard, {
      headers: { 'content-type': FORM },
      method: 'POST',
      body: { access_token: sign(key) },
    });
    expect(res?.status).toBe(401);
    expect(res?.body.code).toBe('ERR_UNAUTHENTICATED');
  });
});

describe('RFC 6750: invalid_request (400)', () => {
  const malformed = {
    status: 400,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'www-authenticate':
        'Bearer realm="api", error="invalid_request", error_description="The token is not a well-formed compact JWS"',
    },
    body: {
      error: 'invalid_request',
      error_description: 'The token is not a well-formed compact JWS',
      code: 'ERR_TOKEN_MALFORMED',
    },
  };
  for (const value of [
    'Bearer',
    'Bearer ',
    'Bearer  abc',
    'Bearer a b',
    'Bearer abc,def',
    'Bearer\tabc',
    'Bearer ab"c',
  ]) {
    it(`malformed header ${JSON.stringify(value)}`, async () => {
      expect(await respond(guard, { headers: { authorization: value } })).toEqual(malformed);
    });
  }

  it('a malformed token (not a compact JWS)', async () => {
    expect(await respond(guard, { headers: { authorization: 'Bearer abc.def' } })).toEqual(malformed);
  });

  it('two Authorization headers (array form, Headers-style merge, Node headersDistinct)', async () => {
    const t = sign(key);
    expect((await respond(guard, { headers: { authorization: [`Bearer ${t}`, `Bearer ${t}`] } }))?.status).toBe(400);
    const merged = new Headers();
    merged.append('authorization', `Bearer ${t}`);
    merged.append('authorization', `Bearer ${t}`);
    expect(await respond(guard, { headers: merged })).toEqual(malformed);
    const node = {
      headers: { authorization: `Bearer ${t}` },
      headersDistinct: { authorization: [`Bearer ${t}`, 'Bearer x'] },
    };
    expect(await respond(guard, node)).toEqual(malformed);
  });

  it('Authorization header and form body access_token together', async () => {
    const t = sign(key);
    const res = await respond(formGuard, {
      headers: { authorization: `Bearer ${t}`, 'content-type': FORM },
      method: 'POST',
      body: { access_token: t },
    });
    expect(res).toEqual(malformed);
  });

  it('a repeated form access_token, or one on GET', async () => {
    const t = sign(key);
    const repeated = await respond(formGuard, {
      headers: { 'content-type': FORM },
      method: 'POST',
      body: { access_token: [t, t] },
    });
    expect(repeated?.status).toBe(400);
    const onGet = await respond(formGuard, {
      headers: { 'content-type': FORM },
      method: 'GET',
      body: { access_token: t },
    });
    expect(onGet?.body.code).toBe('ERR_TOKEN_MALFORMED');
  });
});

describe('RFC 6750: accepted credentials', () => {
  it('the scheme name is case-insensitive', async () => {
    const t = sign(key);
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const claims = await guard.authenticate({ headers: { authorization: `${scheme} ${t}` } });
      expect(claims.sub).toBe('user-1');
    }
  });

  it('reads Fetch Headers, plain objects and anything with get()', async () => {
    const t = sign(key);
    await expect(guard.authenticate({ headers: new Headers({ Authorization: `Bearer ${t}` }) })).resolves.toMatchObject(
      { sub: 'user-1' },
    );
    await expect(guard.authenticate({ headers: { authorization: `Bearer ${t}` } })).resolves.toMatchObject({
      sub: 'user-1',
    });
    const map = new Map([['authorization', `Bearer ${t}`]]);
    await expect(guard.authenticate({ headers: { get: (n: string) => map.get(n) } })).resolves.toMatchObject({
      sub: 'user-1',
    });
  });

  it('the form-body access_token when enabled (RFC 6750 2.2)', async () => {
    const claims = await formGuard.authenticate({
      headers: { 'content-type': `${FORM}; charset=utf-8` },
      method: 'POST',
      body: { access_token: sign(key) },
    });
    expect(claims.sub).toBe('user-1');
  });

  it('a Basic header plus a form token is one bearer method, not two', async () => {
    const claims = await formGuard.authenticate({
      headers: { authorization: 'Basic dXNlcjpwYXNz', 'content-type': FORM },
      method: 'POST',
      body: { access_token: sign(key) },
    });
    expect(claims.sub).toBe('user-1');
  });
});

describe('RFC 6750: invalid_token (401)', () => {
  function expected(description: string, code: string) {
    return {
      status: 401,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'www-authenticate': `Bearer realm="api", error="invalid_token", error_description="${description}"`,
      },
      body: { error: 'invalid_token', error_description: description, code },
    };
  }

  it('a bad signature', async () => {
    const res = await respond(guard, { headers: { authorization: `Bearer ${sign(other)}` } });
    expect(res).toEqual(expected('The token signature is invalid', 'ERR_SIGNATURE_INVALID'));
  });

  it('an expired token', async () => {
    const clock = () => Math.floor(Date.now() / 1000) + 3600;
    const later = createGuard({ issuer: ISSUER, audience: AUDIENCE, keys: key, realm: 'api', clock });
    const res = await respond(later, { headers: { authorization: `Bearer ${sign(key, {}, { ttlSec: 60 })}` } });
    expect(res).toEqual(expected('The token has expired', 'ERR_TOKEN_EXPIRED'));
  });

  it('another audience or issuer', async () => {
    const aud = await respond(guard, { headers: { authorization: `Bearer ${sign(key, {}, { audience: 'other' })}` } });
    expect(aud).toEqual(expected('A claim has an invalid value: aud', 'ERR_CLAIM_INVALID'));
    const iss = await respond(guard, {
      headers: { authorization: `Bearer ${sign(key, {}, { issuer: 'https://evil' })}` },
    });
    expect(iss).toEqual(expected('A claim has an invalid value: iss', 'ERR_CLAIM_INVALID'));
  });

  it('an unknown kid', async () => {
    const stranger = await newKey('k2');
    const res = await respond(guard, { headers: { authorization: `Bearer ${sign(stranger)}` } });
    expect(res).toEqual(expected('No key matches the token', 'ERR_KEY_NOT_FOUND'));
  });
});

describe('RFC 6750: insufficient_scope (403)', () => {
  it('lists the required scopes in the challenge', async () => {
    const t = sign(key, { scope: 'read' });
    const res = await respond(guard, { headers: { authorization: `Bearer ${t}` } }, ['read', 'write']);
    expect(res).toEqual({
      status: 403,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'www-authenticate':
          'Bearer realm="api", error="insufficient_scope", error_description="The token lacks the required scope", scope="read write"',
      },
      body: {
        error: 'insufficient_scope',
        error_description: 'The token lacks the required scope',
        code: 'ERR_INSUFFICIENT_SCOPE',
      },
    });
  });

  it('scopes are whole space-delimited tokens; requiredScopes apply to every request', async () => {
    const g = createGuard({ issuer: ISSUER, audience: AUDIENCE, keys: key, requiredScopes: ['read'] });
    await expect(
      g.authenticate({ headers: { authorization: `Bearer ${sign(key, { scope: 'reader write' })}` } }),
    ).rejects.toMatchObject({ code: 'ERR_INSUFFICIENT_SCOPE' });
    await expect(
      g.authenticate({ headers: { authorization: `Bearer ${sign(key, { scope: 'write read' })}` } }),
    ).resolves.toMatchObject({ sub: 'user-1' });
    const noScope = sign(key, { scope: undefined });
    await expect(g.authenticate({ headers: { authorization: `Bearer ${noScope}` } })).rejects.toMatchObject({
      code: 'ERR_INSUFFICIENT_SCOPE',
    });
    // Route scopes add to requiredScopes.
    await expect(
      g.authenticate({ headers: { authorization: `Bearer ${sign(key, { scope: 'write' })}` } }, { scopes: ['write'] }),
    ).rejects.toMatchObject({ code: 'ERR_INSUFFICIENT_SCOPE' });
  });
});

describe('toResponse', () => {
  it('uses the default realm "tessera" and maps non-AuthErrors to a 500 without details', () => {
    expect(toResponse(new GuardError('ERR_UNAUTHENTICATED', { noCredentials: true })).headers['www-authenticate']).toBe(
      'Bearer realm="tessera"',
    );
    const internal = toResponse(new Error('secret detail'));
    expect(internal).toEqual({
      status: 500,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: { error: 'server_error', error_description: 'Internal server error', code: 'ERR_INTERNAL' },
    });
  });

  it('503 errors carry Retry-After and no challenge', () => {
    const res = toResponse(new GuardError('ERR_REVOCATION_STALE', { retryAfterSec: 5 }));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'Revocation status is not current; the request is refused until it is',
      code: 'ERR_REVOCATION_STALE',
    });
  });

  it('a plain AuthError of invalid_token also gets a challenge', () => {
    expect(toResponse(new AuthError('ERR_TOKEN_REVOKED')).headers['www-authenticate']).toBe(
      'Bearer realm="tessera", error="invalid_token", error_description="The token has been revoked"',
    );
  });
});
