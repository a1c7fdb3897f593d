import { generateKey } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { createGuard, type GuardOptions } from '../src/index.js';
import { FakeRevocationSource } from './support/fixtures.js';

const key = await generateKey('ES256', { kid: 'k1' });
const base = { issuer: 'https://auth.example.com', audience: 'api', keys: key };

function create(options: unknown) {
  return () => createGuard(options as GuardOptions);
}

describe('createGuard option validation', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not an object', null, /options must be an object/],
    ['no issuer', { ...base, issuer: undefined }, /^issuer/],
    ['empty audience', { ...base, audience: [] }, /^audience/],
    ['no key source', { issuer: 'https://a', audience: 'api' }, /exactly one of jwksUri, keys or discovery/],
    ['two key sources', { ...base, jwksUri: 'https://a/jwks' }, /exactly one of jwksUri, keys or discovery/],
    ['bad keys', { ...base, keys: 'x' }, /^keys must be/],
    ['empty JWKS', { ...base, keys: { keys: [] } }, /^keys must contain/],
    ['non-URL jwksUri', { ...base, keys: undefined, jwksUri: 'not a url' }, /^jwksUri/],
    [
      'http jwksUri on a public host',
      { ...base, keys: undefined, jwksUri: 'http://auth.example.com/jwks' },
      /^jwksUri must be an https URL/,
    ],
    [
      'credentials in jwksUri',
      { ...base, keys: undefined, jwksUri: 'https://u:p@a/jwks' },
      /^jwksUri must not contain credentials/,
    ],
    [
      'discovery with several issuers',
      { ...base, keys: undefined, issuer: ['https://a', 'https://b'], discovery: true },
      /^discovery needs issuer/,
    ],
    ['bad algorithm', { ...base, algorithms: ['none'] }, /^algorithms/],
    ['clockToleranceSec too large', { ...base, clockToleranceSec: 1000 }, /^clockToleranceSec/],
    ['bad requiredScopes', { ...base, requiredScopes: ['a b'] }, /^requiredScopes/],
    ['bad realm', { ...base, realm: 'a"b' }, /^realm/],
    ['bad allowFormBody', { ...base, allowFormBody: 'yes' }, /^allowFormBody/],
    ['bad revocation.source', { ...base, revocation: { source: {} } }, /^revocation.source/],
    [
      'bad revocation.maxStalenessSec',
      { ...base, revocation: { source: new FakeRevocationSource(), maxStalenessSec: -1 } },
      /^revocation.maxStalenessSec/,
    ],
    [
      'bad revocation.onStale',
      { ...base, revocation: { source: new FakeRevocationSource(), onStale: 'open' } },
      /^revocation.onStale/,
    ],
    ['bad cache', { ...base, cache: { maxEntries: 0 } }, /^maxEntries/],
    [
      'bad remoteJwks.timeoutMs',
      { ...base, keys: undefined, jwksUri: 'https://a/j', remoteJwks: { timeoutMs: 10 } },
      /^remoteJwks.timeoutMs/,
    ],
    [
      'bad remoteJwks.maxBytes',
      { ...base, keys: undefined, jwksUri: 'https://a/j', remoteJwks: { maxBytes: 1e9 } },
      /^remoteJwks.maxBytes/,
    ],
    [
      'bad remoteJwks.cooldownSec',
      { ...base, keys: undefined, jwksUri: 'https://a/j', remoteJwks: { cooldownSec: 0 } },
      /^remoteJwks.cooldownSec/,
    ],
    ['bad logger', { ...base, logger: {} }, /^logger/],
  ];
  for (const [name, options, message] of cases) {
    it(`${name} → TypeError`, () => {
      expect(create(options)).toThrow(TypeError);
      expect(create(options)).toThrow(message);
    });
  }

  it('accepts http for loopback hosts, and elsewhere only with allowInsecureHttp', () => {
    for (const jwksUri of ['http://127.0.0.1:1/j', 'http://localhost/j', 'http://[::1]:8/j']) {
      createGuard({ ...base, keys: undefined, jwksUri }).close();
    }
    createGuard({
      ...base,
      keys: undefined,
      jwksUri: 'http://auth.internal/j',
      remoteJwks: { allowInsecureHttp: true },
    }).close();
  });

  it('per-route options are validated too', () => {
    const guard = createGuard(base);
    expect(() => guard.fastify.authenticate({ onStale: 'maybe' as never })).toThrow(/options.onStale/);
    expect(() => guard.express.requireScopes('a"b')).toThrow(/requireScopes.scopes/);
    expect(() => guard.hono.authenticate({ maxStalenessSec: 1.5 })).toThrow(/options.maxStalenessSec/);
  });
});
