// Runs one job on this node: snapshot the repository, verify the base, gather context, then
// the repair loop (loop.ts decides) with one isolated worktree per proposal, best-of-n on the
// first round when asked, or a plan's subtasks (plan.ts schedules) merged into a combined
// checkout that is verified last. Model calls go through `complete`, an ordinary routed
// request. The passing change is left as a branch and a patch; the user's files are untouched.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../errors.js';
import type { Tier } from '../inference/types.js';
import type { Logger } from '../util/logger.js';
import { bestOfTiers, lintSteps, rankCandidates } from './best-of.js';
import { gatherContext } from './context.js';
import { stepsFromCommands } from './detect.js';
import { countChangedLines, filesOfDiff } from './diff.js';
import { applyEdits, parseEdits } from './edit.js';
import { git } from './git.js';
import { checkLimits, type FileChange, normalisePath } from './limits.js';
import type { FileLocks } from './locks.js';
import { currentTier, decide, initialState, type LoopState } from './loop.js';
import { blocked, type SubtaskStatus, startable } from './plan.js';
import {
  type ChatMessage,
  escalatedPrompt,
  type Feedback,
  initialPrompt,
  type PromptBase,
  retryPrompt,
} from './prompt.js';
import type { Sandbox } from './sandbox.js';
import { editFormatFor, type JobSettings } from './settings.js';
import { failureFingerprint } from './trim.js';
import {
  type AttemptReport,
  type EditFormat,
  INTERRUPTED_MESSAGE,
  type JobEvent,
  type JobReport,
  type JobSpec,
  type PlanSubtask,
  type VerifyStep,
} from './types.js';
import { runSteps } from './verify.js';
import { dropOrigin, type Origin, snapshot, textHash, Workspace } from './workspace.js';

/** The answer of one model call. */
export interface Completion {
  content: string;
  model: string;
  node: string;
  promptTokens: number;
  completionTokens: number;
}

/** A soft routing hint for one model call: nodes to use last, and who to tell where it went. */
export interface Placement {
  /** Node ids to use last among equal places (read when the call is planned). */
  preferOtherThan: readonly string[];
  /** Told the node id of each place the call is handed to. */
  onNode: (nodeId: string) => void;
}

/** What a running job needs from the service. */
export interface RunnerDeps {
  logger: Logger;
  /** One chat request on `tier`, routed like any other (ledger client `job:<id>`, privacy, fallback). */
  complete: (
    messages: ChatMessage[],
    tier: Tier,
    signal: AbortSignal,
    placement?: Placement,
  ) => Promise<Completion>;
  locks: FileLocks;
  sandbox: Sandbox;
  settings: JobSettings;
  /** The first configured model of a tier (to pick its edit format), or null. */
  tierModel: (tier: Tier) => string | null;
  /** Where patch files are kept. */
  patchDir: string;
  /** Tell watchers; the service stamps jobId and times. */
  emit: (event: Partial<JobEvent> & Pick<JobEvent, 'kind' | 'message'>) => void;
  /** Persist the report as it changes. */
  save: () => void;
}

/** How long a best-of proposal waits for the one before it to be placed on a node. */
const PLACEMENT_WAIT_MS = 1_000;

interface Unit {
  /** Lock owner. */
  owner: string;
  subtask: string | null;
  task: string;
  named: string[];
  steps: VerifyStep[];
  base: string;
  bestOf: number;
  ladder: Tier[];
}

interface AttemptResult {
  report: AttemptReport;
  passed: boolean;
  applied: boolean;
  lintClean: boolean;
  output: string;
  workspace: Workspace | null;
}

interface Solved {
  passed: boolean;
  diff: string;
  workspace: Workspace | null;
  message: string;
}

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
  private origin: Origin | null = null;
  private attemptNo = 0;

  constructor(
    private readonly spec: JobSpec,
    private readonly report: JobReport,
    private readonly deps: RunnerDeps,
    private readonly signal: AbortSignal,
  ) {}

  async run(): Promise<void> {
    const { report, deps } = this;
    try {
      this.origin = await snapshot(this.spec.repo, report.id);
      const ladder = report.tiersUsed.length > 0 ? [...report.tiersUsed] : ['fast' as Tier];
      report.tiersUsed = [];
      const solved = this.spec.plan ? await this.runPlan(ladder) : await this.runSingle(ladder);
      if (this.signal.aborted) return this.endAborted();
      if (solved.passed && solved.workspace) {
        await this.deliver(solved.workspace, solved.diff);
        return this.end('passed', solved.message);
      }
      return this.end('failed', solved.message);
    } catch (err) {
      if (this.signal.aborted) return this.endAborted();
      deps.logger.warn({ job: report.id, err }, 'job failed with an error');
      return this.end('failed', `the job could not run: ${errorMessage(err)}`);
    } finally {
      deps.locks.releaseAll(report.id);
      if (this.origin) await dropOrigin(this.origin).catch(() => undefined);
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

  private async runSingle(ladder: Tier[]): Promise<Solved> {
    return this.solve({
      owner: this.report.id,
      subtask: null,
      task: this.spec.task,
      named: this.spec.files.map(normalisePath),
      steps: this.report.steps,
      base: this.origin!.base,
      bestOf: this.spec.bestOf,
      ladder,
    });
  }

  /** Context and baseline verification of a unit, from a checkout of its base. */
  private async prepare(unit: Unit): Promise<PromptBase> {
    const ws = await Workspace.open(this.origin!, `baseline-${unit.subtask ?? 'job'}`, unit.base);
    try {
      const baseline = await runSteps(unit.steps, {
        cwd: ws.dir,
        sandbox: this.deps.sandbox,
        timeoutMs: this.deps.settings.stepTimeoutMs,
        signal: this.signal,
        onStep: (step, ok) =>
          this.deps.emit({
            kind: 'step',
            subtask: unit.subtask,
            step: step.name,
            ok,
            message:
              ok === null ? `baseline: ${step.name}` : `baseline: ${step.name} ${ok ? 'passed' : 'failed'}`,
          }),
      });
      const files = await gatherContext({
        dir: ws.dir,
        read: (path) => ws.read(path),
        named: unit.named,
        task: unit.task,
        failure: baseline.output,
        budgetTokens: this.deps.settings.contextTokens,
      });
      return {
        task: unit.task,
        files,
        steps: unit.steps,
        format: 'whole',
        limits: {
          maxFiles: this.deps.settings.maxFiles,
          maxChangedLines: this.deps.settings.maxChangedLines,
        },
        baseline: baseline.ok ? '' : baseline.output,
      };
    } finally {
      await ws.remove();
    }
  }

  /** The repair loop of one unit (a job, or a plan's subtask). */
  private async solve(unit: Unit): Promise<Solved> {
    const { settings } = this.deps;
    const base = await this.prepare(unit);
    let state: LoopState = initialState(unit.ladder);
    let feedback: Feedback | null = null;
    let summary: { attempts: number; step: string; output: string } | null = null;
    this.useTier(currentTier(state));

    if (unit.bestOf > 1) {
      const round = await this.bestOfRound(unit, base);
      if (round.winner) {
        this.report.solveAttempts += 1;
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
      this.report.solveAttempts += 1;
      feedback = {
        kind: 'verify-failed',
        diff: best.report.diff,
        step: best.report.failedStep ?? '',
        output: best.output,
      };
    }

    for (;;) {
      if (this.signal.aborted) return { passed: false, diff: '', workspace: null, message: 'cancelled' };
      const tier = currentTier(state);
      const format = editFormatFor(settings, tier, this.deps.tierModel(tier));
      const prompt = { ...base, format };
      const messages = summary
        ? escalatedPrompt(prompt, summary)
        : feedback
          ? retryPrompt(prompt, feedback)
          : initialPrompt(prompt);
      const result = await this.attempt(unit, tier, messages, format, null, []);
      if (result.passed) {
        this.report.solveAttempts += 1;
        return {
          passed: true,
          diff: result.report.diff,
          workspace: result.workspace,
          message: this.passMessage(result),
        };
      }
      const outcome = result.applied
        ? { kind: 'failed' as const, patch: result.report.diff, failure: failureFingerprint(result.output) }
        : { kind: 'edit-failed' as const };
      const step = decide(state, outcome, settings);
      state = step.state;
      this.report.solveAttempts += result.applied ? 1 : 0;
      this.report.editFailures += result.applied ? 0 : 1;
      this.deps.save();
      if (result.report.outcome === 'cancelled' || this.signal.aborted)
        return { passed: false, diff: '', workspace: null, message: 'cancelled' };
      switch (step.move.kind) {
        case 'stop':
          return { passed: false, diff: '', workspace: null, message: `stopped: ${step.move.reason}` };
        case 'escalate': {
          const next = currentTier(state);
          summary = {
            attempts: this.report.attempts.filter((a) => a.solve && a.subtask === unit.subtask).length,
            step: this.report.lastFailure?.step ?? '',
            output: this.report.lastFailure?.output ?? result.output,
          };
          feedback = null;
          this.useTier(next);
          this.deps.emit({
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

  private passMessage(result: AttemptResult): string {
    const r = result.report;
    return `passed on attempt ${r.n} (${r.tier}: ${r.model || '?'} on ${r.node || '?'})`;
  }

  private useTier(tier: Tier): void {
    if (this.report.tiersUsed.at(-1) !== tier) this.report.tiersUsed.push(tier);
  }

  /** Best-of-n: n proposals at once, each verified in its own checkout; the best passing one wins. */
  private async bestOfRound(
    unit: Unit,
    base: PromptBase,
  ): Promise<{ winner: Solved | null; bestFailing: AttemptResult | null }> {
    const tiers = bestOfTiers(unit.bestOf, this.deps.settings.bestOfMix);
    for (const tier of tiers) this.useTier(tier);
    // Spread the proposals over the swarm: each call prefers nodes the earlier ones did not
    // get, so each waits (briefly) until the one before it was handed to a node.
    const lint = lintSteps(unit.steps);
    const used: string[] = [];
    let previous: Promise<void> = Promise.resolve();
    const results = await Promise.all(
      tiers.map((tier, i) => {
        const format = editFormatFor(this.deps.settings, tier, this.deps.tierModel(tier));
        const after = previous;
        let placed!: () => void;
        previous = new Promise<void>((resolve) => {
          placed = resolve;
        });
        const placement: Placement = {
          preferOtherThan: used,
          onNode: (nodeId) => {
            if (!used.includes(nodeId)) used.push(nodeId);
            placed();
          },
        };
        return (async () => {
          await within(after, PLACEMENT_WAIT_MS);
          return this.attempt(unit, tier, initialPrompt({ ...base, format }), format, i + 1, lint, placement);
        })().finally(placed);
      }),
    );
    const { ranked, tied } = rankCandidates(
      results.map((r, i) => ({
        index: i + 1,
        passed: r.passed,
        lintClean: r.lintClean,
        changedLines: r.report.changedLines,
      })),
    );
    const pick = (index: number | undefined) => (index === undefined ? null : results[index - 1]!);
    let winner: AttemptResult | null = pick(ranked[0]?.index);
    const second = pick(ranked[1]?.index);
    if (winner && tied && second) winner = await this.review(unit, winner, second);
    for (const r of results) if (r !== winner && r.workspace) await r.workspace.remove();
    this.report.editFailures += results.filter((r) => !r.applied).length;
    if (winner) {
      return {
        winner: {
          passed: true,
          diff: winner.report.diff,
          workspace: winner.workspace,
          message: `best-of-${unit.bestOf}: kept candidate ${winner.report.candidate} of ${results.filter((r) => r.passed).length} passing (${winner.report.tier}: ${winner.report.model})`,
        },
        bestFailing: null,
      };
    }
    const failing = results
      .filter((r) => r.applied)
      .sort((a, b) => a.report.changedLines - b.report.changedLines);
    return { winner: null, bestFailing: failing[0] ?? null };
  }

  /** Ask a reviewer-tier model to break a tie between two passing candidates; the first on any trouble. */
  private async review(unit: Unit, a: AttemptResult, b: AttemptResult): Promise<AttemptResult> {
    try {
      const answer = await this.deps.complete(
        [
          { role: 'system', content: 'You review code changes. Answer with exactly one letter: A or B.' },
          {
            role: 'user',
            content: `Task: ${unit.task}\n\nBoth changes pass verification. Which is better?\n\n## A\n\`\`\`diff\n${a.report.diff}\n\`\`\`\n\n## B\n\`\`\`diff\n${b.report.diff}\n\`\`\``,
          },
        ],
        'reviewer',
        this.signal,
      );
      return /^\W*B\b/i.test(answer.content.trim()) ? b : a;
    } catch {
      return a;
    }
  }

  /** One proposal: ask, parse, apply in a fresh checkout, check limits and locks, verify. */
  private async attempt(
    unit: Unit,
    tier: Tier,
    messages: ChatMessage[],
    format: EditFormat,
    candidate: number | null,
    advisory: string[],
    placement?: Placement,
  ): Promise<AttemptResult> {
    const n = ++this.attemptNo;
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
    this.report.attempts.push(report);
    const ev = { subtask: unit.subtask, attempt: n, tier };
    this.deps.emit({
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
      this.deps.save();
      return result;
    };
    let reply: Completion;
    try {
      reply = await this.deps.complete(messages, tier, this.signal, placement);
    } catch (err) {
      report.outcome = this.signal.aborted ? 'cancelled' : 'model-error';
      report.detail = errorMessage(err);
      this.deps.emit({ ...ev, kind: 'model', ok: false, message: `model call failed: ${report.detail}` });
      return finish();
    }
    Object.assign(report, {
      model: reply.model,
      node: reply.node,
      promptTokens: reply.promptTokens,
      completionTokens: reply.completionTokens,
    });
    this.report.tokens.prompt += reply.promptTokens;
    this.report.tokens.completion += reply.completionTokens;
    this.deps.emit({
      ...ev,
      kind: 'model',
      model: reply.model,
      node: reply.node,
      ok: true,
      message: `${reply.model} on ${reply.node} answered`,
    });

    const refuse = (outcome: 'edit-failed' | 'refused', detail: string) => {
      report.outcome = outcome;
      report.detail = detail;
      this.deps.emit({
        ...ev,
        kind: 'edit',
        ok: false,
        message: `${outcome === 'refused' ? 'edit refused' : 'edit did not apply'}: ${detail}`,
      });
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
    const ws = await Workspace.open(this.origin!, `attempt-${n}`, unit.base);
    let keep = false;
    try {
      const applied = applyEdits(parsed.edits, (path) => ws.read(path));
      if (!applied.ok) return refuse('edit-failed', applied.problem);
      const changes: FileChange[] = [...applied.files].map(([path, change]) => ({ path, ...change }));
      const limit = checkLimits(changes, {
        maxFiles: this.deps.settings.maxFiles,
        maxChangedLines: this.deps.settings.maxChangedLines,
      });
      if (limit) return refuse('refused', limit);
      const changed = changes.filter((c) => c.before !== c.after).map((c) => c.path);
      const held = this.deps.locks.tryAcquire(unit.owner, this.origin!.userDir, changed);
      if (held) return refuse('refused', `another job is changing ${held}; leave that file alone`);
      for (const change of changes) ws.write(change.path, change.after);
      report.diff = await ws.diff();
      report.files = changed;
      report.changedLines = countChangedLines(report.diff);
      result.applied = true;
      report.solve = true;
      this.deps.emit({
        ...ev,
        kind: 'edit',
        ok: true,
        message: `edit applied: ${changed.join(', ') || 'no change'}`,
      });
      const verified = await runSteps(unit.steps, {
        cwd: ws.dir,
        sandbox: this.deps.sandbox,
        timeoutMs: this.deps.settings.stepTimeoutMs,
        signal: this.signal,
        advisory,
        onStep: (step, ok) =>
          this.deps.emit({
            ...ev,
            kind: 'step',
            step: step.name,
            ok,
            message: ok === null ? `running ${step.name}` : `${step.name} ${ok ? 'passed' : 'failed'}`,
          }),
      });
      result.passed = verified.ok;
      result.lintClean = verified.ok && verified.output === '';
      result.output = verified.output;
      report.outcome = this.signal.aborted ? 'cancelled' : verified.ok ? 'passed' : 'failed';
      report.failedStep = verified.failedStep;
      report.detail = verified.output;
      if (!verified.ok) {
        this.report.lastFailure = { step: verified.failedStep ?? '', output: verified.output };
        if (
          !this.report.bestCandidateDiff ||
          report.changedLines < countChangedLines(this.report.bestCandidateDiff)
        )
          this.report.bestCandidateDiff = report.diff;
      }
      this.deps.emit({
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

  /** A plan: subtasks as their dependencies allow, each merged into the combined checkout, then the job's steps on it. */
  private async runPlan(ladder: Tier[]): Promise<Solved> {
    const plan = this.spec.plan!;
    const combined = await Workspace.open(this.origin!, 'combined');
    let head = this.origin!.base;
    const status = new Map<string, SubtaskStatus>(plan.subtasks.map((s) => [s.id, 'waiting']));
    this.report.subtasks = plan.subtasks.map((s) => ({ id: s.id, state: 'running', message: 'waiting' }));
    const running = new Map<string, Promise<void>>();
    let merging = Promise.resolve();
    const setSub = (id: string, state: JobReport['state'], message: string) => {
      const entry = this.report.subtasks.find((s) => s.id === id)!;
      entry.state = state;
      entry.message = message;
      this.deps.save();
      this.deps.emit({
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
        const solved = await this.solve({
          owner: `${this.report.id}/${subtask.id}`,
          subtask: subtask.id,
          task: subtask.task,
          named: subtask.files,
          steps: subtask.verify.length > 0 ? stepsFromCommands(subtask.verify) : this.report.steps,
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
            head = await combined.commit(`swarmd job ${this.report.id}: subtask ${subtask.id}`);
          });
          await merging;
          status.set(subtask.id, 'passed');
          setSub(subtask.id, 'passed', solved.message);
        } else if (this.signal.aborted) {
          // Cut off, not failed: the job's end reports it with the job's state.
          status.set(subtask.id, 'failed');
        } else {
          status.set(subtask.id, 'failed');
          setSub(subtask.id, 'failed', solved.message);
        }
        if (solved.workspace) await solved.workspace.remove();
        this.deps.locks.releaseAll(`${this.report.id}/${subtask.id}`);
      })();
      running.set(
        subtask.id,
        work.finally(() => running.delete(subtask.id)),
      );
    };
    for (let guard = 0; guard < 10_000; guard++) {
      if (this.signal.aborted) break;
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
    const final = await runSteps(this.report.steps, {
      cwd: combined.dir,
      sandbox: this.deps.sandbox,
      timeoutMs: this.deps.settings.stepTimeoutMs,
      signal: this.signal,
      onStep: (step, ok) =>
        this.deps.emit({
          kind: 'step',
          step: step.name,
          ok,
          message: ok === null ? `final: ${step.name}` : `final: ${step.name} ${ok ? 'passed' : 'failed'}`,
        }),
    });
    const diff = (await git(combined.dir, ['diff', '--binary', this.origin!.base, 'HEAD'])).stdout;
    if (!final.ok) {
      this.report.lastFailure = { step: final.failedStep ?? '', output: final.output };
      this.report.bestCandidateDiff = diff;
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

  /** Leave the passing change as a branch (git repositories) and a patch file. */
  private async deliver(ws: Workspace, diff: string): Promise<void> {
    const origin = this.origin!;
    const { report } = this;
    const files = filesOfDiff(diff);
    const baseHashes: Record<string, string | null> = {};
    for (const file of files) {
      const shown = await git(origin.gitDir, ['show', `${origin.base}:${file}`], { allow: [128] });
      baseHashes[file] = textHash(shown.exitCode === 0 ? shown.stdout : null);
    }
    const commit = await ws.commit(`swarmd job ${report.id}: ${this.spec.task.split('\n')[0]!.slice(0, 72)}`);
    mkdirSync(this.deps.patchDir, { recursive: true, mode: 0o700 });
    const patchPath = join(this.deps.patchDir, `${report.id}.patch`);
    writeFileSync(patchPath, diff, { mode: 0o600 });
    let branch: string | null = null;
    if (origin.isGit) {
      branch = `swarm/job-${report.id}`;
      await git(origin.userDir, ['branch', '-f', branch, commit]);
    }
    report.result = {
      branch,
      patchPath,
      diff,
      files,
      changedLines: countChangedLines(diff),
      applied: false,
      baseHashes,
    };
    await ws.remove();
  }
}

/** Wait for `promise` at most `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
