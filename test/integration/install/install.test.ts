// Runs the real install.sh with HOME and XDG_CONFIG_HOME in a temp dir and stub systemctl and
// loginctl scripts first on PATH, so neither the real home nor the real systemd is touched.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import { loadCredentials } from '../../../src/security/store.js';
import { ensureBuilt, ROOT, SWARMD } from '../../helpers/build.js';
import { swarmctl } from '../../helpers/swarmctl.js';

const installSh = join(ROOT, 'install.sh');

let root: string;
let home: string;
let configHome: string;
let stubs: string;
let callLog: string;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A stub command that logs its arguments, one invocation a line, then runs `body`. */
function writeStub(name: string, body: string) {
  const path = join(stubs, name);
  writeFileSync(path, `#!/usr/bin/env bash\nprintf '${name} %s\\n' "$*" >> '${callLog}'\n${body}\n`);
  chmodSync(path, 0o755);
}

function install(...params: (string | { input: string })[]): Run {
  const args = params.filter((p): p is string => typeof p === 'string');
  const input = params.find((p): p is { input: string } => typeof p !== 'string')?.input ?? '';
  const result = spawnSync('bash', [installSh, ...args], {
    cwd: root,
    encoding: 'utf8',
    input,
    timeout: 60_000,
    env: {
      PATH: `${stubs}:${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: home,
      XDG_CONFIG_HOME: configHome,
      XDG_STATE_HOME: join(home, 'state'),
      USER: 'tester',
      LANG: 'C.UTF-8',
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every stub invocation so far: `systemctl --user daemon-reload`, `loginctl show-user ...`. */
function calls(): string[] {
  if (!existsSync(callLog)) return [];
  return readFileSync(callLog, 'utf8').split('\n').filter(Boolean);
}

function callIndex(log: string[], pattern: RegExp): number {
  return log.findIndex((line) => pattern.test(line));
}

const configFile = () => join(configHome, 'swarmd', 'config.yaml');
const dataDir = () => join(home, 'state', 'swarmd');
const TOKEN_LINE = /^ {4}Join token \(keep it secret\): (swarmd1_[A-Za-z0-9_-]+)$/m;

async function swarmIdOf(dir: string): Promise<string | undefined> {
  return (await loadCredentials(dir, await loadOrCreateNodeId(dir)))?.swarmId;
}
const unitFile = () => join(configHome, 'systemd', 'user', 'swarmd.service');

// install.sh runs the built swarmd and swarmctl (and what they import).
beforeAll(() => ensureBuilt(), 320_000);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'swarmd-install-'));
  home = join(root, 'home');
  configHome = join(root, 'config');
  stubs = join(root, 'bin');
  callLog = join(root, 'calls.log');
  mkdirSync(home);
  mkdirSync(stubs);
  writeStub('systemctl', 'exit 0');
  writeStub('loginctl', `[[ "$1" == show-user ]] && echo 'Linger=no'\nexit 0`);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('install.sh', () => {
  it('writes the config, installs the unit and starts the service', () => {
    const run = install('--skip-build');
    expect(run.status, run.stderr).toBe(0);

    const config = loadConfig({ env: { HOME: home, XDG_CONFIG_HOME: configHome }, argv: [] });
    expect(config.configPath).toBe(configFile());
    expect(config.version).toBe(1);

    const unit = readFileSync(unitFile(), 'utf8');
    expect(unit).not.toMatch(/@[A-Z_]+@/);
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    const [node, script] = [...execStart.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    expect(node).toMatch(/^\/.*node$/);
    expect(existsSync(node!)).toBe(true);
    expect(script).toBe(SWARMD);
    expect(unit).toContain(`SWARMD_CONFIG=${configFile()}`);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^TimeoutStopSec=45$/m);
    // Enough file handles for the peer port's 1,024 connections and everything else.
    expect(unit).toMatch(/^LimitNOFILE=65536$/m);
    expect(unit).toMatch(/^WantedBy=default\.target$/m);

    const log = calls();
    const reload = callIndex(log, /^systemctl --user daemon-reload$/);
    const enable = callIndex(log, /^systemctl --user enable .*swarmd\.service$/);
    const restart = callIndex(log, /^systemctl --user restart swarmd\.service$/);
    expect(reload).toBeGreaterThanOrEqual(0);
    expect(enable).toBeGreaterThan(reload);
    expect(restart).toBeGreaterThan(enable);

    expect(run.stdout).toContain('loginctl enable-linger tester');
  });

  it('upgrades in place: keeps an edited config, rewrites the unit, restarts again', () => {
    expect(install('--skip-build').status).toBe(0);
    const edited = `${readFileSync(configFile(), 'utf8')}\n# my own note\n`.replace(
      'port: 8765',
      'port: 9999',
    );
    writeFileSync(configFile(), edited);
    writeFileSync(unitFile(), 'stale');

    const second = install('--skip-build');
    expect(second.status, second.stderr).toBe(0);
    expect(readFileSync(configFile(), 'utf8')).toBe(edited);
    expect(second.stdout).toMatch(/Keeping your config/);
    expect(readFileSync(unitFile(), 'utf8')).toMatch(/^ExecStart=/m);
    expect(readdirSync(join(configHome, 'systemd', 'user'))).toEqual(['swarmd.service']);
    expect(readdirSync(join(configHome, 'swarmd'))).toEqual(['config.yaml']);
    expect(calls().filter((line) => line === 'systemctl --user restart swarmd.service')).toHaveLength(2);
  });

  it('enables but does not start with --no-start', () => {
    const run = install('--skip-build', '--no-start');
    expect(run.status, run.stderr).toBe(0);
    const log = calls();
    expect(callIndex(log, /^systemctl --user enable /)).toBeGreaterThanOrEqual(0);
    expect(log.filter((line) => /\b(re)?start\b/.test(line))).toEqual([]);
    expect(run.stdout).toContain('systemctl --user start swarmd');
  });

  it('gives no linger advice when lingering is already on', () => {
    writeStub('loginctl', `[[ "$1" == show-user ]] && echo 'Linger=yes'\nexit 0`);
    const run = install('--skip-build');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('enable-linger');
  });

  it('checks bubblewrap, the sandbox of coding jobs: works here; says why when it cannot run, and goes on', () => {
    const works = install('--skip-build');
    expect(works.status, works.stderr).toBe(0);
    expect(works.stdout).toContain('bubblewrap works: coding jobs verify in it');
    // A bwrap that cannot make user namespaces (the error bwrap prints then).
    writeStub('bwrap', `echo 'bwrap: setting up uid map: Permission denied' >&2\nexit 1`);
    const blocked = install('--skip-build');
    expect(blocked.status, blocked.stderr).toBe(0);
    expect(blocked.stdout).toContain(
      'bubblewrap is installed but cannot make its sandbox here: bwrap: setting up uid map: Permission denied',
    );
    expect(blocked.stdout).toContain('unprivileged user namespaces must be allowed');
    expect(calls().filter((line) => line.startsWith('bwrap '))).toHaveLength(1);
  });

  it('uninstalls: stops and disables the unit, removes it, keeps the config', () => {
    expect(install('--skip-build').status).toBe(0);
    const config = readFileSync(configFile(), 'utf8');
    writeFileSync(callLog, '');

    const run = install('--uninstall');
    expect(run.status, run.stderr).toBe(0);
    const log = calls();
    const stop = callIndex(log, /^systemctl --user stop swarmd\.service$/);
    const disable = callIndex(log, /^systemctl --user disable swarmd\.service$/);
    const reload = callIndex(log, /^systemctl --user daemon-reload$/);
    expect(stop).toBeGreaterThanOrEqual(0);
    expect(disable).toBeGreaterThanOrEqual(0);
    expect(reload).toBeGreaterThan(disable);
    expect(existsSync(unitFile())).toBe(false);
    expect(readFileSync(configFile(), 'utf8')).toBe(config);
    expect(run.stdout).toContain(join(configHome, 'swarmd'));
  });

  it('uninstalls cleanly when the unit is not loaded', () => {
    writeStub(
      'systemctl',
      `case "$2" in stop|disable) echo "Failed to $2 swarmd.service: Unit swarmd.service not loaded." >&2; exit 5;; esac\nexit 0`,
    );
    const run = install('--uninstall');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain('not loaded');
  });

  it('without a systemd user session installs the rest and says how to run in the foreground', () => {
    writeStub(
      'systemctl',
      `if [[ "$*" == *show-environment* ]]; then echo 'Failed to connect to bus: No medium found' >&2; exit 1; fi\nexit 0`,
    );
    const run = install('--skip-build');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/foreground/);
    expect(run.stdout).toContain(`node ${SWARMD}`);
    expect(existsSync(configFile())).toBe(true);
    expect(existsSync(unitFile())).toBe(false);
    expect(calls().filter((line) => !line.includes('show-environment'))).toEqual([]);
  });

  it('refuses a Node.js older than 20.19', () => {
    writeFileSync(join(stubs, 'node'), `#!/usr/bin/env bash\necho v18.0.0\n`);
    chmodSync(join(stubs, 'node'), 0o755);
    const run = install('--skip-build');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('20.19');
    expect(run.stderr).toContain('v18.0.0');
    expect(existsSync(configFile())).toBe(false);
    expect(calls()).toEqual([]);
  });

  it('lists its options with --help and rejects unknown ones', () => {
    const help = install('--help');
    expect(help.status).toBe(0);
    for (const option of ['--init', '--join TOKEN', '--skip-build', '--no-start', '--uninstall', '--help']) {
      expect(help.stdout).toContain(option);
    }
    const bad = install('--frobnicate');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--frobnicate');
    expect(bad.stderr).toContain('Usage');
  });
});

describe('install.sh --init / --join', () => {
  it('--init starts a swarm before the service starts and prints the token', async () => {
    const run = install('--skip-build', '--init');
    expect(run.status, run.stderr).toBe(0);
    const credentials = join(dataDir(), 'swarm', 'credentials.json');
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    const token = TOKEN_LINE.exec(run.stdout)?.[1];
    expect(token, run.stdout).toMatch(/^swarmd1_/);
    expect(run.stdout).toContain('./install.sh --join <token>');
    expect(run.stdout).not.toContain('not in a swarm yet');
    // The token is the one swarmctl token prints, and the identity exists before the restart.
    const printed = await swarmctl(['--data-dir', dataDir(), 'token']);
    expect(printed.stdout.trim()).toBe(token);
    expect(run.stdout.indexOf('Join token')).toBeLessThan(run.stdout.indexOf('Starting swarmd'));
    expect(calls()).toContain('systemctl --user restart swarmd.service');
  });

  it('--init on a box already in a swarm keeps it and prints its token', () => {
    const first = install('--skip-build', '--init');
    const token = TOKEN_LINE.exec(first.stdout)?.[1];
    const again = install('--skip-build', '--init');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('already in a swarm');
    expect(TOKEN_LINE.exec(again.stdout)?.[1]).toBe(token);
  });

  it('--join <token> on a second home makes it a member of the same swarm', async () => {
    const first = install('--skip-build', '--init');
    const token = TOKEN_LINE.exec(first.stdout)?.[1];
    const firstData = dataDir();
    // A second box: a fresh HOME next to the first.
    home = join(root, 'home2');
    configHome = join(root, 'config2');
    mkdirSync(home);
    const second = install('--skip-build', '--join', token!);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`joined swarm ${await swarmIdOf(firstData)} \\(epoch 1, `));
    expect(dataDir()).not.toBe(firstData);
    expect(await swarmIdOf(dataDir())).toBe(await swarmIdOf(firstData));
    expect(await swarmIdOf(dataDir())).toMatch(/^[0-9a-f]{16}$/);
    // The token went to swarmctl on stdin, never on a command line the stubs could log.
    expect(calls().some((line) => line.includes(token!))).toBe(false);
  });

  it('--join - reads the token from stdin', async () => {
    const token = TOKEN_LINE.exec(install('--skip-build', '--init').stdout)?.[1];
    const firstData = dataDir();
    home = join(root, 'home2');
    configHome = join(root, 'config2');
    mkdirSync(home);
    const run = install('--skip-build', '--join', '-', { input: `${token}\n` });
    expect(run.status, run.stderr).toBe(0);
    expect(await swarmIdOf(dataDir())).toBe(await swarmIdOf(firstData));
  });

  it('--join garbage fails with a clear message before anything is built or started', () => {
    const run = install('--skip-build', '--join', 'garbage');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('not a join token');
    expect(run.stderr).toContain('swarmd1_');
    expect(existsSync(unitFile())).toBe(false);
    expect(calls()).toEqual([]);
  });

  it('--join with a damaged token fails with swarmctl naming the problem, and starts nothing', () => {
    const run = install('--skip-build', '--join', 'swarmd1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/swarmctl: join token is cut short/);
    expect(run.stderr).toContain('the service was not installed or restarted');
    expect(existsSync(unitFile())).toBe(false);
    expect(calls().filter((line) => /enable|restart|start/.test(line))).toEqual([]);
    expect(existsSync(join(dataDir(), 'swarm'))).toBe(false);
  });

  it('refuses --init with --join, and --join without a token', () => {
    const both = install('--init', '--join', 'swarmd1_x');
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('give one of them');
    const bare = install('--join');
    expect(bare.status).toBe(2);
    expect(bare.stderr).toContain('--join needs the join token');
  });

  it('says how to pair when installed without --init or --join', () => {
    const run = install('--skip-build');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('This box is not in a swarm yet');
    expect(run.stdout).toContain('./install.sh --init');
    expect(existsSync(join(dataDir(), 'swarm'))).toBe(false);
  });
});
