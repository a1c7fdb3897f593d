/**
 * The cache probe (peekBearer) skips the header regex on a hit; these pin that it never changes
 * what is accepted: only a string identical to a verified token hits, and every request shape the
 * strict reader refuses is still refused when its token is cached.
 */

import type { TesseraKey } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard } from '../src/index.js';
import { AUDIENCE, ISSUER, newKey, sign } from './support/fixtures.js';

let key: TesseraKey;
let guard: Guard;
let token: string;

beforeAll(async () => {
  key = await newKey('k1');
  guard = createGuard({ issuer: ISSUER, audience: AUDIENCE, keys: key });
  token = sign(key);
  await guard.authenticate({ headers: { authorization: `Bearer ${token}` } });
});

async function codeOf(request: Parameters<Guard['authenticate']>[0]): Promise<string | undefined> {
  try {
    await guard.authenticate(request);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('the cached token', () => {
  it('is a hit in the exact-case form and in any scheme casing (the strict path finds the same entry)', async () => {
    const before = guard.stats;
    await guard.authenticate({ headers: { authorization: `Bearer ${token}` } });
    await guard.authenticate({ headers: { authorization: `bearer ${token}` } });
    await guard.authenticate({ headers: { authorization: `BEARER ${token}` } });
    const after = guard.stats;
    expect(after.cacheHits - before.cacheHits).toBe(3);
    expect(after.cacheMisses - before.cacheMisses).toBe(0);
  });

  it('is a hit through a Fetch Headers object', async () => {
    const before = guard.stats.cacheHits;
    await guard.authenticate({ headers: new Headers({ authorization: `Bearer ${token}` }) });
    expect(guard.stats.cacheHits - before).toBe(1);
  });

  for (const [name, header] of [
    ['two spaces after the scheme', `Bearer  ${token}`],
    ['a trailing space', `Bearer ${token} `],
    ['a trailing newline', `Bearer ${token}\n`],
    ['a tab instead of the space', `Bearer\t${token}`],
    ['a suffix', `Bearer ${token}x`],
  ] as const) {
    it(`with ${name} is refused as it is without a cache`, async () => {
      const hits = guard.stats.cacheHits;
      const code = await codeOf({ headers: { authorization: header } });
      expect(code).toMatch(/^ERR_/);
      expect(guard.stats.cacheHits).toBe(hits);
    });
  }

  it('sent in two Authorization headers is 400 ERR_TOKEN_MALFORMED, not a hit', async () => {
    const hits = guard.stats.cacheHits;
    const header = `Bearer ${token}`;
    const code = await codeOf({
      headers: { authorization: header },
      rawHeaders: ['Authorization', header, 'authorization', header],
    } as Parameters<Guard['authenticate']>[0]);
    expect(code).toBe('ERR_TOKEN_MALFORMED');
    expect(guard.stats.cacheHits).toBe(hits);
  });

  it('sent as a header array of two values is 400 ERR_TOKEN_MALFORMED', async () => {
    const header = `Bearer ${token}`;
    expect(await codeOf({ headers: { authorization: [header, header] } })).toBe('ERR_TOKEN_MALFORMED');
  });

  it('with a form-body guard and the token in both header and body is refused, cached or not', async () => {
    const formGuard = createGuard({ issuer: ISSUER, audience: AUDIENCE, keys: key, allowFormBody: true });
    const header = { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' };
    await formGuard.authenticate({ headers: { authorization: `Bearer ${token}` } });
    await expect(
      formGuard.authenticate({ headers: header, body: { access_token: token }, method: 'POST' }),
    ).rejects.toMatchObject({ code: 'ERR_TOKEN_MALFORMED' });
  });
});
