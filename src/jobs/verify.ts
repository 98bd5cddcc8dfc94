// Run verification steps in a workspace: each with a timeout, stdout and stderr captured
// together, inside the sandbox, never through a shell, with an environment built from an
// allowlist (step-env.ts). Each step is its own process group, killed as a whole when its first
// process ends, times out or is cancelled, so nothing it started outlives it. The first failing
// step ends the run; its output is trimmed to what a model needs (failing part first).
import type { Sandbox, StepMounts } from './sandbox.js';
import { stepEnv } from './step-env.js';
import { trimOutput } from './trim.js';
import type { VerifyStep } from './types.js';

/** How a verification run ended. */
export interface VerifyResult {
  ok: boolean;
  /** Steps that ran, with how each ended. */
  steps: { name: string; ok: boolean; ms: number }[];
  /** The failing step, null when all passed. */
  failedStep: string | null;
  /** Its trimmed output ('' when all passed). */
  output: string;
}

/** Options of runSteps. */
export interface VerifyOptions {
  /** The workspace the steps run in (the only place they may write), and what they may read. */
  mounts: StepMounts;
  sandbox: Sandbox;
  /** Variables the repository sets for its steps (`.swarmd.yaml` jobs.env). */
  env?: Readonly<Record<string, string>>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Told when a step starts and ends. */
  onStep?: (step: VerifyStep, ok: boolean | null) => void;
  /** Steps whose failure does not fail the run (best-of ranks on them instead), by name. */
  advisory?: readonly string[];
  maxOutputChars?: number;
}

/** Run the steps in order; stop at the first failure that is not advisory. */
export async function runSteps(steps: readonly VerifyStep[], opts: VerifyOptions): Promise<VerifyResult> {
  const done: VerifyResult['steps'] = [];
  let advisoryFailure: { name: string; output: string } | null = null;
  for (const step of steps) {
    opts.onStep?.(step, null);
    const started = performance.now();
    const { ok, output } = await runOne(step, opts);
    done.push({ name: step.name, ok, ms: Math.round(performance.now() - started) });
    opts.onStep?.(step, ok);
    if (ok) continue;
    if (opts.advisory?.includes(step.name)) {
      advisoryFailure ??= { name: step.name, output };
      continue;
    }
    return { ok: false, steps: done, failedStep: step.name, output };
  }
  return {
    ok: true,
    steps: done,
    failedStep: null,
    output: advisoryFailure ? `${advisoryFailure.name}: ${advisoryFailure.output}` : '',
  };
}

async function runOne(step: VerifyStep, opts: VerifyOptions): Promise<{ ok: boolean; output: string }> {
  // Loaded on first use: daemon start-up does not pay for it (as node/nvidia-smi.ts does).
  const { execa } = await import('execa');
  const cwd = opts.mounts.workspace;
  const argv = opts.sandbox.wrap(step.argv, opts.mounts);
  const subprocess = execa(argv[0]!, argv.slice(1), {
    cwd,
    all: true,
    reject: false,
    stdin: 'ignore',
    // Its own process group (and session), so the whole step can be killed at once.
    detached: true,
    timeout: opts.timeoutMs,
    forceKillAfterDelay: 2_000,
    ...(opts.signal && { cancelSignal: opts.signal }),
    maxBuffer: 20_000_000,
    extendEnv: false,
    env: stepEnv(process.env, opts.sandbox.env, opts.env ?? {}),
  });
  // Whatever the step left running goes with it (and its pipes close, so the step can end).
  subprocess.once('exit', () => killGroup(subprocess.pid));
  const result = await subprocess;
  killGroup(subprocess.pid);
  const raw = typeof result.all === 'string' ? result.all : '';
  // Models see repo-relative paths, and the workspace's temp path never makes two runs differ.
  const text = raw.split(cwd).join('.');
  const max = opts.maxOutputChars ?? 4000;
  if (result.timedOut) {
    return {
      ok: false,
      output: trimOutput(`${text}\n[${step.argv.join(' ')} was stopped after ${opts.timeoutMs} ms]`, max),
    };
  }
  if (result.failed) {
    const why =
      result.exitCode !== undefined
        ? `exited with code ${result.exitCode}`
        : result.isCanceled
          ? 'was cancelled'
          : `could not run: ${result.shortMessage}`;
    return { ok: false, output: trimOutput(`${text}\n[${step.argv.join(' ')} ${why}]`, max) };
  }
  return { ok: true, output: '' };
}

/** SIGKILL a step's process group; gone already is fine. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing of it is left
  }
}
