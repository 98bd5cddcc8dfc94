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
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const installSh = join(repo, 'install.sh');
const entry = join(repo, 'dist', 'src', 'bin', 'swarmd.js');
const defaultFileModule = join(repo, 'dist', 'src', 'config', 'default-file.js');

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

function install(...args: string[]): Run {
  const result = spawnSync('bash', [installSh, ...args], {
    cwd: root,
    encoding: 'utf8',
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
const unitFile = () => join(configHome, 'systemd', 'user', 'swarmd.service');

beforeAll(() => {
  if (existsSync(defaultFileModule) && existsSync(entry)) return;
  // Others may be mid-edit: tsc still emits when some file has type errors.
  spawnSync('npx', ['tsc', '-p', '.'], { cwd: repo, stdio: 'ignore', timeout: 300_000 });
  expect(existsSync(defaultFileModule), `${defaultFileModule} after npx tsc -p .`).toBe(true);
  expect(existsSync(entry), `${entry} after npx tsc -p .`).toBe(true);
}, 320_000);

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
    expect(script).toBe(entry);
    expect(unit).toContain(`SWARMD_CONFIG=${configFile()}`);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^TimeoutStopSec=45$/m);
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
    expect(run.stdout).toContain(`node ${entry}`);
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
    for (const option of ['--skip-build', '--no-start', '--uninstall', '--help']) {
      expect(help.stdout).toContain(option);
    }
    const bad = install('--frobnicate');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--frobnicate');
    expect(bad.stderr).toContain('Usage');
  });
});
