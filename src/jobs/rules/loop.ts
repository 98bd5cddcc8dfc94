// The repair and escalation rules of a job, as a pure state machine. After each proposal the
// runner reports what happened; `decide` says what comes next:
// - passed → done;
// - an edit that did not apply or was refused → the same tier tries again with that feedback,
//   counted apart from solve attempts (at most maxEditFailures of them in all);
// - a verified failure → the same tier tries again with the failure, until attemptsPerTier
//   failures on that tier, then the next tier of the ladder starts fresh with a summary; the
//   same patch or the same failure twice in a row escalates at once; after maxAttempts solve
//   attempts (or with no tier left) the job stops and reports.
import type { Tier } from '../../inference/types.js';

/** The counts that bound a job (jobs.* in the config). */
export interface LoopLimits {
  attemptsPerTier: number;
  maxAttempts: number;
  maxEditFailures: number;
}

/** Where the loop stands. */
export interface LoopState {
  /** Tiers to use, in order; `tierIndex` is the one in use. */
  ladder: readonly Tier[];
  tierIndex: number;
  /** Failed solve attempts on the current tier. */
  failuresOnTier: number;
  solveAttempts: number;
  editFailures: number;
  /** The previous verified proposal's patch and failure fingerprint, to spot repeats. */
  lastPatch: string | null;
  lastFailure: string | null;
}

/** What the last proposal came to. */
export type ProposalOutcome =
  | { kind: 'passed' }
  | { kind: 'failed'; patch: string; failure: string }
  | { kind: 'edit-failed' };

/** What the runner does next. */
export type Move =
  | { kind: 'done' }
  | { kind: 'retry'; reason: string }
  | { kind: 'escalate'; reason: string }
  | { kind: 'stop'; reason: string };

/** The state at the start of a job on `ladder`. */
export function initialState(ladder: readonly Tier[]): LoopState {
  return {
    ladder,
    tierIndex: 0,
    failuresOnTier: 0,
    solveAttempts: 0,
    editFailures: 0,
    lastPatch: null,
    lastFailure: null,
  };
}

/** The tier in use. */
export function currentTier(state: LoopState): Tier {
  return state.ladder[state.tierIndex]!;
}

/** The next state and move after a proposal. */
export function decide(
  state: LoopState,
  outcome: ProposalOutcome,
  limits: LoopLimits,
): { state: LoopState; move: Move } {
  if (outcome.kind === 'passed') return { state, move: { kind: 'done' } };
  if (outcome.kind === 'edit-failed') {
    const next = { ...state, editFailures: state.editFailures + 1 };
    if (next.editFailures >= limits.maxEditFailures) {
      return {
        state: next,
        move: { kind: 'stop', reason: `${next.editFailures} edits did not apply or were refused` },
      };
    }
    return { state: next, move: { kind: 'retry', reason: 'the edit did not apply' } };
  }
  const repeated =
    (state.lastPatch !== null && state.lastPatch === outcome.patch) ||
    (state.lastFailure !== null && state.lastFailure === outcome.failure);
  const next: LoopState = {
    ...state,
    solveAttempts: state.solveAttempts + 1,
    failuresOnTier: state.failuresOnTier + 1,
    lastPatch: outcome.patch,
    lastFailure: outcome.failure,
  };
  if (next.solveAttempts >= limits.maxAttempts) {
    return {
      state: next,
      move: { kind: 'stop', reason: `verification still failed after ${next.solveAttempts} attempts` },
    };
  }
  const why = repeated
    ? 'the same patch or the same failure came back twice in a row'
    : next.failuresOnTier >= limits.attemptsPerTier
      ? `${next.failuresOnTier} failed attempts on ${currentTier(state)}`
      : null;
  if (why === null) return { state: next, move: { kind: 'retry', reason: 'verification failed' } };
  if (state.tierIndex + 1 >= state.ladder.length) {
    return { state: next, move: { kind: 'stop', reason: `${why}, and no larger tier is left` } };
  }
  return {
    state: {
      ...next,
      tierIndex: state.tierIndex + 1,
      failuresOnTier: 0,
      lastPatch: null,
      lastFailure: null,
    },
    move: { kind: 'escalate', reason: why },
  };
}

/** The tiers a job climbs: from its start tier up the configured ladder; cloud only when privacy allows it. */
export function ladderFor(
  start: 'fast' | 'deep' | 'auto',
  configured: readonly Tier[],
  cloudAllowed: boolean,
): Tier[] {
  const usable = configured.filter((tier) => tier !== 'cloud' || cloudAllowed);
  const from = start === 'auto' ? 0 : Math.max(0, usable.indexOf(start));
  const ladder = usable.slice(from);
  return ladder.length > 0 ? ladder : [start === 'auto' ? 'fast' : start];
}
