// A private box for one test daemon: its own HOME, XDG dirs and data dir, so nothing of the
// machine running the tests (config, SWARMD_* variables, state) reaches it, and the flags
// that keep a daemon on loopback.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SwarmctlOptions, type SwarmctlResult, swarmctl } from './swarmctl.js';

/** A temp dir standing for one box: HOME, data dir and config file of its daemon. */
export interface Sandbox {
  dir: string;
  dataDir: string;
  /** The daemon's control socket (`<dataDir>/control.sock`). */
  socket: string;
  /** HOME and XDG dirs inside `dir`; no SWARMD_* variable. */
  env: NodeJS.ProcessEnv;
  /** swarmctl as this box's user runs it: its environment and `--data-dir`. Never throws. */
  swarmctl(args: string[], options?: SwarmctlOptions): Promise<SwarmctlResult>;
  /** Delete the dir. */
  remove(): Promise<void>;
}

/** Make a sandbox in the temp dir; `prefix` names its dir. */
export async function createSandbox(prefix = 'swarmd-box-'): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const dataDir = join(dir, 'state');
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('SWARMD_')),
  );
  Object.assign(env, {
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_STATE_HOME: join(dir, 'state-home'),
  });
  return {
    dir,
    dataDir,
    socket: join(dataDir, 'control.sock'),
    env,
    swarmctl: (args, options = {}) => swarmctl(['--data-dir', dataDir, ...args], { env, ...options }),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Loopback flags: no mDNS, OS-chosen peer and gateway ports (several daemons share this
 * machine), no backend probing, and an nvidia-smi that does not exist (GPU facts must not
 * depend on the machine). Later flags override these.
 */
export function loopbackFlags(sandbox: Sandbox, opts: { port?: boolean } = {}): string[] {
  return [
    '--no-mdns',
    '--peer.host',
    '127.0.0.1',
    ...(opts.port === false ? [] : ['--port', '0']),
    '--gateway.port',
    '0',
    '--data-dir',
    sandbox.dataDir,
    '--backends.autoDetect',
    'false',
    '--facts.nvidiaSmi',
    join(sandbox.dir, 'no-such-nvidia-smi'),
  ];
}

/** Write a config file (JSON is YAML) into the sandbox; returns its path for `--config`. */
export async function writeConfig(sandbox: Sandbox, config: Record<string, unknown>): Promise<string> {
  const path = join(sandbox.dir, 'swarmd.yaml');
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}
