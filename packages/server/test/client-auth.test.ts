/**
 * Confidential client authentication on /oauth/revoke and /oauth/introspect (RFC 6749 sections
 * 2.3.1 and 5.2): Basic or client_secret_post, never both; every failure is the same 401
 * invalid_client with a Basic challenge; a client without the endpoint's scope gets 403
 * unauthorized_client. Plus the registry itself: generated ids and secrets, hashed storage.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuthError } from '@tessera/core';
import { AdminService, ClientRegistry } from '@tessera/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addClient,
  basic,
  basicRaw,
  formPost,
  fullFingerprint,
  introspect,
  revoke,
  type TestClient,
} from './support/clients.js';
import { expectError } from './support/expect-error.js';
import { type Harness, refreshWith, signUp, startHarness } from './support/harness.js';

const ENDPOINTS = ['/oauth/revoke', '/oauth/introspect'] as const;

function expectInvalidClient(res: Awaited<ReturnType<typeof formPost>>): void {
  expectError(res, 'ERR_INVALID_CLIENT', 401);
  expect(res.headers['www-authenticate']).toBe('Basic realm="tessera"');
  expect(res.headers['cache-control']).toBe('no-store');
}

describe('client authentication', () => {
  let h: Harness;
  let client: TestClient;
  let login: Awaited<ReturnType<typeof signUp>>;
  beforeEach(async () => {
    h = await startHarness();
    client = await addClient(h);
    login = await signUp(h);
  });
  afterEach(async () => {
    await h.close();
  });

  describe.each(ENDPOINTS)('%s', (url) => {
    // A token that is harmless to present: unknown, so revoke and introspect both answer 200.
    const form = { token: `trt_${'A'.repeat(43)}` };

    it('accepts HTTP Basic (client_secret_basic)', async () => {
      const res = await formPost(h, url, form, basic(client.id, client.secret));
      expect(res.statusCode).toBe(200);
    });

    it('accepts client_id and client_secret in the body (client_secret_post)', async () => {
      const res = await formPost(h, url, { ...form, client_id: client.id, client_secret: client.secret });
      expect(res.statusCode).toBe(200);
    });

    it('accepts the Basic scheme name in any case and a client_id in the body equal to the Basic user', async () => {
      const header = basic(client.id, client.secret).replace('Basic', 'bAsIc');
      expect((await formPost(h, url, form, header)).statusCode).toBe(200);
      const same = await formPost(h, url, { ...form, client_id: client.id }, basic(client.id, client.secret));
      expect(same.statusCode).toBe(200);
    });

    it('decodes form-urlencoded Basic credentials (RFC 6749 2.3.1): percent-escapes and + in the id', async () => {
      const odd = await addClient(h, { id: 'rs.orders~v2' });
      const escapedId = 'rs%2Eorders%7Ev2';
      const escapedSecret = odd.secret.replace('_', '%5F').replace('tcs', '%74cs');
      const res = await formPost(h, url, form, basicRaw(`${escapedId}:${escapedSecret}`));
      expect(res.statusCode).toBe(200);
      // `+` is a space in form encoding, so this names another (unknown) client.
      expectInvalidClient(await formPost(h, url, form, basicRaw(`rs.orders+v2:${odd.secret}`)));
    });

    it('no credentials at all: 401 invalid_client with WWW-Authenticate: Basic realm="tessera"', async () => {
      expectInvalidClient(await formPost(h, url, form));
    });

    it('a public client (client_id without a secret) is refused with 401 invalid_client', async () => {
      expectInvalidClient(await formPost(h, url, { ...form, client_id: client.id }));
      expectInvalidClient(await formPost(h, url, { ...form, client_id: 'tessera-web' }));
      expectInvalidClient(await formPost(h, url, { ...form, client_secret: client.secret }));
      expectInvalidClient(await formPost(h, url, { ...form, client_id: client.id, client_secret: '' }));
    });

    it('an unknown client and a wrong secret get byte-identical answers (no enumeration)', async () => {
      const wrongSecret = await formPost(h, url, form, basic(client.id, `tcs_${'x'.repeat(43)}`));
      const unknown = await formPost(h, url, form, basic('cli_nobody', client.secret));
      const wrongPost = await formPost(h, url, { ...form, client_id: client.id, client_secret: 'nope' });
      const unknownPost = await formPost(h, url, { ...form, client_id: 'cli_nobody', client_secret: 'nope' });
      for (const res of [wrongSecret, unknown, wrongPost, unknownPost]) expectInvalidClient(res);
      expect(unknown.body).toBe(wrongSecret.body);
      expect(unknownPost.body).toBe(wrongPost.body);
      expect(unknown.headers['www-authenticate']).toBe(wrongSecret.headers['www-authenticate']);
    });

    it.each([
      ['the bare scheme', 'Basic'],
      ['a non-base64 credential', 'Basic !!!'],
      ['two spaces', `Basic  ${Buffer.from('a:b').toString('base64')}`],
      ['no colon', basicRaw('just-an-id')],
      ['an empty id', basicRaw(':secret')],
      ['an empty secret', basicRaw('cli_x:')],
      ['a bad percent-escape', basicRaw('cli_%zz:secret')],
      ['bytes that are not UTF-8', basicRaw(Buffer.from([0x63, 0x3a, 0xff, 0xfe]))],
      ['trailing garbage after the base64', `Basic ${Buffer.from('a:b').toString('base64')} extra`],
    ])('a malformed Basic header (%s) is 401 invalid_client', async (_name, header) => {
      expectInvalidClient(await formPost(h, url, form, header));
    });

    it('another Authorization scheme (a Bearer token) is not client authentication: 401 invalid_client', async () => {
      expectInvalidClient(await formPost(h, url, form, `Bearer ${login.accessToken}`));
    });

    it('Basic plus client_secret in the body (two methods) is 400 invalid_request, as is a differing client_id', async () => {
      const both = await formPost(
        h,
        url,
        { ...form, client_id: client.id, client_secret: client.secret },
        basic(client.id, client.secret),
      );
      expectError(both, 'ERR_VALIDATION', 400);
      expect(both.json().error).toBe('invalid_request');
      const other = await formPost(h, url, { ...form, client_id: 'cli_other' }, basic(client.id, client.secret));
      expectError(other, 'ERR_VALIDATION', 400);
    });

    it('a removed client is refused at once', async () => {
      expect(await new AdminService(h.server.context).removeClient(client.id)).toBe(true);
      expectInvalidClient(await formPost(h, url, form, basic(client.id, client.secret)));
    });
  });

  it('a client without the introspect scope gets 403 unauthorized_client at /oauth/introspect, no challenge', async () => {
    const revoker = await addClient(h, { scopes: 'revoke' });
    const res = await introspect(h, revoker, { token: login.accessToken });
    expectError(res, 'ERR_UNAUTHORIZED_CLIENT', 403);
    expect(res.json().error).toBe('unauthorized_client');
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('a client without the revoke scope gets 403 unauthorized_client at /oauth/revoke and revokes nothing', async () => {
    const introspector = await addClient(h, { scopes: 'introspect revocations' });
    const before = fullFingerprint(h);
    const res = await revoke(h, introspector, { token: login.refreshToken });
    expectError(res, 'ERR_UNAUTHORIZED_CLIENT', 403);
    expect(fullFingerprint(h)).toBe(before);
    expect((await refreshWith(h, login.refreshToken)).statusCode).toBe(200);
  });

  it('failed client authentication writes nothing and leaves the presented token working', async () => {
    const before = fullFingerprint(h);
    const attempts = [
      formPost(h, '/oauth/revoke', { token: login.refreshToken }),
      formPost(h, '/oauth/revoke', { token: login.refreshToken }, basic(client.id, 'wrong')),
      formPost(h, '/oauth/revoke', { token: login.refreshToken }, basic('cli_ghost', client.secret)),
      formPost(h, '/oauth/revoke', { token: login.refreshToken }, 'Basic %%%'),
      formPost(
        h,
        '/oauth/revoke',
        { token: login.refreshToken, client_secret: client.secret },
        basic(client.id, client.secret),
      ),
      formPost(h, '/oauth/introspect', { token: login.accessToken }, basic(client.id, 'wrong')),
    ];
    for (const res of await Promise.all(attempts)) expect([400, 401]).toContain(res.statusCode);
    expect(fullFingerprint(h)).toBe(before);
    expect((await refreshWith(h, login.refreshToken)).statusCode).toBe(200);
  });

  it('failed authentications past clientAuthFailuresPerIp get 429 with Retry-After; the right client still gets in', async () => {
    const limited = await startHarness({
      rateLimit: { enabled: true, clientAuthFailuresPerIp: { burst: 3, perMinute: 1 } },
    });
    try {
      const good = await addClient(limited);
      const user = await signUp(limited);
      const wrong = () => formPost(limited, '/oauth/introspect', { token: user.accessToken }, basic(good.id, 'wrong'));
      for (let i = 0; i < 3; i++) expectInvalidClient(await wrong());
      const refused = await wrong();
      expectError(refused, 'ERR_RATE_LIMITED', 429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Only failures take from the bucket: the real client is never slowed by them.
      for (let i = 0; i < 5; i++) {
        const ok = await formPost(
          limited,
          '/oauth/introspect',
          { token: user.accessToken },
          basic(good.id, good.secret),
        );
        expect(ok.statusCode).toBe(200);
      }
      const unknown = await formPost(limited, '/oauth/revoke', { token: 'x' }, basic('cli_ghost', 'nope'));
      expectError(unknown, 'ERR_RATE_LIMITED', 429);
      const hits = (await limited.store.listAudit({ limit: 100 })).filter((e) => e.type === 'rate_limit.hit');
      expect(hits.length).toBeGreaterThanOrEqual(2);
      expect(hits.every((e) => (e.data as { limit?: string }).limit === 'client_auth_ip')).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it('metadata advertises both endpoints with client_secret_basic and client_secret_post', async () => {
    const res = await h.server.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    const issuer = h.server.config.issuer;
    expect(res.json()).toMatchObject({
      revocation_endpoint: `${issuer}/oauth/revoke`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
  });
});

describe('the client registry', () => {
  let h: Harness;
  let registry: ClientRegistry;
  beforeEach(async () => {
    h = await startHarness();
    registry = new ClientRegistry(h.store, h.clock);
  });
  afterEach(async () => {
    await h.close();
  });

  async function create(name: string, options: { id?: string; scopes?: string } = {}) {
    const result = await registry.create(name, options);
    if (result.status !== 'created') throw new Error('expected created');
    return result.created;
  }

  it('generates a cli_ id (128 bits) and a tcs_ secret (256 bits), with all three scopes by default', async () => {
    const { client, secret } = await create('orders API');
    expect(client.id).toMatch(/^cli_[A-Za-z0-9_-]{22}$/);
    expect(secret).toMatch(/^tcs_[A-Za-z0-9_-]{43}$/);
    expect(client.scopes).toBe('introspect revoke revocations');
    expect(client.createdAt).toBe(h.clock());
    const other = await create('orders API');
    expect(other.client.id).not.toBe(client.id);
    expect(other.secret).not.toBe(secret);
  });

  it('stores only the SHA-256 hex of the secret: the secret itself is nowhere in the database file', async () => {
    const { client, secret } = await create('billing');
    const stored = await h.store.findClient(client.id);
    expect(stored?.secretHash).toBe(createHash('sha256').update(secret).digest('hex'));
    h.store.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(h.dbPath).includes(Buffer.from(secret))).toBe(false);
    expect(JSON.stringify(h.store.db.prepare('SELECT * FROM clients').all())).not.toContain(secret);
  });

  it('authenticate returns the client for the right secret and undefined for a wrong one or an unknown id', async () => {
    const { client, secret } = await create('billing');
    expect((await registry.authenticate(client.id, secret))?.id).toBe(client.id);
    expect(await registry.authenticate(client.id, `${secret}x`)).toBeUndefined();
    expect(await registry.authenticate('cli_unknown', secret)).toBeUndefined();
    expect(await registry.authenticate(client.id, 'x'.repeat(10_000))).toBeUndefined();
  });

  it('takes an operator-given id and scope list; a taken id is "exists" and keeps the first client', async () => {
    const { client, secret } = await create('orders', { id: 'rs-orders', scopes: 'revoke  introspect revoke' });
    expect(client.id).toBe('rs-orders');
    expect(client.scopes).toBe('revoke introspect');
    expect(await registry.create('impostor', { id: 'rs-orders' })).toEqual({ status: 'exists' });
    expect((await registry.authenticate('rs-orders', secret))?.name).toBe('orders');
  });

  it.each([
    ['an unknown scope', { scopes: 'introspect admin' }],
    ['an empty scope list', { scopes: '  ' }],
    ['an id with a colon', { id: 'rs:orders' }],
    ['an id with a space', { id: 'rs orders' }],
    ['an id longer than 128', { id: 'a'.repeat(129) }],
  ])('refuses %s with ERR_VALIDATION and stores nothing', async (_name, options) => {
    await expect(registry.create('orders', options)).rejects.toSatisfy(
      (e) => e instanceof AuthError && e.code === 'ERR_VALIDATION',
    );
    expect(await h.store.listClients()).toEqual([]);
  });

  it('refuses an empty name or one with control characters', async () => {
    for (const name of ['', '   ', 'orders\nAPI']) {
      await expect(registry.create(name)).rejects.toBeInstanceOf(AuthError);
    }
    expect(await h.store.listClients()).toEqual([]);
  });
});
