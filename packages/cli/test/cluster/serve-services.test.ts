/**
 * `tessera serve` and the operator commands pick their stores from TESSERA_DATABASE_URL and
 * TESSERA_REDIS_URL: a malformed or unreachable service stops the start with a message naming
 * the variable (and no password), and the operator commands see what the servers wrote.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  CLI_BIN,
  type Cluster,
  freePort,
  register,
  startCluster,
  startInstance,
} from './support/instances.js';
import { DATABASE_URL, dropTestState, randomPrefix, randomSchema, sharedServicesEnv } from './support/services.js';
import { describeCluster } from './support/suite.js';

function cli(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_BIN, ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('tessera serve: service URLs checked at start', () => {
  let dir: string;
  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'tessera-serve-urls-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a database URL that is not postgres://, naming the variable and not echoing the password', async () => {
    const r = await cli(['serve', '--port', '0'], { TESSERA_DATABASE_URL: 'mysql://root:hunter2@db/tessera' }, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TESSERA_DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('refuses a Redis URL that is not redis://', async () => {
    const r = await cli(['serve', '--port', '0'], { TESSERA_REDIS_URL: 'http://cache:6379' }, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TESSERA_REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('stops with the variable named when a configured service does not answer', async () => {
    const closed = await freePort();
    const pg = await cli(
      ['users', 'list'],
      { TESSERA_DATABASE_URL: `postgres://tessera:s3cret@127.0.0.1:${closed}/x` },
      dir,
    );
    expect(pg.code).toBe(1);
    expect(pg.stderr).toContain(
      `cannot reach PostgreSQL at postgres://tessera:***@127.0.0.1:${closed}/x (TESSERA_DATABASE_URL)`,
    );
    expect(pg.stderr).not.toContain('s3cret');
    const redis = await cli(['serve', '--port', '0'], { TESSERA_REDIS_URL: `redis://127.0.0.1:${closed}` }, dir);
    expect(redis.code).toBe(1);
    expect(redis.stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${closed} (TESSERA_REDIS_URL)`);
  });
});

describeCluster('tessera serve and the operator commands on PostgreSQL + Redis', () => {
  const schema = randomSchema();
  const prefix = randomPrefix();
  const env = {
    ...sharedServicesEnv(schema, prefix),
  };
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(1, env);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    await dropTestState(schema, prefix);
  });

  it('names both stores at start, and `users list` reads the accounts the server created', async () => {
    const banner = cluster.instances[0]?.stderr() ?? '';
    expect(banner).toContain(`schema ${schema}`);
    expect(banner).toMatch(/durable store: PostgreSQL postgres(ql)?:\/\/\S+ schema /);
    expect(banner).toContain(`ephemeral store: Redis`);
    expect(banner).toContain(`prefix ${prefix}`);
    expect(banner).not.toContain('SQLite');
    await register(cluster.urls[0] as string, 'ops@example.com');
    const r = await cli(
      ['users', 'list', '--json'],
      { ...env, TESSERA_MASTER_KEY: cluster.masterKey, TESSERA_ISSUER: cluster.issuer },
      cluster.dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { email: string }[]).map((u) => u.email)).toEqual(['ops@example.com']);
  });

  it('serve warns when PostgreSQL is used without Redis (ephemeral state then per instance)', async () => {
    const port = await freePort();
    const solo = await startInstance({
      dir: cluster.dir,
      port,
      issuer: cluster.issuer,
      masterKey: cluster.masterKey,
      env: { TESSERA_DATABASE_URL: DATABASE_URL, TESSERA_DATABASE_SCHEMA: schema },
    });
    try {
      expect(solo.stderr()).toMatch(/WARNING: TESSERA_DATABASE_URL is set without TESSERA_REDIS_URL/);
      expect(solo.stderr()).toMatch(/ephemeral store: SQLite /);
    } finally {
      await solo.stop();
    }
  });
});
