// Runs one job on this node: snapshot the repository, then either the repair loop on the job
// itself (solve.ts) or its plan's subtasks (plan-run.ts), deliver a passing change as a branch and
// a patch (deliver.ts), and end the report with the job's state. The user's files are untouched.
import { errorMessage } from '../../errors.js';
import type { Tier } from '../../inference/types.js';
import { dropOrigin, type Origin, snapshot } from '../io/workspace.js';
import { normalisePath } from '../rules/limits.js';
import { INTERRUPTED_MESSAGE, type JobReport, type JobSpec } from '../types.js';
import { deliver } from './deliver.js';
import { runPlan } from './plan-run.js';
import type { JobRun, RunnerDeps, Unit } from './run-context.js';
import { solve } from './solve.js';

/** The abort reason that ends a job `interrupted` (swarmd is stopping) rather than `cancelled`. */
export function stoppingReason(): Error {
  return Object.assign(new Error('swarmd is stopping'), { name: STOPPING });
}
const STOPPING = 'SwarmdStopping';

/** Run the job to its end, filling `report`; never throws (failures end up in the report). */
export async function runJob(
  spec: JobSpec,
  report: JobReport,
  deps: RunnerDeps,
  signal: AbortSignal,
): Promise<void> {
  const runner = new JobRunner(spec, report, deps, signal);
  await runner.run();
}

class JobRunner {
  constructor(
    private readonly spec: JobSpec,
    private readonly report: JobReport,
    private readonly deps: RunnerDeps,
    private readonly signal: AbortSignal,
  ) {}

  async run(): Promise<void> {
    const { spec, report, deps, signal } = this;
    let origin: Origin | null = null;
    try {
      origin = await snapshot(spec.repo, report.id);
      let attempts = 0;
      const job: JobRun = { spec, report, deps, signal, origin, nextAttempt: () => ++attempts };
      const ladder = report.tiersUsed.length > 0 ? [...report.tiersUsed] : ['fast' as Tier];
      report.tiersUsed = [];
      const solved = spec.plan
        ? await runPlan(job, spec.plan, ladder)
        : await solve(job, wholeJob(job, ladder));
      if (signal.aborted) return this.endAborted();
      if (solved.passed && solved.workspace) {
        await deliver(job, solved.workspace, solved.diff);
        return this.end('passed', solved.message);
      }
      return this.end('failed', solved.message);
    } catch (err) {
      if (signal.aborted) return this.endAborted();
      deps.logger.warn({ job: report.id, err }, 'job failed with an error');
      return this.end('failed', `the job could not run: ${errorMessage(err)}`);
    } finally {
      deps.locks.releaseAll(report.id);
      if (origin) await dropOrigin(origin).catch(() => undefined);
    }
  }

  /** Cancelled by the user, or interrupted because swarmd is stopping. */
  private endAborted(): void {
    const reason = this.signal.reason as { name?: unknown } | undefined;
    if (reason?.name === STOPPING) this.end('interrupted', INTERRUPTED_MESSAGE);
    else this.end('cancelled', 'cancelled by the user');
  }

  private end(state: JobReport['state'], message: string): void {
    this.report.state = state;
    this.report.message = message;
    this.report.endedAt = Date.now();
    // Subtasks still running or waiting end with the job (cancelled, interrupted, or failed).
    for (const subtask of this.report.subtasks) {
      if (subtask.state !== 'running') continue;
      subtask.state = state === 'passed' ? 'failed' : state;
      subtask.message = `${subtask.message === 'waiting' ? 'never started' : 'stopped'}: ${message}`;
    }
    this.deps.save();
    this.deps.emit({ kind: 'done', state, ok: state === 'passed', message });
  }
}

/** A job without a plan as the repair loop's unit: its own task, files, steps and best-of. */
function wholeJob(job: JobRun, ladder: Tier[]): Unit {
  return {
    owner: job.report.id,
    subtask: null,
    task: job.spec.task,
    named: job.spec.files.map(normalisePath),
    steps: job.report.steps,
    base: job.origin.base,
    bestOf: job.spec.bestOf,
    ladder,
  };
}
