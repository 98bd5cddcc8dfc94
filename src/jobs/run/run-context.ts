// What the parts of one running job share: what the service lends it (RunnerDeps), the job's
// own state (JobRun), and the unit of work the repair loop solves (Unit → Solved). Kept out of
// runner.ts so the files runner.ts imports (solve, attempt, best-of-run, plan-run, deliver) need
// not import it back.
import type { Tier } from '../../inference/types.js';
import type { Logger } from '../../util/logger.js';
import type { Sandbox } from '../io/sandbox.js';
import { runSteps, type VerifyResult } from '../io/verify.js';
import type { Origin, Workspace } from '../io/workspace.js';
import type { ChatMessage } from '../rules/prompt.js';
import type { JobSettings } from '../rules/settings.js';
import type { JobEvent, JobReport, JobSpec, VerifyStep } from '../types.js';
import type { FileLocks } from './locks.js';

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

/** One job while it runs, once its repository is snapshotted. */
export interface JobRun {
  spec: JobSpec;
  report: JobReport;
  deps: RunnerDeps;
  signal: AbortSignal;
  origin: Origin;
  /** The next attempt's number; attempts are numbered across the whole job, plan subtasks included. */
  nextAttempt: () => number;
}

/** What the repair loop solves: the job itself, or one subtask of its plan. */
export interface Unit {
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

/** How a unit ended; a passing one keeps its checkout for whoever merges or delivers it. */
export interface Solved {
  passed: boolean;
  diff: string;
  workspace: Workspace | null;
  message: string;
}

/** Note that the job now uses `tier` (the report lists each switch once). */
export function useTier(report: JobReport, tier: Tier): void {
  if (report.tiersUsed.at(-1) !== tier) report.tiersUsed.push(tier);
}

/**
 * Run `steps` in the checkout `ws` under the job's sandbox, step timeout and signal, telling
 * watchers as each step starts and ends: `event` is added to each step event, `say` words its message.
 */
export function verifyIn(
  job: JobRun,
  ws: Workspace,
  steps: readonly VerifyStep[],
  say: (name: string, ok: boolean | null) => string,
  event: Partial<JobEvent> = {},
  advisory?: readonly string[],
): Promise<VerifyResult> {
  return runSteps(steps, {
    mounts: { workspace: ws.dir, readOnly: ws.readOnlyPaths() },
    sandbox: job.deps.sandbox,
    env: job.deps.settings.env,
    timeoutMs: job.deps.settings.stepTimeoutMs,
    signal: job.signal,
    advisory,
    onStep: (step, ok) =>
      job.deps.emit({ ...event, kind: 'step', step: step.name, ok, message: say(step.name, ok) }),
  });
}
