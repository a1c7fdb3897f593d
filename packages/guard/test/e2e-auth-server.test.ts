/** End to end: tokens minted by the real auth server, verified by the guard against its JWKS over HTTP. */

import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, signUp, startHarness } from '../../server/test/support/harness.js';
import { createGuard, type Guard } from '../src/index.js';
import { FakeRevocationSource } from './support/fixtures.js';

let h: Harness;
let base: string;
let guard: Guard;
const source = new FakeRevocationSource();

beforeAll(async () => {
  h = await startHarness({ port: 0 });
  base = (await h.server.listen()).replace('[::1]', '127.0.0.1');
  guard = createGuard({
    issuer: 'http://localhost:8080',
    audience: 'tessera-api',
    jwksUri: `${base}/.well-known/jwks.json`,
    clock: h.clock,
    revocation: { source },
  });
});

afterAll(async () => {
  guard?.close();
  await h?.close();
});

describe('guard against the real auth server', () => {
  it('accepts an access token from /auth/login, fetching the JWKS once over HTTP', async () => {
    const { accessToken } = await signUp(h);
    const claims = await guard.authenticate({ headers: { authorization: `Bearer ${accessToken}` } });
    expect(claims.iss).toBe('http://localhost:8080');
    expect(claims.aud).toEqual('tessera-api');
    expect(typeof claims.sub).toBe('string');
    expect(claims.scope).toBe('openid profile');
    await guard.authenticate({ headers: { authorization: `Bearer ${accessToken}` } });
    expect(guard.stats.jwksFetches).toBe(1);
    expect(guard.stats.cacheHits).toBe(1);
  });

  it('serves a Fastify resource server with the plugin, including scopes', async () => {
    const { accessToken } = await signUp(h, 'bob@example.com');
    const api = Fastify();
    await api.register(guard.fastify.plugin as never);
    api.get('/profile', { onRequest: guard.fastify.requireScopes('profile') as never }, async (r) => ({
      sub: (r as unknown as { auth: { sub: string } }).auth.sub,
    }));
    api.get('/admin', { onRequest: guard.fastify.requireScopes('admin') as never }, async () => ({ ok: true }));
    const ok = await api.inject({ url: '/profile', headers: { authorization: `Bearer ${accessToken}` } });
    expect(ok.statusCode).toBe(200);
    const denied = await api.inject({ url: '/admin', headers: { authorization: `bearer ${accessToken}` } });
    expect(denied.statusCode).toBe(403);
    expect(denied.headers['www-authenticate']).toContain('scope="admin"');
    await api.close();
  });

  it('rejects a tampered token and a token revoked on the auth server side (via the source)', async () => {
    const { accessToken } = await signUp(h, 'carol@example.com');
    const [head, payload, sig] = accessToken.split('.') as [string, string, string];
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...body, scope: 'admin' })).toString('base64url')}.${sig}`;
    await expect(guard.authenticate({ headers: { authorization: `Bearer ${forged}` } })).rejects.toMatchObject({
      code: 'ERR_SIGNATURE_INVALID',
    });
    const claims = await guard.authenticate({ headers: { authorization: `Bearer ${accessToken}` } });
    source.emit('sid', claims.sid as string);
    await expect(guard.authenticate({ headers: { authorization: `Bearer ${accessToken}` } })).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
  });
});
