import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

// Cheap argon2 so the suite stays fast; the real defaults are tested in the server package.
const env = { NODE_ENV: 'test', TESSERA_ARGON2_MEMORY_COST_KIB: '8192', TESSERA_ARGON2_TIME_COST: '1' };

describe('operator commands on the embedded database', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(() => cleanup());

  const cli = (argv: string[], stdin?: string) =>
    runCli(argv, { cwd: dir, env, ...(stdin === undefined ? {} : { stdin }) });

  it('users add creates an account from a stdin password, refuses a duplicate, and the database file is 0600', async () => {
    const added = await cli(['users', 'add', 'Ops@Example.com'], 'a long enough passphrase\n');
    expect(added.code).toBe(0);
    expect(added.stdout.trim()).toMatch(/^usr_[A-Za-z0-9_-]{22}$/);
    expect(statSync(join(dir, '.tessera/tessera.sqlite')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.tessera/master.key')).mode & 0o777).toBe(0o600);
    const again = await cli(['users', 'add', 'ops@example.com'], 'another long passphrase');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    const list = await cli(['users', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ email: 'ops@example.com', status: 'active' })]);
  });

  it('users add applies the password policy and never takes the password from argv', async () => {
    const weak = await cli(['users', 'add', 'weak@example.com'], 'password123');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('ERR_PASSWORD_POLICY');
    const noStdin = await cli(['users', 'add', 'x@example.com'], '');
    expect(noStdin.code).toBe(1);
    const argv = await cli(['users', 'add', 'x@example.com', 'secretpassword']);
    expect(argv.code).toBe(2);
  });

  it('users disable and enable change the status; unknown accounts fail', async () => {
    await cli(['users', 'add', 'd@example.com'], 'a long enough passphrase');
    expect((await cli(['users', 'disable', 'd@example.com'])).code).toBe(0);
    expect(JSON.parse((await cli(['users', 'list', '--json'])).stdout)[0].status).toBe('disabled');
    expect((await cli(['users', 'enable', 'd@example.com'])).code).toBe(0);
    expect(JSON.parse((await cli(['users', 'list', '--json'])).stdout)[0].status).toBe('active');
    const missing = await cli(['users', 'disable', 'nobody@example.com']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such account');
    const audit = JSON.parse((await cli(['audit', '--user', 'd@example.com', '--json'])).stdout) as { type: string }[];
    expect(audit.map((e) => e.type)).toEqual(['user.enabled', 'user.disabled', 'user.registered']);
  });

  it('keys list shows a current and a next key; keys rotate refuses a too-young next key unless forced', async () => {
    const list = JSON.parse((await cli(['keys', 'list', '--json'])).stdout) as {
      kid: string;
      state: string;
      alg: string;
    }[];
    expect(list.map((k) => k.state).sort()).toEqual(['current', 'next']);
    expect(list.every((k) => k.alg === 'ES256')).toBe(true);
    expect(JSON.stringify(list)).not.toMatch(/"d"|PRIVATE/);
    const refused = await cli(['keys', 'rotate']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('JWKS max-age');
    const forced = await cli(['keys', 'rotate', '--force']);
    expect(forced.code).toBe(0);
    const after = JSON.parse((await cli(['keys', 'list', '--json'])).stdout) as { kid: string; state: string }[];
    const next = list.find((k) => k.state === 'next');
    expect(after.find((k) => k.kid === next?.kid)?.state).toBe('current');
    expect(after.map((k) => k.state).sort()).toEqual(['current', 'next', 'retiring']);
  });

  it('sessions list and revoke report unknown sessions and accounts', async () => {
    await cli(['users', 'add', 's@example.com'], 'a long enough passphrase');
    const empty = await cli(['sessions', 'list', 's@example.com', '--json']);
    expect(JSON.parse(empty.stdout)).toEqual([]);
    const revoke = await cli(['sessions', 'revoke', 'ses_AAAAAAAAAAAAAAAAAAAAAA']);
    expect(revoke.code).toBe(1);
    expect((await cli(['sessions', 'list', 'ghost@example.com'])).code).toBe(1);
  });

  it('audit needs exactly one selector', async () => {
    expect((await cli(['audit'])).code).toBe(2);
    expect((await cli(['audit', '--user', 'a', '--session', 'b'])).code).toBe(2);
  });
});
