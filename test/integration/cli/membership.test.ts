// swarmctl init / join / token as real child processes on temp data dirs: no daemon anywhere.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import { loadCredentials } from '../../../src/security/store.js';
import { ensureBuilt } from '../../helpers/build.js';
import { swarmctl } from '../../helpers/swarmctl.js';

const dir = mkdtempSync(join(tmpdir(), 'swarmctl-membership-it-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** No config file and the default data dir under the temp dir. */
const env = {
  PATH: process.env.PATH ?? '',
  HOME: dir,
  XDG_CONFIG_HOME: join(dir, 'config'),
  XDG_STATE_HOME: join(dir, 'state'),
};
const TOKEN_LINE = /^swarmd1_[A-Za-z0-9_-]+$/;

beforeAll(() => ensureBuilt(), 120_000);

async function swarmIdOf(dataDir: string): Promise<string | undefined> {
  return (await loadCredentials(dataDir, await loadOrCreateNodeId(dataDir)))?.swarmId;
}

describe('swarmctl membership commands (real processes, no daemon)', () => {
  const first = join(dir, 'first');
  const second = join(dir, 'second');
  let token = '';

  it('init prints exactly one token line on stdout and writes 0600 files', async () => {
    const result = await swarmctl(['--data-dir', first, 'init'], { env });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(lines[0]).toMatch(TOKEN_LINE);
    token = lines[0]!;
    expect(result.stderr).toContain('swarmctl join <token>');
    expect(result.stderr).not.toContain(token);
    expect(statSync(join(first, 'swarm', 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(first, 'swarm')).mode & 0o777).toBe(0o700);
    expect(statSync(join(first, 'node-id')).mode & 0o777).toBe(0o600);
  });

  it('token prints the same token', async () => {
    const result = await swarmctl(['--data-dir', first, 'token'], { env });
    expect(result).toStrictEqual({ code: 0, stdout: `${token}\n`, stderr: '' });
    const json = await swarmctl(['--data-dir', first, 'token', '--json'], { env });
    expect(JSON.parse(json.stdout)).toStrictEqual({ token });
  });

  it('join on a second data dir makes it a member of the same swarm', async () => {
    const result = await swarmctl(['--data-dir', second, 'join', token], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^joined swarm ${await swarmIdOf(first)} \\(epoch 1, `));
    expect(await swarmIdOf(second)).toBe(await swarmIdOf(first));
    expect(readFileSync(join(second, 'node-id'), 'utf8')).not.toBe(
      readFileSync(join(first, 'node-id'), 'utf8'),
    );
  });

  it('join - reads the token from stdin', async () => {
    const third = join(dir, 'third');
    const result = await swarmctl(['--data-dir', third, 'join', '-', '--json'], { env, input: `${token}\n` });
    expect(result.code, result.stderr).toBe(0);
    const data = JSON.parse(result.stdout);
    expect(data).toStrictEqual({ swarm: await swarmIdOf(first), fingerprint: expect.any(String), epoch: 1 });
    expect(await swarmIdOf(third)).toBe(data.swarm);
  });

  it('join with garbage exits 2 with SWARM_ERR_SECURITY_TOKEN_INVALID', async () => {
    const result = await swarmctl(['--data-dir', join(dir, 'garbage'), 'join', 'garbage', '--json'], { env });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe('SWARM_ERR_SECURITY_TOKEN_INVALID');
    expect(result.stderr).toMatch(/^swarmctl: join token /);
    // A damaged token (one character changed) is named as such.
    const i = token.length - 10;
    const damaged = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    const bad = await swarmctl(['--data-dir', join(dir, 'damaged'), 'join', damaged], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('damaged');
    expect(bad.stderr).not.toContain(damaged);
  });

  it('init twice exits 2 (already a member) unless --force', async () => {
    const again = await swarmctl(['--data-dir', first, 'init', '--json'], { env });
    expect(again.code).toBe(2);
    expect(JSON.parse(again.stdout).error.code).toBe('SWARM_ERR_SECURITY_ALREADY_MEMBER');
    const before = await swarmIdOf(first);
    const forced = await swarmctl(['--data-dir', first, 'init', '--force'], { env });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout.trim()).toMatch(TOKEN_LINE);
    expect(forced.stdout.trim()).not.toBe(token);
    expect(await swarmIdOf(first)).not.toBe(before);
  });

  it('token on an unpaired data dir exits 2 with SWARM_ERR_SECURITY_UNPAIRED', async () => {
    const result = await swarmctl(['--data-dir', join(dir, 'empty'), 'token', '--json'], { env });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe('SWARM_ERR_SECURITY_UNPAIRED');
  });

  it('without --data-dir uses the data dir of the config', async () => {
    const result = await swarmctl(['init'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(statSync(join(dir, 'state', 'swarmd', 'swarm', 'credentials.json')).isFile()).toBe(true);
  });
});

describe('swarmctl join with shell metacharacters in the token', () => {
  it.each([
    ['a command substitution', (canary: string) => `$(touch ${canary})`],
    ['a command list', (canary: string) => `swarmd1_x; touch ${canary}`],
    ['backticks', (canary: string) => `\`touch ${canary}\``],
  ])('%s is refused as a bad token and runs nothing', async (_what, token) => {
    const canary = join(dir, `canary-${Math.random().toString(36).slice(2)}`);
    const result = await swarmctl(['--data-dir', join(dir, 'meta'), '--json', 'join', token(canary)], {
      env,
    });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe('SWARM_ERR_SECURITY_TOKEN_INVALID');
    expect(() => statSync(canary)).toThrow();
  });
});
