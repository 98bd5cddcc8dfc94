// Coding jobs: what a user submits, the states a job goes through, the progress events
// swarmctl shows, and the report `swarmctl job <id> --json` prints. These JSON shapes travel
// over SwarmControl as text (RunJob, GetJob...) and are the documented `--json` contract.
import type { Privacy, Tier } from '../inference/types.js';

/** The tier a job starts on: a tier, or `auto` (the first tier of the escalation ladder). */
export type StartTier = 'fast' | 'deep' | 'auto';

/** How a model writes its edit: whole files (small models) or SEARCH/REPLACE blocks. */
export type EditFormat = 'whole' | 'search-replace';
export const EDIT_FORMATS: readonly EditFormat[] = ['whole', 'search-replace'];

/** One subtask of a plan. */
export interface PlanSubtask {
  id: string;
  task: string;
  /** Files the subtask works on (context, and subtasks sharing a file never run at once). */
  files: string[];
  /** Verification commands for this subtask alone; empty: the job's steps. */
  verify: string[];
  dependsOn: string[];
}

/** A plan: subtasks with dependencies, run at most maxConcurrent at once. */
export interface JobPlan {
  maxConcurrent: number;
  subtasks: PlanSubtask[];
}

/** What `swarmctl run` submits. */
export interface JobSpec {
  /** The task in the user's words (only ever sent to a model, never to a shell). */
  task: string;
  /** Absolute path of the repository (or plain directory) the job works on. */
  repo: string;
  /** Files to put in the model's context first (repo-relative). */
  files: string[];
  /** Verification commands (`--verify`); empty: detected from the repo. */
  verify: string[];
  tier: StartTier;
  /** Proposals asked for in parallel on the first round (1: no best-of). */
  bestOf: number;
  /** Privacy of every model call; null: routing.defaultPrivacy (secrets in files keep it lan or stricter). */
  privacy: Privacy | null;
  plan: JobPlan | null;
}

/** Where a job is. */
export type JobState = 'running' | 'passed' | 'failed' | 'cancelled' | 'interrupted';
export const FINAL_STATES: readonly JobState[] = ['passed', 'failed', 'cancelled', 'interrupted'];
/** The message of a job swarmd stopped (or was killed) while it ran. */
export const INTERRUPTED_MESSAGE = 'interrupted: swarmd stopped while the job ran; run it again';

/** What the sandbox around verification was (older stored reports may say `unshare`: it only cut the network). */
export type SandboxKind = 'bubblewrap' | 'none';

/** One verification step: a name and the argv it runs (never through a shell). */
export interface VerifyStep {
  name: string;
  argv: string[];
}

/** How one attempt ended. */
export type AttemptOutcome = 'passed' | 'failed' | 'edit-failed' | 'refused' | 'model-error' | 'cancelled';

/** One model proposal and what became of it. */
export interface AttemptReport {
  /** 1-based, in the order attempts started. */
  n: number;
  /** The plan subtask it belongs to, null for a plain job. */
  subtask: string | null;
  /** Best-of candidate index (1-based), null outside best-of. */
  candidate: number | null;
  tier: Tier;
  /** The concrete model and node that answered (empty when the call failed). */
  model: string;
  node: string;
  outcome: AttemptOutcome;
  /** Counted against maxAttempts (a proposal that applied and was verified). */
  solve: boolean;
  /** The failing step, when verification failed. */
  failedStep: string | null;
  /** Why it did not pass, trimmed (failure output, edit mismatch, refusal). */
  detail: string;
  /** Unified diff of the proposal against the job's base ('' when it did not apply). */
  diff: string;
  changedLines: number;
  files: string[];
  promptTokens: number;
  completionTokens: number;
  ms: number;
}

/** The change a passing job leaves behind. */
export interface JobResult {
  /** `swarm/job-<id>` in the user's repository; null for a directory that is not a git repository. */
  branch: string | null;
  /** The patch file (git format), applied by `swarmctl apply <id>`. */
  patchPath: string;
  diff: string;
  files: string[];
  changedLines: number;
  /** The job's change was written to the working tree by `swarmctl apply`. */
  applied: boolean;
  /** sha256 of each changed file as the job found it (null: it did not exist); apply refuses files changed since. */
  baseHashes: Record<string, string | null>;
}

/** The full report of a job (`swarmctl job <id> --json`). */
export interface JobReport {
  id: string;
  state: JobState;
  task: string;
  repo: string;
  tier: StartTier;
  bestOf: number;
  privacy: Privacy;
  createdAt: number;
  endedAt: number | null;
  /** The sandbox verification ran in. */
  sandbox: SandboxKind;
  steps: VerifyStep[];
  attempts: AttemptReport[];
  /** Proposals verified (counted against jobs.maxAttempts). */
  solveAttempts: number;
  /** Proposals that did not apply or were refused by the patch limits (counted separately). */
  editFailures: number;
  /** Tiers in the order the job used them. */
  tiersUsed: Tier[];
  /** Why the job ended, in a sentence. */
  message: string;
  /** The step that failed last and its trimmed output; null when nothing failed. */
  lastFailure: { step: string; output: string } | null;
  /** The passing change, or null. */
  result: JobResult | null;
  /** On failure: the diff of the candidate that got furthest (fewest failing steps, then smallest). */
  bestCandidateDiff: string;
  tokens: { prompt: number; completion: number };
  /** Cloud cost of the job's model calls from the usage ledger (0 when all ran locally). */
  costUsd: number;
  /** Subtasks of a plan and where each ended; empty for a plain job. */
  subtasks: { id: string; state: JobState; message: string }[];
}

/** One progress event (RunJob / WatchJob stream, one `swarmctl run --json` line each). */
export interface JobEvent {
  jobId: string;
  /** ms epoch. */
  at: number;
  /** ms since the job started. */
  elapsedMs: number;
  kind: 'started' | 'attempt' | 'model' | 'edit' | 'step' | 'verified' | 'escalate' | 'subtask' | 'done';
  subtask: string | null;
  attempt: number | null;
  tier: Tier | null;
  model: string | null;
  node: string | null;
  step: string | null;
  /** For `step`/`verified`/`edit`/`done`: whether it passed; null while running. */
  ok: boolean | null;
  message: string;
  /** On `done`: the final state. */
  state: JobState | null;
}

/** A short line per job (`swarmctl jobs --json`). */
export interface JobSummary {
  id: string;
  state: JobState;
  task: string;
  repo: string;
  createdAt: number;
  endedAt: number | null;
  solveAttempts: number;
  branch: string | null;
  applied: boolean;
  message: string;
}

/** The summary line of a report. */
export function summarize(report: JobReport): JobSummary {
  return {
    id: report.id,
    state: report.state,
    task: report.task,
    repo: report.repo,
    createdAt: report.createdAt,
    endedAt: report.endedAt,
    solveAttempts: report.solveAttempts,
    branch: report.result?.branch ?? null,
    applied: report.result?.applied ?? false,
    message: report.message,
  };
}
