/**
 * Hostile and broken input on every endpoint. Each request gets a 4xx with the documented body
 * (`{error, error_description, code}`, or `{error_description, code}` for missing credentials),
 * never a 500, a stack trace or an internal message, and writes nothing: every table is
 * fingerprinted before and after each request.
 */

import { ERROR_TABLE, type ErrorCode, generateKey, signAccessToken } from '@tessera/core';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectBearerError, expectDocumented4xx, expectError, expectNoCredentials } from './support/expect-error.js';
import {
  claimsOf,
  cookieValue,
  dbFingerprint,
  type Harness,
  logIn,
  PASSWORD,
  refreshWith,
  rowCounts,
  signUp,
  startHarness,
  whoami,
} from './support/harness.js';

type Injected = Awaited<ReturnType<Harness['server']['app']['inject']>>;
interface Case {
  readonly name: string;
  readonly request: () => InjectOptions;
  readonly check: (res: Injected) => void;
}

let h: Harness;
let access: string;
let refresh: string;
/** A second live session of the same user, the target of DELETE cases. */
let otherSid: string;

beforeAll(async () => {
  h = await startHarness();
  const login = await signUp(h);
  access = login.accessToken;
  refresh = login.refreshToken;
  otherSid = claimsOf((await logIn(h)).accessToken).sid;
});
afterAll(async () => {
  await h.close();
});

/** Runs one request and checks the response and that nothing was written. */
async function run(c: Case): Promise<void> {
  const before = dbFingerprint(h);
  const res = await h.server.app.inject(c.request());
  c.check(res);
  expect(res.statusCode).not.toBe(500);
  expectDocumented4xx(res);
  expect(dbFingerprint(h), 'nothing was written').toBe(before);
  // The server runs in this process: a `__proto__` member must not have polluted anything.
  expect(({} as Record<string, unknown>).admin).toBeUndefined();
}

const err =
  (code: ErrorCode, status?: number) =>
  (res: Injected): void =>
    expectError(res, code, status);

const json = (url: string, body: string, extra: Record<string, string> = {}, method: 'POST' = 'POST') => ({
  method,
  url,
  payload: body,
  headers: { 'content-type': 'application/json', ...extra },
});

// ---------------------------------------------------------------------------------------------
// JSON endpoints: register, login, password change.

interface JsonEndpoint {
  readonly url: string;
  readonly valid: () => Record<string, string>;
  /** The field limits: which code an oversized value gets. */
  readonly oversized: () => { name: string; body: Record<string, string>; code: ErrorCode }[];
  readonly headers: () => Record<string, string>;
}

const EMAIL_255 = `${'a'.repeat(243)}@example.com`;
const JSON_ENDPOINTS: JsonEndpoint[] = [
  {
    url: '/auth/register',
    valid: () => ({ email: 'mallory@example.com', password: 'a perfectly fine passphrase' }),
    oversized: () => [
      {
        name: 'email > 254',
        body: { email: EMAIL_255, password: 'a perfectly fine passphrase' },
        code: 'ERR_VALIDATION',
      },
      {
        name: 'password > 1024',
        body: { email: 'mallory@example.com', password: 'x'.repeat(1025) },
        code: 'ERR_PASSWORD_POLICY',
      },
      {
        name: 'password > 4096',
        body: { email: 'mallory@example.com', password: 'x'.repeat(5000) },
        code: 'ERR_VALIDATION',
      },
    ],
    headers: () => ({}),
  },
  {
    url: '/auth/login',
    valid: () => ({ email: 'alice@example.com', password: PASSWORD }),
    oversized: () => [
      { name: 'email > 254', body: { email: EMAIL_255, password: PASSWORD }, code: 'ERR_VALIDATION' },
      {
        name: 'password > 1024',
        body: { email: 'alice@example.com', password: 'x'.repeat(1025) },
        code: 'ERR_VALIDATION',
      },
    ],
    headers: () => ({}),
  },
  {
    url: '/auth/password',
    valid: () => ({ current_password: PASSWORD, new_password: 'a brand new passphrase' }),
    oversized: () => [
      {
        name: 'current_password > 1024',
        body: { current_password: 'x'.repeat(1025), new_password: 'a brand new passphrase' },
        code: 'ERR_VALIDATION',
      },
      {
        name: 'new_password > 1024',
        body: { current_password: PASSWORD, new_password: 'x'.repeat(1025) },
        code: 'ERR_PASSWORD_POLICY',
      },
    ],
    headers: () => ({ authorization: `Bearer ${access}` }),
  },
];

const WRONG_TYPES: [string, unknown][] = [
  ['a number', 123],
  ['a float', 1.5],
  ['a boolean', true],
  ['null', null],
  ['an array', []],
  ['an array of strings', ['alice@example.com']],
  ['an object', {}],
  ['an object with a string', { value: 'x' }],
];

const NOT_JSON = [
  '{bad',
  "{'email':'x'}",
  'email=a&password=b',
  '{"email":"a@b.cd",}',
  'NaN',
  '\u0000',
  '{"a":1}{"b":2}',
];
const NOT_OBJECTS = ['[]', '"a string"', '123', 'true', 'null', '[{"email":"alice@example.com"}]'];

function nested(depth: number, leaf: string): string {
  return `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
}

function jsonCases(e: JsonEndpoint): Case[] {
  const v = e.valid();
  const fields = Object.keys(v);
  // Bodies are built when the case runs: tokens only exist after beforeAll.
  const send =
    (body: string | (() => string), headers: Record<string, string> = {}) =>
    () =>
      json(e.url, typeof body === 'string' ? body : body(), { ...e.headers(), ...headers });
  const cases: Case[] = [];
  for (const f of fields) {
    const { [f]: _dropped, ...rest } = v;
    cases.push({ name: `missing ${f}`, request: send(JSON.stringify(rest)), check: err('ERR_VALIDATION') });
    for (const [what, value] of WRONG_TYPES) {
      cases.push({
        name: `${f} is ${what}`,
        request: send(JSON.stringify({ ...v, [f]: value })),
        check: err('ERR_VALIDATION'),
      });
    }
    cases.push({
      name: `${f} nested 50 deep`,
      request: send(JSON.stringify({ ...v, [f]: JSON.parse(nested(50, '"x"')) })),
      check: err('ERR_VALIDATION'),
    });
  }
  cases.push(
    { name: 'an empty object', request: send('{}'), check: err('ERR_VALIDATION') },
    {
      name: 'no body at all',
      request: () => ({ method: 'POST', url: e.url, headers: e.headers() }),
      check: err('ERR_VALIDATION'),
    },
    { name: 'an empty JSON body', request: send(''), check: err('ERR_VALIDATION') },
    { name: 'an extra field', request: send(JSON.stringify({ ...v, role: 'admin' })), check: err('ERR_VALIDATION') },
    {
      name: 'an extra refresh_token field',
      request: send(() => JSON.stringify({ ...v, refresh_token: refresh })),
      check: err('ERR_VALIDATION'),
    },
    {
      name: 'a __proto__ member',
      request: send(`{"__proto__":{"admin":true},${JSON.stringify(v).slice(1)}`),
      check: err('ERR_VALIDATION'),
    },
    {
      name: 'a constructor member',
      request: send(`{"constructor":{"prototype":{"admin":true}},${JSON.stringify(v).slice(1)}`),
      check: err('ERR_VALIDATION'),
    },
    {
      name: 'a nested __proto__ member',
      request: send(
        JSON.stringify({ ...v, [fields[0] as string]: 'x' }).replace('"x"', '{"__proto__":{"admin":true}}'),
      ),
      check: err('ERR_VALIDATION'),
    },
    { name: 'deeply nested JSON (2000 levels)', request: send(nested(2000, '1')), check: err('ERR_VALIDATION') },
    {
      name: 'deeply nested arrays (5000 levels)',
      request: send(`${'['.repeat(5000)}${']'.repeat(5000)}`),
      check: err('ERR_VALIDATION'),
    },
    {
      name: 'a body over 16 KiB',
      request: send(JSON.stringify({ ...v, [fields[0] as string]: 'x'.repeat(17_000) })),
      check: err('ERR_BODY_TOO_LARGE'),
    },
    {
      name: 'a body over 16 KiB that is not JSON',
      request: send('x'.repeat(20_000)),
      check: err('ERR_BODY_TOO_LARGE'),
    },
    {
      name: 'a Content-Length over the limit',
      request: send('{}', { 'content-length': '100000' }),
      check: err('ERR_BODY_TOO_LARGE'),
    },
  );
  for (const body of NOT_JSON)
    cases.push({ name: `not JSON: ${JSON.stringify(body)}`, request: send(body), check: err('ERR_VALIDATION') });
  for (const body of NOT_OBJECTS)
    cases.push({ name: `JSON but not an object: ${body}`, request: send(body), check: err('ERR_VALIDATION') });
  for (const o of e.oversized())
    cases.push({ name: `oversized: ${o.name}`, request: send(JSON.stringify(o.body)), check: err(o.code) });
  const valid = JSON.stringify(v);
  const form = new URLSearchParams(v).toString();
  for (const [ct, body] of [
    ['application/x-www-form-urlencoded', form],
    ['text/plain', valid],
    ['text/plain; charset=utf-8', valid],
    ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nx\r\n--x--`],
    ['application/xml', '<email>alice@example.com</email>'],
    ['application/jsonx', valid],
    ['application/merge-patch+json', valid],
    ['application/json, text/plain', valid],
  ] as const) {
    cases.push({
      name: `Content-Type ${ct}`,
      request: send(body, { 'content-type': ct }),
      check: err('ERR_UNSUPPORTED_MEDIA_TYPE'),
    });
  }
  cases.push({
    name: 'a body without a Content-Type',
    request: () => ({ method: 'POST', url: e.url, payload: valid, headers: { ...e.headers(), 'content-type': '' } }),
    check: err('ERR_UNSUPPORTED_MEDIA_TYPE'),
  });
  return cases;
}

for (const endpoint of JSON_ENDPOINTS) {
  describe(`POST ${endpoint.url} refuses bad bodies`, () => {
    it.each(jsonCases(endpoint).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      await run(c);
    });
  });
}

it('(control) the base body of every case above is accepted as it is', async () => {
  // Without this, a case could pass only because its base body was wrong to begin with.
  const fresh = await startHarness();
  try {
    const login = await signUp(fresh);
    const [register, loginEndpoint, password] = JSON_ENDPOINTS as [JsonEndpoint, JsonEndpoint, JsonEndpoint];
    const post = (e: JsonEndpoint, headers: Record<string, string> = {}) =>
      fresh.server.app.inject({ method: 'POST', url: e.url, payload: e.valid(), headers });
    expect((await post(register)).statusCode).toBe(202);
    expect((await post(loginEndpoint)).statusCode).toBe(200);
    expect((await post(password, { authorization: `Bearer ${login.accessToken}` })).statusCode).toBe(204);
  } finally {
    await fresh.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Endpoints without a body: refresh (cookie), logout (cookie + optional bearer), logout-all.

const BODYLESS = [
  { url: '/auth/refresh', headers: () => ({ cookie: `__Secure-tessera_rt=${refresh}` }) },
  {
    url: '/auth/logout',
    headers: () => ({ cookie: `__Secure-tessera_rt=${refresh}`, authorization: `Bearer ${access}` }),
  },
  { url: '/auth/logout-all', headers: () => ({ authorization: `Bearer ${access}` }) },
];

for (const endpoint of BODYLESS) {
  describe(`POST ${endpoint.url} takes no body and refuses one, acting on nothing`, () => {
    const send =
      (body: string, ct = 'application/json') =>
      () => ({
        method: 'POST' as const,
        url: endpoint.url,
        payload: body,
        headers: { ...endpoint.headers(), 'content-type': ct },
      });
    const cases: Case[] = [
      { name: 'an extra field', request: send('{"x":1}'), check: err('ERR_VALIDATION') },
      {
        name: 'a refresh_token field',
        request: send(JSON.stringify({ refresh_token: 'trt_x' })),
        check: err('ERR_VALIDATION'),
      },
      // On the cookie-reading endpoints a form or text/plain body is what a cross-site form sends:
      // the CSRF layer refuses it before the body is even parsed.
      {
        name: 'a form field',
        request: send('x=1', 'application/x-www-form-urlencoded'),
        check: err(CSRF_URLS.has(endpoint.url) ? 'ERR_CSRF' : 'ERR_VALIDATION'),
      },
      { name: 'a __proto__ member', request: send('{"__proto__":{"admin":true}}'), check: err('ERR_VALIDATION') },
      { name: 'not JSON', request: send('{bad'), check: err('ERR_VALIDATION') },
      { name: 'a JSON array', request: send('[]'), check: err('ERR_VALIDATION') },
      { name: 'a JSON string', request: send('"x"'), check: err('ERR_VALIDATION') },
      { name: 'deeply nested JSON', request: send(nested(2000, '1')), check: err('ERR_VALIDATION') },
      {
        name: 'a body over 16 KiB',
        request: send(JSON.stringify({ x: 'x'.repeat(17_000) })),
        check: err('ERR_BODY_TOO_LARGE'),
      },
      {
        name: 'text/plain',
        request: send('hello', 'text/plain'),
        check: err(CSRF_URLS.has(endpoint.url) ? 'ERR_CSRF' : 'ERR_UNSUPPORTED_MEDIA_TYPE'),
      },
      { name: 'application/xml', request: send('<x/>', 'application/xml'), check: err('ERR_UNSUPPORTED_MEDIA_TYPE') },
    ];
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      await run(c);
    });
  });
}

/** Endpoints that read the refresh cookie and so sit behind the CSRF layers. */
const CSRF_URLS: ReadonlySet<string> = new Set(['/auth/refresh', '/auth/logout']);

describe('endpoints without a body accept an absent, empty or {} body', () => {
  it.each([
    ['no body', undefined, undefined],
    ['an empty JSON body', '', 'application/json'],
    ['{}', '{}', 'application/json'],
  ])('refresh and logout with %s', async (_name, payload, ct) => {
    const login = await logIn(h);
    const headers = {
      cookie: `__Secure-tessera_rt=${login.refreshToken}`,
      ...(ct === undefined ? {} : { 'content-type': ct }),
    };
    const refreshed = await h.server.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      headers,
      ...(payload === undefined ? {} : { payload }),
    });
    expect(refreshed.statusCode).toBe(200);
    const next = cookieValue(String(refreshed.headers['set-cookie']));
    const out = await h.server.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { ...headers, cookie: `__Secure-tessera_rt=${next}` },
      ...(payload === undefined ? {} : { payload }),
    });
    expect(out.statusCode).toBe(204);
    expectError(await refreshWith(h, next), 'ERR_REFRESH_REVOKED');
  });
});

// ---------------------------------------------------------------------------------------------
// Bearer endpoints: every malformed Authorization header, with an otherwise valid request.

const BEARER_ENDPOINTS = [
  { name: 'GET /auth/whoami', request: () => ({ method: 'GET' as const, url: '/auth/whoami' }) },
  { name: 'GET /auth/sessions', request: () => ({ method: 'GET' as const, url: '/auth/sessions' }) },
  {
    name: 'DELETE /auth/sessions/:id',
    request: () => ({ method: 'DELETE' as const, url: `/auth/sessions/${otherSid}` }),
  },
  { name: 'POST /auth/logout-all', request: () => ({ method: 'POST' as const, url: '/auth/logout-all' }) },
  {
    name: 'POST /auth/password',
    request: () => ({
      method: 'POST' as const,
      url: '/auth/password',
      payload: { current_password: PASSWORD, new_password: 'a brand new passphrase' },
    }),
  },
];

/** Authorization headers that are not exactly `Bearer <token>`: 400 invalid_request. */
const MALFORMED_AUTHORIZATION: [string, () => string][] = [
  ['Bearer with no token', () => 'Bearer'],
  ['Bearer and a space', () => 'Bearer '],
  ['two tokens', () => `Bearer ${access} ${access}`],
  ['two comma-separated credentials', () => `Bearer ${access}, Bearer ${access}`],
  ['lowercase bearer with no token', () => 'bearer'],
  ['two spaces before a valid token', () => `Bearer  ${access}`],
  ['a tab before a valid token', () => `Bearer\t${access}`],
  ['a garbage token', () => 'Bearer garbage'],
  ['a token with two segments', () => `Bearer ${access.split('.').slice(0, 2).join('.')}`],
  ['a token with four segments', () => `Bearer ${access}.x`],

  ['the refresh token as a bearer token', () => `Bearer ${refresh}`],
];

let forgedSameKid: string;
let unknownKid: string;
let wrongIssuer: string;
beforeAll(async () => {
  const current = h.server.context.keys.current;
  const claims = {
    sub: claimsOf(access).sub,
    sid: claimsOf(access).sid,
    client_id: 'tessera-web',
    scope: 'openid profile',
  };
  const opts = { issuer: 'http://localhost:8080', audience: 'tessera-api', clock: h.clock };
  forgedSameKid = signAccessToken(claims, await generateKey(current.alg, { kid: current.kid }), opts).token;
  unknownKid = signAccessToken(claims, await generateKey(current.alg), opts).token;
  wrongIssuer = signAccessToken(claims, current, { ...opts, issuer: 'https://evil.example' }).token;
});

/** Well-formed bearer tokens that fail verification: 401 invalid_token. */
const INVALID_TOKENS: [string, () => string, ErrorCode][] = [
  ['a token signed by another key with the real kid', () => forgedSameKid, 'ERR_SIGNATURE_INVALID'],
  ['a token with an unknown kid', () => unknownKid, 'ERR_KEY_NOT_FOUND'],
  ['a validly signed token for another issuer', () => wrongIssuer, 'ERR_CLAIM_INVALID'],
  [
    'an alg:none token',
    () => `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${access.split('.')[1]}.`,
    'ERR_TOKEN_MALFORMED',
  ],
];

for (const endpoint of BEARER_ENDPOINTS) {
  describe(`${endpoint.name} refuses bad Authorization headers`, () => {
    it('without an Authorization header: 401 with exactly `Bearer realm="tessera"` and no error attribute', async () => {
      await run({ name: 'missing', request: endpoint.request, check: expectNoCredentials });
    });
    it('with an empty Authorization header: the same as none', async () => {
      await run({
        name: 'empty',
        request: () => ({ ...endpoint.request(), headers: { authorization: '' } }),
        check: expectNoCredentials,
      });
    });
    it.each([
      ['Basic credentials', 'Basic YWxpY2VAZXhhbXBsZS5jb206cGFzc3dvcmQ='],
      ['another scheme with a token', 'Token abc.def.ghi'],
    ])('%s: no bearer credentials (RFC 6750 3.1), 401 with the bare challenge', async (_name, header) => {
      await run({
        name: _name,
        request: () => ({ ...endpoint.request(), headers: { authorization: header } }),
        check: expectNoCredentials,
      });
    });
    it.each(MALFORMED_AUTHORIZATION)('%s: 400 invalid_request with a challenge', async (_name, header) => {
      await run({
        name: _name,
        request: () => ({ ...endpoint.request(), headers: { authorization: header() } }),
        check: (res) => expectBearerError(res, 'ERR_TOKEN_MALFORMED'),
      });
    });
    it('a 10 KB token: 400 invalid_request (too large) with a challenge', async () => {
      await run({
        name: '10 KB',
        request: () => ({
          ...endpoint.request(),
          headers: { authorization: `Bearer ${'a'.repeat(5000)}.${'b'.repeat(5000)}.c` },
        }),
        check: (res) => expectBearerError(res, 'ERR_TOKEN_TOO_LARGE'),
      });
    });
    it.each(INVALID_TOKENS)('%s: 401 invalid_token with a challenge', async (_name, token, code) => {
      await run({
        name: _name,
        request: () => ({ ...endpoint.request(), headers: { authorization: `Bearer ${token()}` } }),
        check: (res) => {
          expect(res.statusCode).toBe(ERROR_TABLE[code].status);
          expectBearerError(res, code);
        },
      });
    });
  });
}

describe('POST /auth/logout ignores a bad Authorization header and still answers 204', () => {
  it.each(MALFORMED_AUTHORIZATION.slice(0, 6))('%s, no cookie: 204, nothing revoked', async (_name, header) => {
    const before = dbFingerprint(h);
    const res = await h.server.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { authorization: header() },
    });
    expect(res.statusCode).toBe(204);
    expect(dbFingerprint(h)).toBe(before);
    expect((await whoami(h, access)).statusCode).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// DELETE /auth/sessions/:id with ids that are not the user's sessions.

describe('DELETE /auth/sessions/:id refuses ids that are not one of the user’s sessions', () => {
  const ids: [string, () => string][] = [
    ['a short garbage id', () => 'xyz'],
    ['an unknown well-formed id', () => `ses_${'A'.repeat(22)}`],
    ['a path traversal', () => '..%2F..%2Fusers'],
    ['a 2,000-character id', () => `ses_${'A'.repeat(2000)}`],
    ['an id with a NUL byte', () => `${otherSid}%00`],
    ['an id with a newline', () => `${otherSid}%0A`],
    ['an upper-cased real id', () => otherSid.toUpperCase()],
    ['a SQL injection', () => encodeURIComponent(`${otherSid}' OR '1'='1`)],
  ];
  it.each(ids)('%s: 404 ERR_NOT_FOUND', async (_name, id) => {
    await run({
      name: _name,
      request: () => ({
        method: 'DELETE',
        url: `/auth/sessions/${id()}`,
        headers: { authorization: `Bearer ${access}` },
      }),
      check: err('ERR_NOT_FOUND'),
    });
  });
  it('a malformed percent-encoding in the path: 400 ERR_VALIDATION in the documented format', async () => {
    await run({
      name: 'bad url',
      request: () => ({
        method: 'DELETE',
        url: '/auth/sessions/%E0%A4%A',
        headers: { authorization: `Bearer ${access}` },
      }),
      check: err('ERR_VALIDATION'),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// POST /oauth/token (RFC 6749): form only, errors in the section 5.2 format with status 400.

describe('POST /oauth/token refuses bad requests', () => {
  const FORM = 'application/x-www-form-urlencoded';
  // Bodies are built when the case runs: tokens only exist after beforeAll.
  const form =
    (body: () => string, ct: string = FORM) =>
    () => ({
      method: 'POST' as const,
      url: '/oauth/token',
      payload: body(),
      headers: { 'content-type': ct },
    });
  const valid = () => `grant_type=refresh_token&refresh_token=${refresh}`;
  const cases: Case[] = [
    {
      name: 'a JSON body with valid fields: 415',
      request: () => json('/oauth/token', JSON.stringify({ grant_type: 'refresh_token', refresh_token: refresh })),
      check: err('ERR_UNSUPPORTED_MEDIA_TYPE'),
    },
    {
      name: 'a malformed JSON body: 415',
      request: () => json('/oauth/token', '{bad'),
      check: err('ERR_UNSUPPORTED_MEDIA_TYPE'),
    },
    { name: 'text/plain: 415', request: form(() => valid(), 'text/plain'), check: err('ERR_UNSUPPORTED_MEDIA_TYPE') },
    {
      name: 'no Content-Type: 415',
      request: () => ({ method: 'POST', url: '/oauth/token', payload: valid(), headers: { 'content-type': '' } }),
      check: err('ERR_UNSUPPORTED_MEDIA_TYPE'),
    },
    {
      name: 'no body at all: 415',
      request: () => ({ method: 'POST', url: '/oauth/token' }),
      check: err('ERR_UNSUPPORTED_MEDIA_TYPE'),
    },
    { name: 'missing grant_type', request: form(() => `refresh_token=${refresh}`), check: err('ERR_VALIDATION') },
    {
      name: 'empty grant_type',
      request: form(() => `grant_type=&refresh_token=${refresh}`),
      check: err('ERR_VALIDATION'),
    },
    { name: 'an empty form', request: form(() => ''), check: err('ERR_VALIDATION') },
    { name: 'missing refresh_token', request: form(() => 'grant_type=refresh_token'), check: err('ERR_VALIDATION') },
    {
      name: 'empty refresh_token',
      request: form(() => 'grant_type=refresh_token&refresh_token='),
      check: err('ERR_VALIDATION'),
    },
    {
      name: 'duplicate grant_type',
      request: form(() => `${valid()}&grant_type=refresh_token`),
      check: err('ERR_VALIDATION'),
    },
    {
      name: 'duplicate refresh_token (the same valid token twice)',
      request: form(() => `${valid()}&refresh_token=${refresh}`),
      check: err('ERR_VALIDATION'),
    },
    {
      name: 'a garbage refresh_token',
      request: form(() => 'grant_type=refresh_token&refresh_token=abc'),
      check: err('ERR_REFRESH_INVALID', 400),
    },
    {
      name: 'an unknown well-formed refresh_token',
      request: form(() => `grant_type=refresh_token&refresh_token=trt_${'A'.repeat(43)}`),
      check: err('ERR_REFRESH_INVALID', 400),
    },
    {
      name: 'the access token as refresh_token',
      request: form(() => `grant_type=refresh_token&refresh_token=${access}`),
      check: err('ERR_REFRESH_INVALID', 400),
    },
    {
      name: 'a scope beyond the grant (checked before the token is used)',
      request: form(() => `${valid()}&scope=openid%20admin`),
      check: err('ERR_VALIDATION'),
    },
    {
      name: 'a __proto__ parameter',
      request: form(() => '__proto__=x&grant_type=refresh_token&refresh_token=abc'),
      check: err('ERR_REFRESH_INVALID', 400),
    },
    {
      name: 'a body over 16 KiB',
      request: form(() => `${valid()}&pad=${'x'.repeat(17_000)}`),
      check: err('ERR_BODY_TOO_LARGE'),
    },
  ];
  for (const grant of [
    'password',
    'client_credentials',
    'authorization_code',
    'urn:ietf:params:oauth:grant-type:jwt-bearer',
    'REFRESH_TOKEN',
    'refresh_token ',
    'refresh_token%00',
  ]) {
    cases.push({
      name: `grant_type=${grant}: unsupported_grant_type`,
      request: form(() => `grant_type=${grant}&refresh_token=${refresh}&username=alice%40example.com&password=x`),
      check: (res) => {
        expectError(res, 'ERR_UNSUPPORTED_GRANT_TYPE');
        expect(res.json().error).toBe('unsupported_grant_type');
      },
    });
  }
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await run(c);
  });
});

// ---------------------------------------------------------------------------------------------
// Unknown routes and methods.

describe('a CORS preflight from no or a foreign origin is refused', () => {
  it.each([
    ['no Origin', {}],
    ['a foreign Origin', { origin: 'https://evil.example', 'access-control-request-method': 'POST' }],
  ])('OPTIONS /auth/login with %s: 403 ERR_CSRF without CORS headers', async (_name, headers) => {
    const res = await h.server.app.inject({ method: 'OPTIONS', url: '/auth/login', headers });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('ERR_CSRF');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('unknown routes answer 404 ERR_NOT_FOUND in JSON', () => {
  const routes: [string, string][] = [
    ['GET', '/nope'],
    ['POST', '/auth/nope'],
    ['GET', '/auth/login'],
    ['PUT', '/auth/login'],
    ['DELETE', '/auth/whoami'],
    ['PATCH', '/oauth/token'],
    ['GET', '/oauth/token'],
    ['GET', '/auth/login/'],
    ['GET', '/AUTH/WHOAMI'],
    ['GET', '/auth/sessions/'],
    ['POST', '/auth%2Flogin'],
    ['GET', `/${'a'.repeat(5000)}`],
    ['GET', '/.well-known/jwks.json/../../../etc/passwd'],
  ];
  it.each([
    ['a form', 'application/x-www-form-urlencoded', 'grant_type=refresh_token&a=1&a=2'],
    ['malformed JSON', 'application/json', '{bad'],
    ['a JSON array', 'application/json', '[]'],
    ['text', 'text/plain', 'hello'],
  ])('POST to an unknown route with %s is still a 404', async (_name, ct, payload) => {
    await run({
      name: _name,
      request: () => ({ method: 'POST', url: '/auth/nope', payload, headers: { 'content-type': ct } }),
      check: err('ERR_NOT_FOUND'),
    });
  });
  it.each(routes)('%s %s', async (method, url) => {
    await run({
      name: url,
      request: () => ({
        method: method as InjectOptions['method'],
        url,
        headers: { authorization: `Bearer ${access}` },
      }),
      check: err('ERR_NOT_FOUND'),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Random input: whatever arrives, a documented 4xx and no write.

describe('random input never gets a 5xx or an undocumented body', () => {
  const printable = fc.stringMatching(/^[\x20-\x7e]{0,200}$/);

  it.each(['/auth/register', '/auth/login', '/auth/password', '/auth/refresh', '/auth/logout-all'])(
    'random JSON to %s',
    async (url) => {
      const before = rowCounts(h);
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.json(), printable), async (body) => {
          const res = await h.server.app.inject({
            method: 'POST',
            url,
            payload: body,
            headers: { 'content-type': 'application/json' },
          });
          expectDocumented4xx(res);
        }),
        { numRuns: 150 },
      );
      expect(rowCounts(h)).toEqual(before);
    },
  );

  it('random forms to /oauth/token', async () => {
    const before = dbFingerprint(h);
    const param = fc.oneof(
      fc.constantFrom('grant_type', 'refresh_token', 'scope', '__proto__', 'constructor'),
      printable,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(param, printable), { maxLength: 6 }), async (pairs) => {
        const payload = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const res = await h.server.app.inject({
          method: 'POST',
          url: '/oauth/token',
          payload,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        expectDocumented4xx(res);
      }),
      { numRuns: 200 },
    );
    expect(dbFingerprint(h)).toBe(before);
  });

  it('random Authorization headers to /auth/whoami', async () => {
    const before = dbFingerprint(h);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          printable,
          printable.map((s) => `Bearer ${s}`),
        ),
        async (header) => {
          const res = await h.server.app.inject({
            method: 'GET',
            url: '/auth/whoami',
            headers: { authorization: header },
          });
          expectDocumented4xx(res);
          expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="tessera"/);
        },
      ),
      { numRuns: 300 },
    );
    expect(dbFingerprint(h)).toBe(before);
  });

  it('random paths', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[\x21-\x7e]{0,100}$/), async (path) => {
        const res = await h.server.app.inject({ method: 'GET', url: `/x/${path}` });
        expectDocumented4xx(res);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Path spellings: the router decodes percent-encoding, the security headers must follow it.

describe('a percent-encoded path to a token endpoint', () => {
  it('still gets Cache-Control: no-store on the token response', async () => {
    const fresh = await startHarness();
    try {
      await signUp(fresh);
      const res = await fresh.server.app.inject({
        method: 'POST',
        url: '/%61uth/login',
        payload: { email: 'alice@example.com', password: PASSWORD },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().access_token).toMatch(/^ey/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.pragma).toBe('no-cache');
    } finally {
      await fresh.close();
    }
  });
});
