// One proposal of a unit: ask the model, parse its edits, apply them in a fresh checkout of the
// unit's base, check limits and file locks, then verify. Each step lands in the job's report and
// events; a passing proposal keeps its checkout, any other is removed.
import { errorMessage } from '../../errors.js';
import type { Tier } from '../../inference/types.js';
import { Workspace } from '../io/workspace.js';
import { countChangedLines } from '../rules/diff.js';
import { applyEdits, parseEdits } from '../rules/edit.js';
import { checkLimits, type FileChange, normalisePath } from '../rules/limits.js';
import type { ChatMessage } from '../rules/prompt.js';
import type { AttemptReport, EditFormat } from '../types.js';
import { type Completion, type JobRun, type Placement, type Unit, verifyIn } from './run-context.js';

/** What one proposal asks the model for. */
export interface Proposal {
  tier: Tier;
  messages: ChatMessage[];
  format: EditFormat;
  /** Its number among best-of candidates; null outside best-of. */
  candidate: number | null;
  /** Steps whose failure only ranks best-of candidates (lint), by name. */
  advisory: string[];
  placement?: Placement;
}

/** How one proposal ended. */
export interface AttemptResult {
  report: AttemptReport;
  passed: boolean;
  applied: boolean;
  lintClean: boolean;
  output: string;
  /** The checkout of a passing proposal, left for the caller to deliver, merge or remove. */
  workspace: Workspace | null;
}

/** One proposal: ask, parse, apply in a fresh checkout, check limits and locks, verify. */
export async function attempt(job: JobRun, unit: Unit, proposal: Proposal): Promise<AttemptResult> {
  const { deps, signal } = job;
  const { tier, messages, format, candidate, advisory, placement } = proposal;
  const n = job.nextAttempt();
  const started = performance.now();
  const report: AttemptReport = {
    n,
    subtask: unit.subtask,
    candidate,
    tier,
    model: '',
    node: '',
    outcome: 'model-error',
    solve: false,
    failedStep: null,
    detail: '',
    diff: '',
    changedLines: 0,
    files: [],
    promptTokens: 0,
    completionTokens: 0,
    ms: 0,
  };
  job.report.attempts.push(report);
  const ev = { subtask: unit.subtask, attempt: n, tier };
  deps.emit({
    ...ev,
    kind: 'attempt',
    message: `attempt ${n}${candidate ? ` (candidate ${candidate})` : ''} on ${tier}`,
  });
  const result: AttemptResult = {
    report,
    passed: false,
    applied: false,
    lintClean: false,
    output: '',
    workspace: null,
  };
  const finish = (): AttemptResult => {
    report.ms = Math.round(performance.now() - started);
    deps.save();
    return result;
  };
  let reply: Completion;
  try {
    reply = await deps.complete(messages, tier, signal, placement);
  } catch (err) {
    report.outcome = signal.aborted ? 'cancelled' : 'model-error';
    report.detail = errorMessage(err);
    deps.emit({ ...ev, kind: 'model', ok: false, message: `model call failed: ${report.detail}` });
    return finish();
  }
  Object.assign(report, {
    model: reply.model,
    node: reply.node,
    promptTokens: reply.promptTokens,
    completionTokens: reply.completionTokens,
  });
  job.report.tokens.prompt += reply.promptTokens;
  job.report.tokens.completion += reply.completionTokens;
  deps.emit({
    ...ev,
    kind: 'model',
    model: reply.model,
    node: reply.node,
    ok: true,
    message: `${reply.model} on ${reply.node} answered`,
  });

  const tellEdit = (ok: boolean, message: string) => deps.emit({ ...ev, kind: 'edit', ok, message });
  const refuse = (outcome: 'edit-failed' | 'refused', detail: string) => {
    report.outcome = outcome;
    report.detail = detail;
    tellEdit(false, `${outcome === 'refused' ? 'edit refused' : 'edit did not apply'}: ${detail}`);
    return finish();
  };
  const parsed = parseEdits(reply.content, format);
  if (!parsed.ok) return refuse('edit-failed', parsed.problem);
  for (const edit of parsed.edits) {
    const problem = checkLimits([{ path: edit.path, before: null, after: '' }], {
      maxFiles: Infinity,
      maxChangedLines: Infinity,
    });
    if (problem) return refuse('refused', problem);
    edit.path = normalisePath(edit.path);
  }
  const ws = await Workspace.open(job.origin, `attempt-${n}`, unit.base);
  let keep = false;
  try {
    // A path through a symlink out of the checkout, or onto a link, is refused back to the model.
    for (const edit of parsed.edits) {
      const problem = ws.writeProblem(edit.path);
      if (problem) return refuse('refused', problem);
    }
    const applied = applyEdits(parsed.edits, (path) => ws.read(path));
    if (!applied.ok) return refuse('edit-failed', applied.problem);
    const changes: FileChange[] = [...applied.files].map(([path, change]) => ({ path, ...change }));
    const limit = checkLimits(changes, {
      maxFiles: deps.settings.maxFiles,
      maxChangedLines: deps.settings.maxChangedLines,
    });
    if (limit) return refuse('refused', limit);
    const changed = changes.filter((c) => c.before !== c.after).map((c) => c.path);
    const held = deps.locks.tryAcquire(unit.owner, job.origin.userDir, changed);
    if (held) return refuse('refused', `another job is changing ${held}; leave that file alone`);
    for (const change of changes) {
      try {
        ws.write(change.path, change.after);
      } catch (err) {
        return refuse('refused', `${change.path} could not be written: ${errorMessage(err)}`);
      }
    }
    report.diff = await ws.diff();
    report.files = changed;
    report.changedLines = countChangedLines(report.diff);
    result.applied = true;
    report.solve = true;
    tellEdit(true, `edit applied: ${changed.join(', ') || 'no change'}`);
    const verified = await verifyIn(
      job,
      ws,
      unit.steps,
      (step, ok) => (ok === null ? `running ${step}` : `${step} ${ok ? 'passed' : 'failed'}`),
      ev,
      advisory,
    );
    result.passed = verified.ok;
    result.lintClean = verified.ok && verified.output === '';
    result.output = verified.output;
    report.outcome = signal.aborted ? 'cancelled' : verified.ok ? 'passed' : 'failed';
    report.failedStep = verified.failedStep;
    report.detail = verified.output;
    if (!verified.ok) {
      job.report.lastFailure = { step: verified.failedStep ?? '', output: verified.output };
      if (
        !job.report.bestCandidateDiff ||
        report.changedLines < countChangedLines(job.report.bestCandidateDiff)
      )
        job.report.bestCandidateDiff = report.diff;
    }
    deps.emit({
      ...ev,
      kind: 'verified',
      ok: verified.ok,
      message: verified.ok ? 'verification passed' : `verification failed at ${verified.failedStep}`,
    });
    if (verified.ok) {
      keep = true;
      result.workspace = ws;
    }
    return finish();
  } finally {
    if (!keep) await ws.remove();
  }
}
