import { describe, expect, it } from 'vitest';
import { readDatabaseSchema, readRedisKeyPrefix, readServiceUrls, redactUrl } from '../../src/service-urls.js';

describe('readServiceUrls', () => {
  it('selects nothing when neither variable is set (or set empty)', () => {
    expect(readServiceUrls({})).toEqual({});
    expect(readServiceUrls({ TESSERA_DATABASE_URL: '', TESSERA_REDIS_URL: '  ' })).toEqual({});
  });

  it('accepts postgres:// and postgresql:// database URLs and redis:// and rediss:// Redis URLs', () => {
    expect(
      readServiceUrls({ TESSERA_DATABASE_URL: 'postgres://u:p@db:5432/t', TESSERA_REDIS_URL: 'rediss://cache:6380/1' }),
    ).toEqual({ databaseUrl: 'postgres://u:p@db:5432/t', redisUrl: 'rediss://cache:6380/1' });
    expect(readServiceUrls({ TESSERA_DATABASE_URL: 'postgresql://localhost/tessera' })).toEqual({
      databaseUrl: 'postgresql://localhost/tessera',
    });
    expect(readServiceUrls({ TESSERA_REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
    });
  });

  it.each([
    ['TESSERA_DATABASE_URL', 'mysql://db/tessera'],
    ['TESSERA_DATABASE_URL', 'not a url'],
    ['TESSERA_DATABASE_URL', '/var/lib/tessera.sqlite'],
    ['TESSERA_DATABASE_URL', 'postgres:///tessera'],
    ['TESSERA_REDIS_URL', 'http://cache:6379'],
    ['TESSERA_REDIS_URL', 'cache:6379'],
    ['TESSERA_REDIS_URL', 'redis://cache:6379/#x'],
  ])('refuses %s=%s with a message naming the variable', (variable, value) => {
    expect(() => readServiceUrls({ [variable]: value })).toThrow(new RegExp(`^${variable} must`));
  });

  it('never puts the password of a refused URL in the message', () => {
    try {
      readServiceUrls({ TESSERA_DATABASE_URL: 'mysql://admin:hunter2-secret@db/tessera' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });
});

describe('schema, key prefix and redaction', () => {
  it('defaults the schema to tessera and refuses anything but a plain identifier', () => {
    expect(readDatabaseSchema({})).toBe('tessera');
    expect(readDatabaseSchema({ TESSERA_DATABASE_SCHEMA: 'tenant_2' })).toBe('tenant_2');
    for (const bad of ['Tessera', '2x', 'a-b', 'x; drop table users', 'a'.repeat(64)]) {
      expect(() => readDatabaseSchema({ TESSERA_DATABASE_SCHEMA: bad })).toThrow(/^TESSERA_DATABASE_SCHEMA must/);
    }
  });

  it('defaults the key prefix to tessera: and refuses anything outside letters, digits and :_-.', () => {
    expect(readRedisKeyPrefix({})).toBe('tessera:');
    expect(readRedisKeyPrefix({ TESSERA_REDIS_KEY_PREFIX: 'prod:auth:' })).toBe('prod:auth:');
    for (const bad of ['a b', 'x\ny', 'k*', 'p'.repeat(65)]) {
      expect(() => readRedisKeyPrefix({ TESSERA_REDIS_KEY_PREFIX: bad })).toThrow(/^TESSERA_REDIS_KEY_PREFIX must/);
    }
  });

  it('redacts the password and keeps the rest', () => {
    expect(redactUrl('postgres://tessera:s3cret@db:5432/tessera')).toBe('postgres://tessera:***@db:5432/tessera');
    expect(redactUrl('redis://cache:6379/0')).toBe('redis://cache:6379/0');
  });
});
