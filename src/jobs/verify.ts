// Run verification steps in a workspace: each with a timeout, stdout and stderr captured
// together, inside the sandbox, never through a shell. The first failing step ends the run;
// its output is trimmed to what a model needs (failing part first).
import { describeRun, runCommand } from '../util/run-command.js';
import type { Sandbox } from './sandbox.js';
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
  cwd: string;
  sandbox: Sandbox;
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
  const argv = opts.sandbox.wrap(step.argv, opts.cwd);
  const result = await runCommand(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    timeoutMs: opts.timeoutMs,
    forceKillAfterMs: 2_000,
    ...(opts.signal && { signal: opts.signal }),
    maxBuffer: 20_000_000,
    env: {
      CI: '1',
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      npm_config_update_notifier: 'false',
      NO_UPDATE_NOTIFIER: '1',
    },
  });
  // Models see repo-relative paths, and the workspace's temp path never makes two runs differ.
  const text = result.all.trimEnd().split(opts.cwd).join('.');
  const max = opts.maxOutputChars ?? 4000;
  if (result.timedOut) {
    return {
      ok: false,
      output: trimOutput(`${text}\n[${step.argv.join(' ')} was stopped after ${opts.timeoutMs} ms]`, max),
    };
  }
  if (result.exitCode !== 0) {
    const why =
      result.exitCode !== null
        ? `exited with code ${result.exitCode}`
        : result.canceled
          ? 'was cancelled'
          : `could not run: ${result.errorMessage ?? describeRun(argv[0]!, result, opts.timeoutMs)}`;
    return { ok: false, output: trimOutput(`${text}\n[${step.argv.join(' ')} ${why}]`, max) };
  }
  return { ok: true, output: '' };
}
