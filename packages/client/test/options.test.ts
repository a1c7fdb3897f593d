/** Option and input validation: every mistake is a TypeError naming the field, before anything starts. */

import { describe, expect, it } from 'vitest';
import { AuthClientError, CLIENT_ERROR_CODES, createAuthClient } from '../src/index.js';
import { DEFAULT_RETRY, resolveOptions } from '../src/options.js';
import type { AuthClientOptions } from '../src/types.js';

const issuer = 'https://auth.example.com';

function fieldError(options: unknown): string {
  try {
    resolveOptions(options as AuthClientOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  throw new Error('no error');
}

describe('createAuthClient options', () => {
  it('has documented defaults', () => {
    const { mode, settings } = resolveOptions({ issuer: 'https://auth.example.com/' });
    expect(mode).toBe('memory');
    expect(settings).toEqual({
      issuer: 'https://auth.example.com',
      issuerOrigin: 'https://auth.example.com',
      apiOrigins: ['https://auth.example.com'],
      refreshLeewaySec: 60,
      proactiveRefresh: true,
      channelName: 'tessera-auth',
      csrfHeader: 'x-tessera-csrf',
      retry: DEFAULT_RETRY,
    });
    expect(DEFAULT_RETRY).toEqual({ baseDelayMs: 500, maxDelayMs: 30_000, maxAttempts: 5 });
  });

  it('keeps an issuer path (a server mounted under a prefix)', () => {
    expect(resolveOptions({ issuer: 'https://example.com/tessera/' }).settings).toMatchObject({
      issuer: 'https://example.com/tessera',
      apiOrigins: ['https://example.com'],
    });
  });

  it.each([
    [undefined, 'issuer'],
    ['auth.example.com', 'issuer'],
    ['http://auth.example.com', 'issuer'],
    ['ftp://auth.example.com', 'issuer'],
    ['https://user:pw@auth.example.com', 'issuer'],
    ['https://auth.example.com/?x=1', 'issuer'],
    ['https://auth.example.com/#x', 'issuer'],
    [42, 'issuer'],
  ])('refuses issuer %s', (value, field) => {
    expect(fieldError({ issuer: value })).toContain(`options.${field}`);
  });

  it('allows plain http only on loopback hosts', () => {
    for (const local of ['http://localhost:8080', 'http://127.0.0.1:3000', 'http://[::1]:1', 'http://app.localhost'])
      expect(() => resolveOptions({ issuer: local })).not.toThrow();
  });

  it.each([
    [['https://api.example.com/'], 'apiOrigins[0]'],
    [['https://api.example.com/v1'], 'apiOrigins[0]'],
    [['https://*.example.com'], 'apiOrigins[0]'],
    [[issuer, 'http://api.example.com'], 'apiOrigins[1]'],
    [['null'], 'apiOrigins[0]'],
    [[7], 'apiOrigins[0]'],
    ['https://api.example.com', 'apiOrigins'],
  ])('refuses apiOrigins %j', (value, field) => {
    expect(fieldError({ issuer, apiOrigins: value })).toContain(`options.${field}`);
  });

  it.each([
    [{ refreshLeewaySec: -1 }, 'refreshLeewaySec'],
    [{ refreshLeewaySec: Number.NaN }, 'refreshLeewaySec'],
    [{ refreshLeewaySec: 3601 }, 'refreshLeewaySec'],
    [{ refreshLeewaySec: '60' }, 'refreshLeewaySec'],
    [{ proactiveRefresh: 'yes' }, 'proactiveRefresh'],
    [{ mode: 'cookie' }, 'mode'],
    [{ workerUrl: '/w.js' }, 'workerUrl'],
    [{ mode: 'worker', workerUrl: 3 }, 'workerUrl'],
    [{ channelName: '' }, 'channelName'],
    [{ channelName: 'has space' }, 'channelName'],
    [{ csrfHeader: 'X-Tessera-CSRF' }, 'csrfHeader'],
    [{ csrfHeader: 'authorization' }, 'csrfHeader'],
    [{ fetch: 'fetch' }, 'fetch'],
    [{ clock: 1 }, 'clock'],
    [{ timers: {} }, 'timers'],
    [{ retry: 3 }, 'retry'],
    [{ retry: { baseDelayMs: 0 } }, 'retry.baseDelayMs'],
    [{ retry: { baseDelayMs: 1.5 } }, 'retry.baseDelayMs'],
    [{ retry: { baseDelayMs: 1000, maxDelayMs: 10 } }, 'retry.maxDelayMs'],
    [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ retry: { attempts: 3 } }, 'retry.attempts'],
    [{ mode: 'worker', fetch: () => undefined }, 'fetch'],
    [{ mode: 'worker', clock: () => 0 }, 'clock'],
    [{ apiOrigin: [issuer] }, 'apiOrigin'],
  ])('refuses %j naming the field', (extra, field) => {
    expect(fieldError({ issuer, ...extra })).toContain(`options.${field} `);
  });

  it('refuses a non-object', () => {
    expect(() => createAuthClient(null as unknown as AuthClientOptions)).toThrow(TypeError);
    expect(() => createAuthClient('https://x' as unknown as AuthClientOptions)).toThrow(TypeError);
  });
});

describe('method inputs', () => {
  const client = () =>
    createAuthClient({ issuer, fetch: async () => new Response(null, { status: 500 }), channelName: 'opts' });

  it('validates credentials', async () => {
    const c = client();
    await expect(c.login(undefined as never)).rejects.toThrow(/credentials/);
    await expect(c.login({ email: '', password: 'x' })).rejects.toThrow(/credentials\.email/);
    await expect(c.login({ email: 'a@b.c', password: 7 } as never)).rejects.toThrow(/credentials\.password/);
    await expect(c.register({ email: 'a'.repeat(321), password: 'x' })).rejects.toThrow(/credentials\.email/);
    c.close();
  });

  it('validates fetch arguments and listeners', async () => {
    const c = client();
    await expect(c.fetch(42 as never)).rejects.toThrow(TypeError);
    await expect(c.fetch('https://auth.example.com/x', 'init' as never)).rejects.toThrow(/init/);
    await expect(c.fetch('/relative')).rejects.toThrow(/absolute URL/);
    expect(() => c.onChange('listener' as never)).toThrow(/listener/);
    c.close();
  });

  it('uses a stable error class and code table', () => {
    const error = new AuthClientError('ERR_NOT_SIGNED_IN');
    expect(error).toMatchObject({ name: 'AuthClientError', code: 'ERR_NOT_SIGNED_IN', message: 'Not signed in' });
    expect(Object.keys(CLIENT_ERROR_CODES).sort()).toEqual([
      'ERR_BAD_RESPONSE',
      'ERR_CLIENT_CLOSED',
      'ERR_NETWORK',
      'ERR_NOT_SIGNED_IN',
      'ERR_REDIRECTED_TO_TOKEN_ENDPOINT',
      'ERR_WORKER',
    ]);
  });
});
