import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALGORITHMS, createAccessTokenVerifier, importJwk, signAccessToken } from '@tessera/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

const SIGN = { issuer: 'https://issuer.example', audience: 'api' } as const;

let temp: ReturnType<typeof tempDir>;
beforeEach(() => {
  temp = tempDir();
});
afterEach(() => temp.cleanup());

describe('tessera keys generate', () => {
  for (const alg of ALGORITHMS) {
    it(`prints a private ${alg} JWK that core imports and signs with, and warns that it is secret`, async () => {
      const { code, stdout, stderr } = await runCli(['keys', 'generate', '--alg', alg, '--kid', `test-${alg}`]);
      expect(code).toBe(0);
      const jwk = JSON.parse(stdout);
      expect(jwk).toMatchObject({ alg, kid: `test-${alg}`, use: 'sig' });
      const key = importJwk(jwk);
      expect(key.canSign).toBe(true);
      const { token, claims } = signAccessToken({ sub: 'u' }, key, SIGN);
      expect(createAccessTokenVerifier(key, SIGN).verify(token)).toEqual(claims);
      expect(stderr).toContain('private key');
      if (alg === 'HS256') expect(stderr).toContain('no public JWK');
    });
  }

  it('defaults to ES256 with a thumbprint kid', async () => {
    const { code, stdout } = await runCli(['keys', 'generate']);
    expect(code).toBe(0);
    const jwk = JSON.parse(stdout);
    expect(jwk.alg).toBe('ES256');
    expect(jwk.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('writes the private JWK to --out with mode 0600 and prints only the public JWK', async () => {
    const out = join(temp.dir, 'key.json');
    const { code, stdout } = await runCli(['keys', 'generate', '--alg', 'EdDSA', '--out', out]);
    expect(code).toBe(0);
    if (process.platform !== 'win32') expect(statSync(out).mode & 0o777).toBe(0o600);
    const privateJwk = JSON.parse(readFileSync(out, 'utf8'));
    const publicJwk = JSON.parse(stdout);
    expect(privateJwk.d).toEqual(expect.any(String));
    expect(publicJwk.d).toBeUndefined();
    expect(publicJwk.kid).toBe(privateJwk.kid);
    const signer = importJwk(privateJwk);
    const verifierKey = importJwk(publicJwk);
    expect(verifierKey.canSign).toBe(false);
    const { token } = signAccessToken({ sub: 'u' }, signer, SIGN);
    expect(createAccessTokenVerifier(verifierKey, SIGN).verify(token).sub).toBe('u');
  });

  it('refuses to overwrite an existing --out file and replaces it with --force', async () => {
    const out = join(temp.dir, 'key.json');
    writeFileSync(out, 'precious', { mode: 0o644 });
    const refused = await runCli(['keys', 'generate', '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already exists');
    expect(readFileSync(out, 'utf8')).toBe('precious');

    const forced = await runCli(['keys', 'generate', '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).d).toEqual(expect.any(String));
    if (process.platform !== 'win32') expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('resolves a relative --out against the working directory', async () => {
    const { code } = await runCli(['keys', 'generate', '--out', 'rel.json'], { cwd: temp.dir });
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(join(temp.dir, 'rel.json'), 'utf8')).alg).toBe('ES256');
  });

  it('writes an HS256 secret to --out and says there is no public JWK', async () => {
    const out = join(temp.dir, 'secret.json');
    const { code, stdout, stderr } = await runCli(['keys', 'generate', '--alg', 'HS256', '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('no public JWK');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ kty: 'oct', alg: 'HS256' });
  });

  it('accepts --modulus-length for RSA and refuses less than 2048 bits or other algorithms', async () => {
    const ok = await runCli(['keys', 'generate', '--alg', 'PS256', '--modulus-length', '3072']);
    expect(ok.code).toBe(0);
    expect(Buffer.from(JSON.parse(ok.stdout).n, 'base64url').length * 8).toBe(3072);
    expect((await runCli(['keys', 'generate', '--alg', 'RS256', '--modulus-length', '1024'])).code).toBe(2);
    expect((await runCli(['keys', 'generate', '--alg', 'ES256', '--modulus-length', '2048'])).code).toBe(2);
  });

  it('exits 2 for an unknown --alg or an invalid --kid', async () => {
    expect((await runCli(['keys', 'generate', '--alg', 'HS512'])).code).toBe(2);
    expect((await runCli(['keys', 'generate', '--kid', 'has space'])).code).toBe(2);
  });
});
