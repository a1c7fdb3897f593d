import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { SqliteStore } from '@tessera/store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

const env = { NODE_ENV: 'test', TESSERA_ARGON2_MEMORY_COST_KIB: '8192', TESSERA_ARGON2_TIME_COST: '1' };

describe('tessera clients', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(() => cleanup());

  const cli = (argv: string[]) => runCli(argv, { cwd: dir, env });

  async function storedClients() {
    const store = new SqliteStore({ path: join(dir, '.tessera/tessera.sqlite') });
    try {
      return await store.listClients();
    } finally {
      await store.close();
    }
  }

  it('clients add prints a cli_ id and a tcs_ secret once, warns on stderr, and stores only the hash', async () => {
    const added = await cli(['clients', 'add', 'orders API']);
    expect(added.code).toBe(0);
    const id = /^client_id +(cli_[A-Za-z0-9_-]{22})$/m.exec(added.stdout)?.[1];
    const secret = /^client_secret +(tcs_[A-Za-z0-9_-]{43})$/m.exec(added.stdout)?.[1];
    expect(id).toBeDefined();
    expect(secret).toBeDefined();
    expect(added.stdout).toMatch(/^scopes +introspect revoke revocations$/m);
    expect(added.stderr).toContain('shown only this once');
    expect(added.stderr).not.toContain(secret as string);

    const [stored] = await storedClients();
    expect(stored).toMatchObject({ id, name: 'orders API', scopes: 'introspect revoke revocations' });
    expect(stored?.secretHash).toBe(
      createHash('sha256')
        .update(secret as string)
        .digest('hex'),
    );
  });

  it('clients add --json --id --scopes gives a machine-readable record with the chosen id and scopes', async () => {
    const added = await cli(['clients', 'add', 'billing', '--id', 'rs-billing', '--scopes', 'introspect', '--json']);
    expect(added.code).toBe(0);
    const body = JSON.parse(added.stdout);
    expect(Object.keys(body).sort()).toEqual(['client_id', 'client_secret', 'created_at', 'name', 'scopes']);
    expect(body).toMatchObject({ client_id: 'rs-billing', name: 'billing', scopes: 'introspect' });
    expect(body.client_secret).toMatch(/^tcs_[A-Za-z0-9_-]{43}$/);
    expect(added.stderr).toContain('shown only this once');
  });

  it('clients add refuses a taken id, an unknown scope and a bad id, and stores nothing for them', async () => {
    expect((await cli(['clients', 'add', 'one', '--id', 'rs-one'])).code).toBe(0);
    const taken = await cli(['clients', 'add', 'two', '--id', 'rs-one']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('already exists');
    expect(taken.stdout).not.toContain('tcs_');
    const scope = await cli(['clients', 'add', 'three', '--scopes', 'introspect admin']);
    expect(scope.code).toBe(1);
    expect(scope.stderr).toContain('scopes');
    const badId = await cli(['clients', 'add', 'four', '--id', 'has space']);
    expect(badId.code).toBe(1);
    expect((await cli(['clients', 'add'])).code).toBe(2);
    expect((await storedClients()).map((c) => [c.id, c.name])).toEqual([['rs-one', 'one']]);
  });

  it('clients list shows ids, names and scopes but never a secret or a hash', async () => {
    const first = JSON.parse((await cli(['clients', 'add', 'orders', '--json'])).stdout);
    await cli(['clients', 'add', 'billing', '--id', 'rs-billing', '--scopes', 'revoke']);
    const list = await cli(['clients', 'list', '--json']);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as Record<string, unknown>[];
    expect(rows.map((r) => [r.client_id, r.name, r.scopes])).toEqual([
      [first.client_id, 'orders', 'introspect revoke revocations'],
      ['rs-billing', 'billing', 'revoke'],
    ]);
    for (const row of rows) expect(Object.keys(row).sort()).toEqual(['client_id', 'created_at', 'name', 'scopes']);
    const text = await cli(['clients', 'list']);
    const hashes = (await storedClients()).map((c) => c.secretHash);
    for (const output of [list.stdout, text.stdout]) {
      expect(output).not.toContain('tcs_');
      for (const hash of hashes) expect(output).not.toContain(hash);
    }
    expect(text.stdout).toContain('rs-billing');
  });

  it('clients remove deletes a client and audits it; an unknown id fails with exit 1', async () => {
    await cli(['clients', 'add', 'orders', '--id', 'rs-orders']);
    const removed = await cli(['clients', 'remove', 'rs-orders']);
    expect(removed.code).toBe(0);
    expect(removed.stdout.trim()).toBe('rs-orders removed');
    expect(await storedClients()).toEqual([]);
    const again = await cli(['clients', 'remove', 'rs-orders']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no client');

    const store = new SqliteStore({ path: join(dir, '.tessera/tessera.sqlite') });
    try {
      const types = (await store.listAudit({ limit: 50 })).filter((e) => e.type.startsWith('client.'));
      expect(types.map((e) => [e.type, e.data.client_id])).toEqual([
        ['client.deleted', 'rs-orders'],
        ['client.created', 'rs-orders'],
      ]);
      expect(JSON.stringify(types)).not.toContain('tcs_');
    } finally {
      await store.close();
    }
  });

  it('help lists the three clients commands', async () => {
    const help = await runCli(['help']);
    for (const usage of ['tessera clients add', 'tessera clients list', 'tessera clients remove']) {
      expect(help.stdout).toContain(usage);
    }
  });
});
