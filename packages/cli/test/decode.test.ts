import { generateKey, signAccessToken, type TesseraKey } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const WARNING = 'Decoding is not verifying: nothing here is trusted until `tessera verify` succeeds.';
const NOW_SEC = 1_750_000_000;
const now = () => NOW_SEC * 1000;

let key: TesseraKey;
let token: string;

beforeAll(async () => {
  key = await generateKey('ES256', { kid: 'k1' });
  token = signAccessToken({ sub: 'user-1', scope: 'read' }, key, {
    issuer: 'https://issuer.example',
    audience: 'api',
    ttlSec: 600,
    clock: () => NOW_SEC - 48,
  }).token;
});

describe('tessera decode', () => {
  it('prints the header, the claims, human times, the signature size and the not-verified warning', async () => {
    const { code, stdout, stderr } = await runCli(['decode', token], { now });
    expect(code).toBe(0);
    expect(stdout).toContain('"alg": "ES256"');
    expect(stdout).toContain('"typ": "at+jwt"');
    expect(stdout).toContain('"kid": "k1"');
    expect(stdout).toContain('"sub": "user-1"');
    expect(stdout).toContain('"iss": "https://issuer.example"');
    // exp = now - 48 + 600 = now + 552 s = 9 min 12 s
    expect(stdout).toMatch(/exp\s+2025-06-15T15:\d\d:\d\dZ\s+expires in 9 min 12 s/);
    expect(stdout).toMatch(/iat\s+\S+Z\s+issued 48 s ago/);
    expect(stdout).toContain('Signature: 64 bytes');
    expect(stderr).toContain(WARNING);
    expect(stdout).not.toContain(WARNING);
  });

  it('says how long ago an expired token expired and passes on the core "expired" warning', async () => {
    const { code, stdout, stderr } = await runCli(['decode', token], { now: () => (NOW_SEC + 552 + 3 * 3600) * 1000 });
    expect(code).toBe(0);
    expect(stdout).toMatch(/exp\s+\S+Z\s+expired 3 h ago/);
    expect(stderr).toContain('warning: expired');
    expect(stderr).toContain(WARNING);
  });

  it('reads the token from stdin with "-" and trims surrounding whitespace', async () => {
    const { code, stdout, stderr } = await runCli(['decode', '-'], { stdin: `\n  ${token}  \r\n`, now });
    expect(code).toBe(0);
    expect(stdout).toContain('"sub": "user-1"');
    expect(stderr).toContain(WARNING);
  });

  it('does not trim a token given as an argument', async () => {
    const { code, stderr } = await runCli(['decode', ` ${token}`], { now });
    expect(code).toBe(1);
    expect(stderr).toContain('ERR_TOKEN_MALFORMED');
  });

  it('exits 1 with ERR_TOKEN_MALFORMED and no stack trace on garbage', async () => {
    const { code, stdout, stderr } = await runCli(['decode', 'not-a-jwt'], { now });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('ERR_TOKEN_MALFORMED');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('prints one parseable JSON object with --json', async () => {
    const { code, stdout, stderr } = await runCli(['decode', token, '--json'], { now });
    expect(code).toBe(0);
    const output = JSON.parse(stdout);
    expect(output.header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
    expect(output.claims.sub).toBe('user-1');
    expect(output.signatureBytes).toBe(64);
    expect(output.verified).toBe(false);
    expect(output.warnings).toEqual([]);
    expect(output.times.exp).toEqual({
      value: NOW_SEC + 552,
      iso: new Date((NOW_SEC + 552) * 1000).toISOString().replace('.000Z', 'Z'),
      relative: 'expires in 9 min 12 s',
    });
    expect(stderr).toContain(WARNING);
  });

  it('shows core warnings for alg "none", a jku header and a missing exp', async () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', jku: 'https://evil.example/jwks' })}.${b64({ sub: 'x' })}.${b64('sig')}`;
    const { code, stderr } = await runCli(['decode', unsigned], { now });
    expect(code).toBe(0);
    expect(stderr).toContain('alg "none"');
    expect(stderr).toContain('header "jku" present');
    expect(stderr).toContain('no "exp"');
  });

  it('escapes terminal control characters found in the token', async () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const hostile = `${b64({ alg: 'ES256' })}.${b64({ sub: 'a\u009b31mred\u202e', exp: NOW_SEC + 60 })}.${b64('sig')}`;
    const { code, stdout } = await runCli(['decode', hostile], { now });
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/[\u009b\u202e]/);
    expect(stdout).toContain('a\\u009b31mred\\u202e');
  });

  it('exits 2 with usage when the token is missing', async () => {
    const { code, stderr } = await runCli(['decode'], { now });
    expect(code).toBe(2);
    expect(stderr).toContain('usage: tessera decode');
  });
});
