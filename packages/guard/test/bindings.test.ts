import type { AddressInfo } from 'node:net';
import type { AccessTokenClaims, TesseraKey } from '@tessera/core';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard } from '../src/index.js';
import { AUDIENCE, FakeRevocationSource, ISSUER, newKey, sign } from './support/fixtures.js';

let key: TesseraKey;
let guard: Guard;
const source = new FakeRevocationSource();

beforeAll(async () => {
  key = await newKey('k1');
  guard = createGuard({ issuer: ISSUER, audience: AUDIENCE, keys: key, revocation: { source } });
});

const NO_CREDS = { error_description: 'Authentication is required', code: 'ERR_UNAUTHENTICATED' };
const SCOPE_CHALLENGE =
  'Bearer realm="tessera", error="insufficient_scope", error_description="The token lacks the required scope", scope="write"';

describe('Fastify binding', () => {
  const app = Fastify();
  beforeAll(async () => {
    await app.register(guard.fastify.plugin as never);
    app.get('/me', async (request) => ({ sub: (request as unknown as { auth: AccessTokenClaims }).auth.sub }));
    app.get('/public', { config: { auth: false } }, async (request) => ({
      auth: (request as unknown as { auth: unknown }).auth,
    }));
    app.get('/write', { onRequest: guard.fastify.requireScopes('write') as never }, async () => ({ ok: true }));
    app.get('/stale-ok', { config: { auth: { onStale: 'fail-open' } } }, async () => ({ ok: true }));
    await app.ready();
  });
  afterAll(() => app.close());

  it('decorates request.auth with the verified claims', async () => {
    const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${sign(key)}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ sub: 'user-1' });
  });

  it('401 without credentials, 400 malformed, 401 invalid token', async () => {
    const none = await app.inject({ url: '/me' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="tessera"');
    expect(none.json()).toEqual(NO_CREDS);
    const bad = await app.inject({ url: '/me', headers: { authorization: 'Bearer a b' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('invalid_request');
    const invalid = await app.inject({
      url: '/me',
      headers: { authorization: `Bearer ${sign(key, {}, { audience: 'x' })}` },
    });
    expect(invalid.statusCode).toBe(401);
    expect(invalid.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('routes opt out with config.auth = false', async () => {
    const res = await app.inject({ url: '/public' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ auth: null });
  });

  it('requireScopes reuses request.auth and answers 403 with the scope attribute', async () => {
    const res = await app.inject({
      url: '/write',
      headers: { authorization: `Bearer ${sign(key, { scope: 'read' })}` },
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toBe(SCOPE_CHALLENGE);
    expect(res.json()).toEqual({
      error: 'insufficient_scope',
      error_description: 'The token lacks the required scope',
      code: 'ERR_INSUFFICIENT_SCOPE',
    });
    const ok = await app.inject({
      url: '/write',
      headers: { authorization: `Bearer ${sign(key, { scope: 'read write' })}` },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('per-route stale policy through config.auth', async () => {
    source.staleness = 100;
    try {
      const token = sign(key);
      const strict = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
      expect(strict.statusCode).toBe(503);
      expect(strict.headers['retry-after']).toBe('5');
      expect(strict.json().code).toBe('ERR_REVOCATION_STALE');
      const lenient = await app.inject({ url: '/stale-ok', headers: { authorization: `Bearer ${token}` } });
      expect(lenient.statusCode).toBe(200);
    } finally {
      source.staleness = 0;
    }
  });

  it('a route-level hook without the global plugin', async () => {
    const plain = Fastify();
    plain.decorateRequest('auth', null);
    plain.get('/x', { onRequest: guard.fastify.authenticate({ scopes: ['read'] }) as never }, async (r) => ({
      sub: (r as unknown as { auth: AccessTokenClaims }).auth.sub,
    }));
    const ok = await plain.inject({ url: '/x', headers: { authorization: `Bearer ${sign(key)}` } });
    expect(ok.json()).toEqual({ sub: 'user-1' });
    const none = await plain.inject({ url: '/x' });
    expect(none.statusCode).toBe(401);
    await plain.close();
  });
});

describe('Express binding (real HTTP)', () => {
  let base = '';
  let close: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    const app = express();
    app.get('/me', guard.express.authenticate() as never, (req, res) => {
      res.json({ sub: (req as unknown as { auth: AccessTokenClaims }).auth.sub });
    });
    app.get(
      '/write',
      guard.express.authenticate() as never,
      guard.express.requireScopes('write') as never,
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    app.get('/only-write', guard.express.requireScopes('write') as never, (_req, res) => {
      res.json({ ok: true });
    });
    app.post(
      '/form',
      express.urlencoded({ extended: false }),
      createGuard({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: key,
        allowFormBody: true,
      }).express.authenticate() as never,
      (req, res) => {
        res.json({ sub: (req as unknown as { auth: AccessTokenClaims }).auth.sub });
      },
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(() => close());

  it('sets req.auth', async () => {
    const res = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${sign(key)}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'user-1' });
    // A second request with the same token is a cache hit, answered synchronously.
    const token = sign(key);
    await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } });
    const again = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
  });

  it('RFC 6750 responses', async () => {
    const none = await fetch(`${base}/me`, { headers: { authorization: 'Basic eDp5' } });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
    expect(await none.json()).toEqual(NO_CREDS);
    const bad = await fetch(`${base}/me`, { headers: { authorization: 'Bearer' } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toBe('invalid_request');
  });

  it('two Authorization headers over the wire → 400 (Node would keep only the first)', async () => {
    const { request } = await import('node:http');
    const t = sign(key);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/me`, {
        headers: [
          ['authorization', `Bearer ${t}`],
          ['authorization', `Bearer ${t}`],
        ] as never,
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
  });

  it('requireScopes, after authenticate or alone', async () => {
    const read = sign(key, { scope: 'read' });
    const res = await fetch(`${base}/write`, { headers: { authorization: `Bearer ${read}` } });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(SCOPE_CHALLENGE);
    expect((await fetch(`${base}/only-write`, { headers: { authorization: `Bearer ${read}` } })).status).toBe(403);
    const write = sign(key, { scope: 'write' });
    expect((await fetch(`${base}/only-write`, { headers: { authorization: `Bearer ${write}` } })).status).toBe(200);
    expect((await fetch(`${base}/only-write`)).status).toBe(401);
  });

  it('the form-body method when enabled, and a token sent two ways', async () => {
    const t = sign(key);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const ok = await fetch(`${base}/form`, { method: 'POST', headers: form, body: `access_token=${t}` });
    expect(await ok.json()).toEqual({ sub: 'user-1' });
    const twice = await fetch(`${base}/form`, {
      method: 'POST',
      headers: { ...form, authorization: `Bearer ${t}` },
      body: `access_token=${t}`,
    });
    expect(twice.status).toBe(400);
    expect((await twice.json()).code).toBe('ERR_TOKEN_MALFORMED');
  });
});

describe('Hono binding', () => {
  const app = new Hono<{ Variables: { auth: AccessTokenClaims } }>();
  beforeAll(() => {
    app.use('/api/*', guard.hono.authenticate() as never);
    app.get('/api/me', (c) => c.json({ sub: c.get('auth').sub }));
    app.get('/api/write', guard.hono.requireScopes('write') as never, (c) => c.json({ ok: true }));
    app.get('/lenient', guard.hono.authenticate({ onStale: 'fail-open' }) as never, (c) => c.json({ ok: true }));
  });

  it("sets c.get('auth')", async () => {
    const res = await app.request('/api/me', { headers: { authorization: `Bearer ${sign(key)}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'user-1' });
  });

  it('RFC 6750 responses and requireScopes', async () => {
    const none = await app.request('/api/me');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
    expect(await none.json()).toEqual(NO_CREDS);
    const scope = await app.request('/api/write', { headers: { authorization: `Bearer ${sign(key)}` } });
    expect(scope.status).toBe(403);
    expect(scope.headers.get('www-authenticate')).toBe(SCOPE_CHALLENGE);
    const ok = await app.request('/api/write', {
      headers: { authorization: `Bearer ${sign(key, { scope: 'write' })}` },
    });
    expect(ok.status).toBe(200);
    const expired = await app.request('/api/me', { headers: { authorization: 'Bearer x.y.z' } });
    expect(expired.status).toBe(400);
  });

  it('per-route stale policy', async () => {
    source.staleness = 100;
    try {
      const token = sign(key);
      expect((await app.request('/api/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(503);
      expect((await app.request('/lenient', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      source.staleness = 0;
    }
  });
});
