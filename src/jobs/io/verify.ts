// Run verification steps in a workspace: each with a timeout, stdout and stderr captured
// together, inside the sandbox, never through a shell, with an environment built from an
// allowlist (step-env.ts). Each step is its own process group, killed as a whole when its first
// process ends, times out or is cancelled, so nothing it started outlives it. The first failing
// step ends the run; its output is trimmed to what a model needs (failing part first).
import { type RunResult, runCommand } from '../../util/run-command.js';
import { stepEnv } from '../rules/step-env.js';
import { trimOutput } from '../rules/trim.js';
import type { VerifyStep } from '../types.js';
import type { Sandbox, StepMounts } from './sandbox.js';

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
  const cwd = opts.mounts.workspace;
  const argv = opts.sandbox.wrap(step.argv, opts.mounts);
  // Its own process group, so the whole step (and whatever it left running) goes at once; a
  // spawn that finds no free file handle is a failed step, never a crash (util/run-command.ts).
  const result = await runCommand(argv[0]!, argv.slice(1), {
    cwd,
    group: true,
    timeoutMs: opts.timeoutMs,
    forceKillAfterMs: 2_000,
    ...(opts.signal && { signal: opts.signal }),
    maxBuffer: 20_000_000,
    envOnly: true,
    env: stepEnv(process.env, opts.sandbox.env, opts.env ?? {}),
  });
  // Models see repo-relative paths, and the workspace's temp path never makes two runs differ.
  const text = result.all.split(cwd).join('.');
  const max = opts.maxOutputChars ?? 4000;
  if (result.timedOut) {
    return {
      ok: false,
      output: trimOutput(`${text}\n[${step.argv.join(' ')} was stopped after ${opts.timeoutMs} ms]`, max),
    };
  }
  const why = failure(result);
  if (why !== null) return { ok: false, output: trimOutput(`${text}\n[${step.argv.join(' ')} ${why}]`, max) };
  return { ok: true, output: '' };
}

/** Why a step did not pass, in the words the model reads; null when it exited 0. */
function failure(result: RunResult): string | null {
  if (result.canceled) return 'was cancelled';
  if (result.overflowed) return 'printed more than 20 MB and was stopped';
  if (result.errorCode !== null) return `could not run: ${result.errorMessage ?? result.errorCode}`;
  if (result.signal !== null) return `was ended by ${result.signal}`;
  if (result.exitCode !== 0) return `exited with code ${result.exitCode}`;
  return null;
}
