import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

describe('tessera (global)', () => {
  for (const argv of [[], ['help'], ['--help'], ['-h']]) {
    it(`prints usage for every command with ${JSON.stringify(argv)} and exits 0`, async () => {
      const { code, stdout } = await runCli(argv);
      expect(code).toBe(0);
      for (const usage of ['tessera decode', 'tessera verify', 'tessera keys generate', 'tessera help']) {
        expect(stdout).toContain(usage);
      }
    });
  }

  it('prints the package version with --version', async () => {
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('prints the details of one command with "help <command>" and "<command> --help"', async () => {
    const viaHelp = await runCli(['help', 'verify']);
    const viaFlag = await runCli(['verify', '--help']);
    expect(viaHelp.code).toBe(0);
    expect(viaFlag.code).toBe(0);
    expect(viaHelp.stdout).toContain('--clock-tolerance');
    expect(viaFlag.stdout).toBe(viaHelp.stdout);
    expect((await runCli(['help', 'keys'])).stdout).toContain('--modulus-length');
  });

  it('exits 2 with usage on an unknown command', async () => {
    const { code, stdout, stderr } = await runCli(['frobnicate']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown command: frobnicate');
    expect(stderr).toContain('usage: tessera <command>');
  });

  it('exits 2 on an unknown subcommand or a missing one', async () => {
    const unknown = await runCli(['keys', 'destroy']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command: keys destroy');
    expect(unknown.stderr).toContain('usage: tessera keys generate');
    expect((await runCli(['keys'])).code).toBe(2);
  });

  it('exits 2 on an unknown global option', async () => {
    const { code, stderr } = await runCli(['--frob']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown option: --frob');
  });
});
