import { createServer } from 'node:net';
import { AuthError } from '@tessera/core';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import {
  claimsOf,
  cookieValue,
  type Harness,
  logIn,
  PASSWORD,
  refreshWith,
  signUp,
  startHarness,
  withBearer,
} from './support/harness.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses the Prometheus text format (0.0.4) into samples; comments and blank lines skipped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key as string] = value as string;
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** The value of the one sample with exactly these labels; throws when there is none. */
function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && sameLabels(s.labels, labels));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name}${JSON.stringify(labels)}`);
  return (found[0] as Sample).value;
}

/** Every sample of one metric, as `labels → value` (label values joined in key order). */
function series(samples: readonly Sample[], name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples.filter((x) => x.name === name)) {
    const key = Object.keys(s.labels)
      .sort()
      .map((k) => `${k}=${s.labels[k]}`)
      .join(',');
    out[key] = s.value;
  }
  return out;
}

async function scrape(h: Harness): Promise<{ text: string; samples: Sample[] }> {
  const res = await h.server.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return { text: res.body, samples: parseMetrics(res.body) };
}

/** The auth counters only: process metrics and latency vary from run to run. */
function authCounters(samples: readonly Sample[]): Sample[] {
  return samples.filter(
    (s) => s.name.startsWith('tessera_') && s.name.endsWith('_total') && !/process|nodejs/.test(s.name),
  );
}

function oauthRefresh(h: Harness, refreshToken: string) {
  return h.server.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshToken)}`,
  });
}

/** A port that was free a moment ago: bind port 0, read it, release it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

let harnesses: Harness[] = [];
async function start(...args: Parameters<typeof startHarness>): Promise<Harness> {
  const h = await startHarness(...args);
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses) await h.close();
  harnesses = [];
});

describe('GET /metrics', () => {
  it('counts logins, refreshes by outcome, reuse and revocations exactly over a scripted story', async () => {
    const h = await start({ refreshGraceSec: 10 });
    await h.server.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: 'alice@example.com', password: PASSWORD },
    });
    const unknown = await h.server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'nobody@example.com', password: PASSWORD },
    });
    const wrong = await h.server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'alice@example.com', password: 'not the right password at all' },
    });
    expect([unknown.statusCode, wrong.statusCode]).toEqual([401, 401]);

    // Session A: rotated, replayed within the grace window, reused after it (family revoked).
    const a = await logIn(h);
    const a1 = await refreshWith(h, a.refreshToken);
    expect(a1.statusCode).toBe(200);
    expect((await refreshWith(h, a.refreshToken)).statusCode).toBe(200);
    h.clock.advance(11);
    expect((await refreshWith(h, a.refreshToken)).json().code).toBe('ERR_REFRESH_REUSED');
    expect((await refreshWith(h, cookieValue(String(a1.headers['set-cookie'])))).json().code).toBe(
      'ERR_REFRESH_REVOKED',
    );
    expect((await refreshWith(h, 'trt_not-a-real-token')).json().code).toBe('ERR_REFRESH_INVALID');
    const missing = await h.server.app.inject({ method: 'POST', url: '/auth/refresh' });
    expect(missing.json().code).toBe('ERR_REFRESH_MISSING');

    // Session B: rotated through /oauth/token, then logged out (session and access token revoked).
    const b = await logIn(h);
    const b1 = await oauthRefresh(h, b.refreshToken);
    expect(b1.statusCode).toBe(200);
    const logout = await h.server.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: {
        authorization: `Bearer ${b1.json().access_token}`,
        cookie: `__Secure-tessera_rt=${b1.json().refresh_token}`,
      },
    });
    expect(logout.statusCode).toBe(204);

    const { samples } = await scrape(h);
    expect(series(samples, 'tessera_logins_total')).toEqual({
      'outcome=succeeded': 2,
      'outcome=failed,reason=invalid_credentials': 2,
      'outcome=failed,reason=account_disabled': 0,
      'outcome=failed,reason=other': 0,
    });
    expect(series(samples, 'tessera_refreshes_total')).toEqual({
      'outcome=rotated': 2,
      'outcome=grace': 1,
      'outcome=reused': 1,
      'outcome=expired': 0,
      'outcome=revoked': 1,
      'outcome=invalid': 1,
      'outcome=missing': 1,
    });
    expect(sampleValue(samples, 'tessera_refresh_reuse_detected_total')).toBe(1);
    expect(series(samples, 'tessera_revocations_total')).toEqual({
      'kind=jti': 1,
      'kind=sid': 2,
      'kind=sub': 0,
      'kind=user_disabled': 0,
      'kind=kid': 0,
    });
    expect(sampleValue(samples, 'tessera_csrf_rejections_total')).toBe(0);
    expect(series(samples, 'tessera_rate_limit_rejections_total')).toEqual({});
    expect(series(samples, 'tessera_signing_keys')).toEqual({
      'state=next': 1,
      'state=current': 1,
      'state=retiring': 0,
      'state=retired': 0,
    });
    expect(
      sampleValue(samples, 'tessera_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/auth/refresh',
        status_code: '200',
      }),
    ).toBe(2);
  });

  it('makes an unknown email and a wrong password indistinguishable', async () => {
    const unknownEmail = await start();
    const wrongPassword = await start();
    for (const h of [unknownEmail, wrongPassword]) {
      await h.server.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { email: 'alice@example.com', password: PASSWORD },
      });
    }
    await unknownEmail.server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'mallory@example.com', password: PASSWORD },
    });
    await wrongPassword.server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'alice@example.com', password: 'not the right password at all' },
    });
    const a = await scrape(unknownEmail);
    const b = await scrape(wrongPassword);
    expect(authCounters(a.samples)).toEqual(authCounters(b.samples));
    expect(sampleValue(a.samples, 'tessera_logins_total', { outcome: 'failed', reason: 'invalid_credentials' })).toBe(
      1,
    );
    for (const text of [a.text, b.text]) expect(text).not.toMatch(/unknown_email|wrong_password/);
  });

  it('counts a disabled account separately and CSRF rejections from the audit trail', async () => {
    const h = await start();
    const { accessToken } = await signUp(h);
    await h.server.context.revocation.disableUser(claimsOf(accessToken).sub, h.clock());
    const res = await h.server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'alice@example.com', password: PASSWORD },
    });
    expect(res.json().code).toBe('ERR_ACCOUNT_DISABLED');
    await h.server.context.audit.record('csrf.rejected', { data: { layer: 'origin' } });

    const { samples } = await scrape(h);
    expect(sampleValue(samples, 'tessera_logins_total', { outcome: 'failed', reason: 'account_disabled' })).toBe(1);
    expect(sampleValue(samples, 'tessera_logins_total', { outcome: 'failed', reason: 'invalid_credentials' })).toBe(0);
    expect(sampleValue(samples, 'tessera_revocations_total', { kind: 'user_disabled' })).toBe(1);
    expect(sampleValue(samples, 'tessera_revocations_total', { kind: 'sid' })).toBe(1);
    expect(sampleValue(samples, 'tessera_csrf_rejections_total')).toBe(1);
  });

  it('counts 429 answers as rate-limit rejections by route pattern', async () => {
    const h = await start();
    h.server.app.get('/test/limited/:thing', async () => {
      throw new AuthError('ERR_RATE_LIMITED');
    });
    const res = await h.server.app.inject({ method: 'GET', url: '/test/limited/alice@example.com' });
    expect(res.statusCode).toBe(429);
    const { text, samples } = await scrape(h);
    expect(series(samples, 'tessera_rate_limit_rejections_total')).toEqual({ 'route=/test/limited/:thing': 1 });
    expect(text).not.toContain('alice');
  });

  it('labels latency by route pattern and never shows ids, tokens, emails or IPs', async () => {
    const h = await start();
    const { accessToken, refreshToken } = await signUp(h);
    const claims = claimsOf(accessToken);
    expect((await withBearer(h, 'DELETE', `/auth/sessions/${claims.sid}`, accessToken)).statusCode).toBe(204);
    expect((await h.server.app.inject({ method: 'GET', url: '/no/such/alice@example.com' })).statusCode).toBe(404);
    expect((await h.server.app.inject({ method: 'GET', url: '/auth/sessions/%zz' })).statusCode).toBeLessThan(500);
    await h.server.app.inject({ method: 'GET', url: `/auth/whoami?token=${refreshToken}` });

    const { text, samples } = await scrape(h);
    const count = 'tessera_http_request_duration_seconds_count';
    expect(sampleValue(samples, count, { method: 'DELETE', route: '/auth/sessions/:id', status_code: '204' })).toBe(1);
    expect(sampleValue(samples, count, { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
    const buckets = samples
      .filter(
        (s) => s.name === 'tessera_http_request_duration_seconds_bucket' && s.labels.route === '/auth/sessions/:id',
      )
      .map((s) => s.labels.le);
    expect(buckets).toEqual([
      '0.001',
      '0.0025',
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '+Inf',
    ]);
    const routes = new Set(samples.flatMap((s) => (s.labels.route === undefined ? [] : [s.labels.route])));
    for (const route of routes) expect(route === 'unmatched' || route.startsWith('/')).toBe(true);
    for (const secret of [
      claims.sid,
      claims.sub,
      claims.jti,
      accessToken,
      refreshToken,
      'alice',
      'example.com',
      '127.0.0.1',
      '%zz',
      'token=',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('answers in the Prometheus text format, uncached, with the Node process metrics prefixed', async () => {
    const h = await start();
    const res = await h.server.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('# TYPE tessera_http_request_duration_seconds histogram');
    expect(res.body).toContain('tessera_process_cpu_user_seconds_total');
  });

  it('keeps each server in its own registry', async () => {
    const a = await start();
    const b = await start();
    await signUp(a);
    const { samples } = await scrape(b);
    expect(sampleValue(samples, 'tessera_logins_total', { outcome: 'succeeded' })).toBe(0);
    expect(sampleValue((await scrape(a)).samples, 'tessera_logins_total', { outcome: 'succeeded' })).toBe(1);
  });

  it('is not served at all when metricsEnabled is false', async () => {
    const h = await start({ metricsEnabled: false, metricsPort: await freePort(), port: 0 });
    expect((await h.server.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    const base = await h.server.listen();
    expect(h.server.metricsUrl).toBeUndefined();
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it('is turned off by TESSERA_METRICS_ENABLED=false', async () => {
    const h = await start({}, { env: { TESSERA_METRICS_ENABLED: 'false' } });
    expect(h.server.config.metricsEnabled).toBe(false);
    expect((await h.server.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
  });

  it('is off the main port by default in production; metricsPublic brings it back with a loud warning', () => {
    const https = { issuer: 'https://auth.example.com', environment: 'production' as const };
    const production = resolveConfig(https, {});
    expect(production.config.metricsPublic).toBe(false);
    expect(production.warnings.some((w) => w.includes('/metrics'))).toBe(false);
    const opted = resolveConfig({ ...https, metricsPublic: true }, {});
    expect(opted.config.metricsPublic).toBe(true);
    expect(opted.warnings.some((w) => w.startsWith('INSECURE: /metrics'))).toBe(true);
    // With its own port, production serves metrics there and warns about nothing.
    const ported = resolveConfig({ ...https, metricsPort: 9464 }, {});
    expect(ported.warnings.some((w) => w.includes('/metrics'))).toBe(false);
    expect(resolveConfig({ environment: 'development' }, {}).config.metricsPublic).toBe(true);
    expect(resolveConfig({ environment: 'test' }, { TESSERA_METRICS_PUBLIC: 'false' }).config.metricsPublic).toBe(
      false,
    );
  });

  it('metricsPublic false: 404 on the main port', async () => {
    const h = await start({ metricsPublic: false });
    expect((await h.server.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
  });

  it('moves to its own port when metricsPort is set: 404 on the main port, served there, closed with the server', async () => {
    const metricsPort = await freePort();
    const h = await start({ host: '127.0.0.1', port: 0, metricsPort });
    const base = await h.server.listen();
    expect(h.server.metricsUrl).toBe(`http://127.0.0.1:${metricsPort}`);

    const main = await fetch(`${base}/metrics`);
    expect(main.status).toBe(404);
    expect((await main.json()).code).toBe('ERR_NOT_FOUND');

    const res = await fetch(`${h.server.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const samples = parseMetrics(await res.text());
    expect(
      sampleValue(samples, 'tessera_http_request_duration_seconds_count', {
        method: 'GET',
        route: 'unmatched',
        status_code: '404',
      }),
    ).toBe(1);

    expect((await fetch(`${h.server.metricsUrl}/auth/login`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${h.server.metricsUrl}/healthz`)).status).toBe(404);

    await h.server.close();
    expect(await portIsFree(metricsPort)).toBe(true);
  });
});

describe('health and readiness', () => {
  it('GET /healthz answers 200 while the process runs', async () => {
    const h = await start();
    const res = await h.server.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 with its checks when the stores answer and keys are loaded', async () => {
    const h = await start();
    const res = await h.server.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { durable: 'ok', ephemeral: 'ok', keys: 'ok' } });
  });

  it('GET /readyz answers 503 naming the failed checks once the store is closed', async () => {
    const h = await start();
    await h.store.close();
    const res = await h.server.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'not_ready', checks: { durable: 'failed', ephemeral: 'failed', keys: 'ok' } });
    expect((await h.server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
