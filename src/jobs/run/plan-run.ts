// A plan's run: subtasks start as plan.ts allows (dependencies passed, maxConcurrent, no shared
// files), each solved on the combined checkout's head and merged into it one at a time; when all
// passed, the job's own steps verify the combined checkout.
import { errorMessage } from '../../errors.js';
import type { Tier } from '../../inference/types.js';
import { Workspace } from '../io/workspace.js';
import { stepsFromCommands } from '../rules/detect.js';
import { blocked, type SubtaskStatus, startable } from '../rules/plan.js';
import type { JobPlan, JobReport, PlanSubtask } from '../types.js';
import { type JobRun, type Solved, verifyIn } from './run-context.js';
import { solve } from './solve.js';

/** A plan: subtasks as their dependencies allow, each merged into the combined checkout, then the job's steps on it. */
export async function runPlan(job: JobRun, plan: JobPlan, ladder: Tier[]): Promise<Solved> {
  const { report, deps, signal, origin } = job;
  const combined = await Workspace.open(origin, 'combined');
  let head = origin.base;
  const status = new Map<string, SubtaskStatus>(plan.subtasks.map((s) => [s.id, 'waiting']));
  report.subtasks = plan.subtasks.map((s) => ({ id: s.id, state: 'running', message: 'waiting' }));
  const running = new Map<string, Promise<void>>();
  let merging = Promise.resolve();
  const setSub = (id: string, state: JobReport['state'], message: string) => {
    const entry = report.subtasks.find((s) => s.id === id)!;
    entry.state = state;
    entry.message = message;
    deps.save();
    deps.emit({
      kind: 'subtask',
      subtask: id,
      ok: state === 'passed' ? true : state === 'running' ? null : false,
      message: `subtask ${id}: ${message}`,
    });
  };
  const start = (subtask: PlanSubtask) => {
    status.set(subtask.id, 'running');
    setSub(subtask.id, 'running', 'started');
    const work = (async () => {
      const solved = await solve(job, {
        owner: `${report.id}/${subtask.id}`,
        subtask: subtask.id,
        task: subtask.task,
        named: subtask.files,
        steps: subtask.verify.length > 0 ? stepsFromCommands(subtask.verify) : report.steps,
        base: head,
        bestOf: 1,
        ladder,
      }).catch(
        (err: unknown): Solved => ({
          passed: false,
          diff: '',
          workspace: null,
          message: errorMessage(err),
        }),
      );
      if (solved.passed) {
        merging = merging.then(async () => {
          await combined.applyPatch(solved.diff);
          head = await combined.commit(`swarmd job ${report.id}: subtask ${subtask.id}`);
        });
        await merging;
        status.set(subtask.id, 'passed');
        setSub(subtask.id, 'passed', solved.message);
      } else if (signal.aborted) {
        // Cut off, not failed: the job's end reports it with the job's state.
        status.set(subtask.id, 'failed');
      } else {
        status.set(subtask.id, 'failed');
        setSub(subtask.id, 'failed', solved.message);
      }
      if (solved.workspace) await solved.workspace.remove();
      deps.locks.releaseAll(`${report.id}/${subtask.id}`);
    })();
    running.set(
      subtask.id,
      work.finally(() => running.delete(subtask.id)),
    );
  };
  for (let guard = 0; guard < 10_000; guard++) {
    if (signal.aborted) break;
    for (const s of blocked(plan, status)) {
      status.set(s.id, 'skipped');
      setSub(s.id, 'failed', 'skipped: a subtask it depends on failed');
    }
    for (const s of startable(plan, status)) start(s);
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  await Promise.all(running.values());
  const failed = [...status].filter(([, s]) => s !== 'passed').map(([id]) => id);
  if (failed.length > 0) {
    await combined.remove();
    return {
      passed: false,
      diff: '',
      workspace: null,
      message: `subtasks did not pass: ${failed.join(', ')}`,
    };
  }
  const final = await verifyIn(job, combined, report.steps, (step, ok) =>
    ok === null ? `final: ${step}` : `final: ${step} ${ok ? 'passed' : 'failed'}`,
  );
  const diff = (await combined.git(['diff', '--binary', origin.base, 'HEAD'])).stdout;
  if (!final.ok) {
    report.lastFailure = { step: final.failedStep ?? '', output: final.output };
    report.bestCandidateDiff = diff;
    await combined.remove();
    return {
      passed: false,
      diff,
      workspace: null,
      message: `every subtask passed but the final ${final.failedStep} failed`,
    };
  }
  return {
    passed: true,
    diff,
    workspace: combined,
    message: `all ${plan.subtasks.length} subtasks passed and the final verification passed`,
  };
}
