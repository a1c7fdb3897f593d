import { describe, expect, it } from 'vitest';
import { findSensitiveClaims, listWarnings } from '../../src/jwt/token-warnings.js';

const NOW = 1_900_000_000;
const GOOD_HEADER = { alg: 'ES256', typ: 'at+jwt', kid: 'k1' };
const GOOD_CLAIMS = { sub: 'usr_1', iat: NOW, exp: NOW + 600, scope: 'openid profile', sid: 's1', jti: 'j1' };
const codes = (header: object, claims: object) => listWarnings(header, claims, NOW).map((w) => w.code);

describe('listWarnings', () => {
  it('has nothing to say about a well-formed ten-minute access token', () => {
    expect(codes(GOOD_HEADER, GOOD_CLAIMS)).toEqual([]);
  });

  it('flags alg none in any casing as danger', () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE', ' none ']) {
      const warnings = listWarnings({ ...GOOD_HEADER, alg }, GOOD_CLAIMS, NOW);
      expect(warnings.find((w) => w.code === 'alg-none')?.severity, alg).toBe('danger');
    }
    expect(codes({ typ: 'JWT', kid: 'k1' }, GOOD_CLAIMS)).toContain('alg-missing');
  });

  it('flags a missing exp, a lifetime over an hour and a missing kid', () => {
    const { exp: _exp, ...noExp } = GOOD_CLAIMS;
    expect(codes(GOOD_HEADER, noExp)).toEqual(['exp-missing']);
    expect(codes(GOOD_HEADER, { ...GOOD_CLAIMS, exp: NOW + 3601 })).toEqual(['lifetime-long']);
    expect(codes(GOOD_HEADER, { ...GOOD_CLAIMS, exp: NOW + 3600 })).toEqual([]);
    const { iat: _iat, ...noIat } = GOOD_CLAIMS;
    expect(codes(GOOD_HEADER, { ...noIat, exp: NOW + 7200 })).toEqual(['lifetime-long']);
    const { kid: _kid, ...noKid } = GOOD_HEADER;
    expect(codes(noKid, GOOD_CLAIMS)).toEqual(['kid-missing']);
  });

  it('flags time claims that are not NumericDates', () => {
    expect(codes(GOOD_HEADER, { ...GOOD_CLAIMS, exp: '2030-01-01' })).toEqual(['time-invalid']);
    expect(codes(GOOD_HEADER, { ...GOOD_CLAIMS, nbf: -5 })).toEqual(['time-invalid']);
  });

  it('flags keys carried in the header (jwk, jku, x5u)', () => {
    expect(codes({ ...GOOD_HEADER, jwk: { kty: 'EC' } }, GOOD_CLAIMS)).toEqual(['header-jwk']);
    expect(codes({ ...GOOD_HEADER, jku: 'https://evil.example/jwks' }, GOOD_CLAIMS)).toEqual(['header-jku']);
  });

  it('names sensitive-looking claims', () => {
    const warnings = listWarnings(GOOD_HEADER, { ...GOOD_CLAIMS, email: 'a@b.c', phone_number: '1' }, NOW);
    expect(warnings.map((w) => w.code)).toEqual(['sensitive-claim']);
    expect(warnings[0]?.message).toContain('email');
    expect(warnings[0]?.message).toContain('phone_number');
  });
});

describe('findSensitiveClaims', () => {
  it('matches personal data and secrets by name, ignoring case, _ and -, one level deep', () => {
    const found = findSensitiveClaims({
      sub: 'x',
      Email: 'a',
      given_name: 'A',
      name: 'A B',
      'home-address': '1 Road',
      password: 'p',
      client_secret: 's',
      ssn: '1',
      credit_card: '4111',
      birthdate: '2000',
      scope: 'openid',
      sid: 's',
      jti: 'j',
      aud: 'api',
      profile: { phone: '1', locale: 'en' },
    });
    expect(found).toEqual([
      'Email',
      'given_name',
      'name',
      'home-address',
      'password',
      'client_secret',
      'ssn',
      'credit_card',
      'birthdate',
      'profile.phone',
    ]);
  });
});
