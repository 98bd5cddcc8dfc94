// The sandbox verification runs in. Verification runs code a model wrote: the local user asked
// for that, so it runs, but contained. `auto` is bubblewrap: every namespace unshared (no
// network, its own PIDs, so nothing outlives the step), the system read-only (/usr, /etc, /opt
// and the /bin, /lib links), an empty private tmpfs at /tmp and at $HOME with the toolchain
// caches of jobs.sandbox.readOnly bound read-only into it, the data dir and control socket hidden,
// the attempt's workspace the only place it may write, and it dies with its parent. Where
// bubblewrap cannot run, `auto` has no sandbox and jobs refuse to verify: unshare(1) alone only
// cuts the network, and a mount setup of our own would be a second, weaker bubblewrap. `off`:
// no sandbox, on the user's explicit word; the report says which was used.
import { existsSync, lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { describeRun, runCommand } from '../../util/run-command.js';
import type { SandboxSettings } from '../rules/settings.js';
import type { SandboxKind } from '../types.js';

/** What a sandbox is built around: the daemon's home, and what a step must never see. */
export interface SandboxHost {
  /** The daemon's home directory (an empty private tmpfs inside the sandbox). */
  home: string;
  /** Paths hidden from a step even where a read-only path holds them: data dir, control socket, config file. */
  hidden: readonly string[];
}

/** The directories one step may use besides the system. */
export interface StepMounts {
  /** Where the step runs: the only directory it may write, besides its private /tmp. */
  workspace: string;
  /** Paths it may read: the workspace's git directory, the node_modules linked into it. */
  readOnly: readonly string[];
}

/** How to run a command inside the sandbox. */
export interface Sandbox {
  kind: SandboxKind;
  /** Variables the sandbox sets for a step: HOME, and TMPDIR where it has its own. */
  env: Readonly<Record<string, string>>;
  /** The argv that runs `argv` in `mounts.workspace` inside the sandbox. */
  wrap(argv: readonly string[], mounts: StepMounts): string[];
}

/** The sandbox for the settings, or why there is none. */
export type SandboxChoice = { ok: true; sandbox: Sandbox } | { ok: false; reason: string };

/** System directories every step may read: programs, libraries, configuration. */
const SYSTEM_DIRS = ['/usr', '/etc', '/opt', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

type Probe = { ok: true } | { ok: false; reason: string };

let working: Promise<Probe> | undefined;

/**
 * The sandbox for `settings`. A working bubblewrap is remembered for the process; a failed probe
 * is tried again next time (bubblewrap may have been installed since).
 */
export async function chooseSandbox(settings: SandboxSettings, host: SandboxHost): Promise<SandboxChoice> {
  if (settings.mode === 'off') return { ok: true, sandbox: unsandboxed(host) };
  working ??= probeBubblewrap();
  const probe = await working;
  if (!probe.ok) working = undefined;
  return probe.ok ? { ok: true, sandbox: bubblewrap(settings, host) } : probe;
}

/** No sandbox: the step runs as the daemon's user, in its own process group. */
function unsandboxed(host: SandboxHost): Sandbox {
  return { kind: 'none', env: { HOME: host.home }, wrap: (argv) => [...argv] };
}

function bubblewrap(settings: SandboxSettings, host: SandboxHost): Sandbox {
  // A home of `/` (or none) cannot be covered by a tmpfs: the step's home is then its /tmp.
  const home = host.home.startsWith('/') && host.home !== '/' ? host.home : null;
  return {
    kind: 'bubblewrap',
    env: { HOME: home ?? '/tmp', TMPDIR: '/tmp' },
    wrap: (argv, mounts) =>
      bwrapArgv(argv, mounts, {
        home,
        readOnly: settings.readOnly.flatMap((path) => {
          if (path.startsWith('~/') && home === null) return [];
          const full = path.startsWith('~/') ? join(home ?? '/', path.slice(2)) : path;
          return existsSync(full) ? [full] : [];
        }),
        hidden: hiddenPaths(host.hidden),
      }),
  };
}

/**
 * The paths to cover for `paths`: each where it leads (a link to it, in a read-only path, then
 * points at the cover), and as named too unless that is a link itself.
 */
function hiddenPaths(paths: readonly string[]): string[] {
  const covered = paths
    .filter((path) => existsSync(path))
    .flatMap((path) => {
      const real = realpathSync(path);
      return lstatSync(path).isSymbolicLink() || real === path ? [real] : [path, real];
    });
  return [...new Set(covered)];
}

/** What bwrapArgv lays out, every path existing (checked by the caller). */
export interface BwrapLayout {
  /** Covered by an empty tmpfs, null for none. */
  home: string | null;
  readOnly: readonly string[];
  hidden: readonly string[];
}

/**
 * The bubblewrap command line. Mounts go in this order, each over the ones before: the system
 * read-only, empty /tmp and home, the read-only paths, the hidden paths covered (a directory by an
 * empty tmpfs, anything else by /dev/null), the step's read-only paths, its workspace read-write;
 * then the root itself is made read-only.
 */
export function bwrapArgv(argv: readonly string[], mounts: StepMounts, layout: BwrapLayout): string[] {
  const args = ['bwrap', '--unshare-all', '--die-with-parent', '--new-session'];
  for (const dir of SYSTEM_DIRS) {
    const stat = lstatSync(dir, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (stat?.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  if (layout.home) args.push('--tmpfs', layout.home);
  for (const path of layout.readOnly) args.push('--ro-bind', realpathSync(path), path);
  for (const path of layout.hidden) {
    // A socket inside a hidden directory is covered with it.
    if (layout.hidden.some((dir) => dir !== path && path.startsWith(dir + sep))) continue;
    if (statSync(path).isDirectory()) args.push('--tmpfs', path);
    else args.push('--ro-bind', '/dev/null', path);
  }
  for (const path of mounts.readOnly) args.push('--ro-bind', realpathSync(path), path);
  args.push('--bind', mounts.workspace, mounts.workspace, '--remount-ro', '/');
  args.push('--chdir', mounts.workspace, '--', ...argv);
  return args;
}

/** Whether bubblewrap runs here with everything bwrapArgv asks of it (user namespaces above all). */
async function probeBubblewrap(): Promise<Probe> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmd-sandbox-probe-'));
  try {
    const argv = bwrapArgv(
      ['true'],
      { workspace: resolve(dir), readOnly: [] },
      {
        home: null,
        readOnly: [],
        hidden: [],
      },
    );
    const result = await runCommand(argv[0]!, argv.slice(1), {
      timeoutMs: 10_000,
      envOnly: true,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    if (result.exitCode === 0) return { ok: true };
    if (result.errorCode === 'ENOENT') return { ok: false, reason: 'bubblewrap (bwrap) is not installed' };
    const said = result.stderr.trim() || describeRun('bwrap', result, 10_000);
    return { ok: false, reason: `bubblewrap cannot make its sandbox here: ${said}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
