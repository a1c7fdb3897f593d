import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createJwks, generateKey, signAccessToken, type TesseraKey } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli, tempDir } from './helpers.js';

const ISS = 'https://issuer.example';
const AUD = 'api';

let key: TesseraKey;
let token: string;
let jwksPath: string;
let jwksJson: string;
let temp: ReturnType<typeof tempDir>;

function sign(options: { clock?: () => number; audience?: string } = {}): string {
  return signAccessToken({ sub: 'user-1', scope: 'read' }, key, {
    issuer: ISS,
    audience: options.audience ?? AUD,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  }).token;
}

beforeAll(async () => {
  key = await generateKey('ES256', { kid: 'k1' });
  token = sign();
  temp = tempDir();
  jwksPath = join(temp.dir, 'jwks.json');
  jwksJson = JSON.stringify(createJwks([key]));
  writeFileSync(jwksPath, jwksJson);
});

afterAll(() => temp.cleanup());

const base = () => ['--jwks', jwksPath, '--iss', ISS, '--aud', AUD];

describe('tessera verify with a JWKS file', () => {
  it('exits 0 and prints the claims of a valid token', async () => {
    const { code, stdout } = await runCli(['verify', token, ...base()]);
    expect(code).toBe(0);
    const claims = JSON.parse(stdout);
    expect(claims).toMatchObject({ iss: ISS, aud: AUD, sub: 'user-1', scope: 'read' });
  });

  it('reads the token from stdin with "-"', async () => {
    const { code, stdout } = await runCli(['verify', '-', ...base()], { stdin: `${token}\n` });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).sub).toBe('user-1');
  });

  it('resolves a relative JWKS path against the working directory', async () => {
    const { code } = await runCli(['verify', token, '--jwks', 'jwks.json', '--iss', ISS, '--aud', AUD], {
      cwd: temp.dir,
    });
    expect(code).toBe(0);
  });

  it('exits 1 with "invalid: ERR_CLAIM_INVALID aud" for a wrong audience', async () => {
    const { code, stdout, stderr } = await runCli([
      'verify',
      token,
      '--jwks',
      jwksPath,
      '--iss',
      ISS,
      '--aud',
      'other',
    ]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^invalid: ERR_CLAIM_INVALID aud\b/m);
  });

  it('exits 1 with ERR_TOKEN_EXPIRED for an expired token', async () => {
    const old = sign({ clock: () => Math.floor(Date.now() / 1000) - 3600 });
    const { code, stderr } = await runCli(['verify', old, ...base()]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^invalid: ERR_TOKEN_EXPIRED\b/m);
  });

  it('accepts a just-expired token within --clock-tolerance and rejects it with 0', async () => {
    const issued = 1_750_000_000;
    const expired = sign({ clock: () => issued });
    const now = () => (issued + 600 + 10) * 1000; // 10 s past exp
    expect((await runCli(['verify', expired, ...base(), '--clock-tolerance', '30'], { now })).code).toBe(0);
    const strict = await runCli(['verify', expired, ...base(), '--clock-tolerance', '0'], { now });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('ERR_TOKEN_EXPIRED');
  });

  it('exits 1 with ERR_SIGNATURE_INVALID for a tampered payload', async () => {
    const [header, , signature] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...payload, sub: 'admin' })).toString('base64url');
    const { code, stderr } = await runCli(['verify', `${header}.${forged}.${signature}`, ...base()]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^invalid: ERR_SIGNATURE_INVALID\b/m);
  });

  it('exits 1 with ERR_ALG_NOT_ALLOWED when --alg excludes the key algorithm', async () => {
    const { code, stderr } = await runCli(['verify', token, ...base(), '--alg', 'EdDSA']);
    expect(code).toBe(1);
    expect(stderr).toContain('invalid: ERR_ALG_NOT_ALLOWED');
  });

  it('exits 1 with ERR_TYP_INVALID when --typ differs from the token', async () => {
    const { code, stderr } = await runCli(['verify', token, ...base(), '--typ', 'JWT']);
    expect(code).toBe(1);
    expect(stderr).toContain('invalid: ERR_TYP_INVALID');
  });

  it('reports skipped JWKS keys on stderr and still verifies with the usable ones', async () => {
    const path = join(temp.dir, 'mixed.json');
    const jwks = createJwks([key]);
    writeFileSync(path, JSON.stringify({ keys: [...jwks.keys, { kty: 'RSA', kid: 'weird', use: 'enc' }] }));
    const { code, stderr } = await runCli(['verify', token, '--jwks', path, '--iss', ISS, '--aud', AUD]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/warning: skipped JWKS key "weird"/);
  });

  it('exits 1 without a stack trace when the JWKS file is missing or not JSON', async () => {
    const missing = await runCli(['verify', token, '--jwks', join(temp.dir, 'nope.json'), '--iss', ISS, '--aud', AUD]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ENOENT');
    const bad = join(temp.dir, 'bad.json');
    writeFileSync(bad, '{not json');
    const notJson = await runCli(['verify', token, '--jwks', bad, '--iss', ISS, '--aud', AUD]);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain('not valid JSON');
    expect(missing.stderr + notJson.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('tessera verify usage errors', () => {
  for (const [flag, argv] of [
    ['--iss', ['--jwks', 'x.json', '--aud', AUD]],
    ['--aud', ['--jwks', 'x.json', '--iss', ISS]],
    ['--jwks', ['--iss', ISS, '--aud', AUD]],
  ] as const) {
    it(`exits 2 with a usage line when ${flag} is missing`, async () => {
      const { code, stderr } = await runCli(['verify', 'a.b.c', ...argv]);
      expect(code).toBe(2);
      expect(stderr).toContain(`missing ${flag}`);
      expect(stderr).toContain('usage: tessera verify');
    });
  }

  it('exits 2 on an unknown flag', async () => {
    const { code, stderr } = await runCli(['verify', token, ...base(), '--no-such-flag']);
    expect(code).toBe(2);
    expect(stderr).toContain("Unknown option '--no-such-flag'");
  });

  it('exits 2 on an unknown --alg and an out-of-range --clock-tolerance', async () => {
    expect((await runCli(['verify', token, ...base(), '--alg', 'none'])).code).toBe(2);
    expect((await runCli(['verify', token, ...base(), '--clock-tolerance', '301'])).code).toBe(2);
    expect((await runCli(['verify', token, ...base(), '--clock-tolerance', '-1'])).code).toBe(2);
  });
});

describe('tessera verify with a remote JWKS', () => {
  let server: Server;
  let origin: string;
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
        res.end(jwksJson);
      } else if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"keys":[],"pad":"${'x'.repeat(1024 * 1024)}"}`);
      } else if (req.url === '/huge-chunked') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = 'x'.repeat(64 * 1024);
        for (let i = 0; i < 20; i++) res.write(chunk);
        res.end();
      } else if (req.url === '/redirect') {
        res.writeHead(302, { location: '/jwks.json' });
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const remote = (path: string) => ['--jwks', `${origin}${path}`, '--iss', ISS, '--aud', AUD];

  it('exits 0 with a JWKS served over http on 127.0.0.1', async () => {
    const { code, stdout } = await runCli(['verify', token, ...remote('/jwks.json')]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).sub).toBe('user-1');
    expect(requests).toContain('/jwks.json');
  });

  it('exits 1 when the JWKS is larger than 1 MiB', async () => {
    const { code, stderr } = await runCli(['verify', token, ...remote('/huge')]);
    expect(code).toBe(1);
    expect(stderr).toContain('larger than 1048576 bytes');
  });

  it('exits 1 when a chunked JWKS response without content-length grows past 1 MiB', async () => {
    const { code, stderr } = await runCli(['verify', token, ...remote('/huge-chunked')]);
    expect(code).toBe(1);
    expect(stderr).toContain('larger than 1048576 bytes');
  });

  it('exits 1 on an HTTP error status', async () => {
    const { code, stderr } = await runCli(['verify', token, ...remote('/missing')]);
    expect(code).toBe(1);
    expect(stderr).toContain('HTTP 404');
  });

  it('does not follow redirects', async () => {
    const before = requests.length;
    const { code } = await runCli(['verify', token, ...remote('/redirect')]);
    expect(code).toBe(1);
    expect(requests.slice(before)).toEqual(['/redirect']);
  });

  it('refuses plain http to a non-local host without making any network call', async () => {
    const spy = vi.fn<typeof fetch>();
    const { code, stderr } = await runCli(
      ['verify', token, '--jwks', 'http://example.invalid/jwks.json', '--iss', ISS, '--aud', AUD],
      { fetch: spy },
    );
    expect(code).toBe(2);
    expect(stderr).toContain('refusing plain http');
    expect(spy).not.toHaveBeenCalled();
  });

  it('lets --allow-insecure-http fetch a non-local http URL', async () => {
    const spy = vi.fn<typeof fetch>(async () => new Response(jwksJson, { status: 200 }));
    const { code } = await runCli(
      [
        'verify',
        token,
        '--jwks',
        'http://example.invalid/jwks.json',
        '--iss',
        ISS,
        '--aud',
        AUD,
        '--allow-insecure-http',
      ],
      { fetch: spy },
    );
    expect(code).toBe(0);
    expect(spy).toHaveBeenCalledOnce();
    const init = spy.mock.calls[0]?.[1];
    expect(init?.signal).toBeInstanceOf(AbortSignal);
    expect(init?.redirect).toBe('error');
  });

  it('refuses schemes other than http and https', async () => {
    const spy = vi.fn<typeof fetch>();
    for (const location of ['file:///etc/passwd', 'ftp://localhost/jwks.json', 'data:application/json,{}']) {
      const { code, stderr } = await runCli(['verify', token, '--jwks', location, '--iss', ISS, '--aud', AUD], {
        fetch: spy,
      });
      expect(code).toBe(2);
      expect(stderr).toContain('scheme is not supported');
    }
    expect(spy).not.toHaveBeenCalled();
  });

  it('reports a fetch timeout as an expected error', async () => {
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    const spy = vi.fn<typeof fetch>(async () => {
      throw timeout;
    });
    const { code, stderr } = await runCli(
      ['verify', token, '--jwks', 'https://jwks.example/keys', '--iss', ISS, '--aud', AUD],
      {
        fetch: spy,
      },
    );
    expect(code).toBe(1);
    expect(stderr).toContain('timed out after 5 s');
  });
});
