// The repair loop of one unit (the job, or a plan's subtask): verify its base and gather context,
// then propose, verify and feed the failure back, retrying or escalating a tier as loop.ts
// decides, with a best-of-n first round when the unit asks for one.

import { Workspace } from '../io/workspace.js';
import { gatherContext } from '../rules/context.js';
import { currentTier, decide, initialState, type LoopState } from '../rules/loop.js';
import {
  escalatedPrompt,
  type Feedback,
  initialPrompt,
  type PromptBase,
  retryPrompt,
} from '../rules/prompt.js';
import { editFormatFor } from '../rules/settings.js';
import { failureFingerprint } from '../rules/trim.js';
import { type AttemptResult, attempt } from './attempt.js';
import { bestOfRound } from './best-of-run.js';
import { type JobRun, type Solved, type Unit, useTier, verifyIn } from './run-context.js';

/** The repair loop of one unit (a job, or a plan's subtask). */
export async function solve(job: JobRun, unit: Unit): Promise<Solved> {
  const { report, deps, signal } = job;
  const { settings } = deps;
  const base = await prepare(job, unit);
  let state: LoopState = initialState(unit.ladder);
  let feedback: Feedback | null = null;
  let summary: { attempts: number; step: string; output: string } | null = null;
  useTier(report, currentTier(state));

  if (unit.bestOf > 1) {
    const round = await bestOfRound(job, unit, base);
    if (round.winner) {
      report.solveAttempts += 1;
      return round.winner;
    }
    const best = round.bestFailing;
    if (!best)
      return { passed: false, diff: '', workspace: null, message: 'no best-of candidate could be used' };
    const step = decide(
      state,
      { kind: 'failed', patch: best.report.diff, failure: failureFingerprint(best.output) },
      settings,
    );
    state = step.state;
    report.solveAttempts += 1;
    feedback = {
      kind: 'verify-failed',
      diff: best.report.diff,
      step: best.report.failedStep ?? '',
      output: best.output,
    };
  }

  for (;;) {
    if (signal.aborted) return { passed: false, diff: '', workspace: null, message: 'cancelled' };
    const tier = currentTier(state);
    const format = editFormatFor(settings, tier, deps.tierModel(tier));
    const prompt = { ...base, format };
    const messages = summary
      ? escalatedPrompt(prompt, summary)
      : feedback
        ? retryPrompt(prompt, feedback)
        : initialPrompt(prompt);
    const result = await attempt(job, unit, { tier, messages, format, candidate: null, advisory: [] });
    if (result.passed) {
      report.solveAttempts += 1;
      return {
        passed: true,
        diff: result.report.diff,
        workspace: result.workspace,
        message: passMessage(result),
      };
    }
    const outcome = result.applied
      ? { kind: 'failed' as const, patch: result.report.diff, failure: failureFingerprint(result.output) }
      : { kind: 'edit-failed' as const };
    const step = decide(state, outcome, settings);
    state = step.state;
    report.solveAttempts += result.applied ? 1 : 0;
    report.editFailures += result.applied ? 0 : 1;
    deps.save();
    if (result.report.outcome === 'cancelled' || signal.aborted)
      return { passed: false, diff: '', workspace: null, message: 'cancelled' };
    switch (step.move.kind) {
      case 'stop':
        return { passed: false, diff: '', workspace: null, message: `stopped: ${step.move.reason}` };
      case 'escalate': {
        const next = currentTier(state);
        summary = {
          attempts: report.attempts.filter((a) => a.solve && a.subtask === unit.subtask).length,
          step: report.lastFailure?.step ?? '',
          output: report.lastFailure?.output ?? result.output,
        };
        feedback = null;
        useTier(report, next);
        deps.emit({
          kind: 'escalate',
          subtask: unit.subtask,
          tier: next,
          message: `escalating to ${next}: ${step.move.reason}`,
        });
        break;
      }
      case 'retry':
        summary = null;
        feedback = result.applied
          ? {
              kind: 'verify-failed',
              diff: result.report.diff,
              step: result.report.failedStep ?? '',
              output: result.output,
            }
          : { kind: 'edit-failed', reply: '', problem: result.report.detail };
        break;
      case 'done':
        break;
    }
  }
}

/** Context and baseline verification of a unit, from a checkout of its base. */
async function prepare(job: JobRun, unit: Unit): Promise<PromptBase> {
  const { settings } = job.deps;
  const ws = await Workspace.open(job.origin, `baseline-${unit.subtask ?? 'job'}`, unit.base);
  try {
    const baseline = await verifyIn(
      job,
      ws,
      unit.steps,
      (step, ok) => (ok === null ? `baseline: ${step}` : `baseline: ${step} ${ok ? 'passed' : 'failed'}`),
      { subtask: unit.subtask },
    );
    const files = await gatherContext({
      git: (args, opts) => ws.git(args, opts),
      read: (path) => ws.read(path),
      named: unit.named,
      task: unit.task,
      failure: baseline.output,
      budgetTokens: settings.contextTokens,
    });
    return {
      task: unit.task,
      files,
      steps: unit.steps,
      format: 'whole',
      limits: {
        maxFiles: settings.maxFiles,
        maxChangedLines: settings.maxChangedLines,
      },
      baseline: baseline.ok ? '' : baseline.output,
    };
  } finally {
    await ws.remove();
  }
}

function passMessage(result: AttemptResult): string {
  const r = result.report;
  return `passed on attempt ${r.n} (${r.tier}: ${r.model || '?'} on ${r.node || '?'})`;
}
