// The sandbox verification runs in. Verification runs code a model wrote: the local user asked
// for that, so it runs, but in the attempt's own workspace, with timeouts, and with no network
// where a sandbox is available. `auto`: bubblewrap when it is on PATH, else an unprivileged
// user + network namespace (`unshare --user --map-root-user --net`) when that works here, else
// none; `off`: none. The report says which was used.
import { runCommand } from '../util/run-command.js';
import type { SandboxKind } from './types.js';

/** jobs.sandbox. */
export type SandboxMode = 'auto' | 'off';

/** How to run a command inside the sandbox. */
export interface Sandbox {
  kind: SandboxKind;
  /** The argv that runs `argv` with working directory `cwd` inside the sandbox. */
  wrap(argv: readonly string[], cwd: string): string[];
}

const NONE: Sandbox = { kind: 'none', wrap: (argv) => [...argv] };

let probed: Promise<Sandbox> | undefined;

/** The sandbox for `mode` (probed once per process). */
export function chooseSandbox(mode: SandboxMode): Promise<Sandbox> {
  if (mode === 'off') return Promise.resolve(NONE);
  probed ??= probe();
  return probed;
}

async function probe(): Promise<Sandbox> {
  if (await works(['bwrap', '--dev-bind', '/', '/', '--unshare-net', '--die-with-parent', 'true'])) {
    return {
      kind: 'bubblewrap',
      wrap: (argv, cwd) => [
        'bwrap',
        '--dev-bind',
        '/',
        '/',
        '--unshare-net',
        '--die-with-parent',
        '--chdir',
        cwd,
        '--',
        ...argv,
      ],
    };
  }
  if (await works(['unshare', '--user', '--map-root-user', '--net', '--', 'true'])) {
    return {
      kind: 'unshare',
      wrap: (argv) => ['unshare', '--user', '--map-root-user', '--net', '--', ...argv],
    };
  }
  return NONE;
}

async function works(argv: string[]): Promise<boolean> {
  const result = await runCommand(argv[0]!, argv.slice(1), { timeoutMs: 5_000 });
  return result.exitCode === 0;
}
