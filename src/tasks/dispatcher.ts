// The coordinator's attempt loop: take the ordered targets the scheduler proposes, run on
// this node or hand to a peer, fall through to the next on a retryable failure (nothing
// sent to the client yet), escalate when the quality gate rejects a reply (and when every
// candidate's reply is rejected, return the first one, marked), and when every slot in the
// swarm is busy, or the only places that could serve are coming back (a node restarting,
// joining, silent for a moment), wait in a bounded queue instead of failing.
// A worker lost under an attempt (it died, restarted, its channel broke) is planned around at
// once (membership marks it), and the first such loss per node costs the request no attempt.
import { CapacityPendingError, ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import type {
  Dispatcher,
  InferenceOutcome,
  InferenceRequest,
  JsonObject,
  RunHooks,
  Target,
} from '../inference/types.js';
import { monotonicMs } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { TaskError } from './task-error.js';
import type { BackendRunResult } from './worker.js';

/** Runs one attempt on one target (this node or a peer). */
export type RunAttempt = (
  target: Target,
  request: InferenceRequest,
  attempt: number,
  hooks: { signal: AbortSignal; onChunk?: (chunk: JsonObject) => void },
) => Promise<BackendRunResult>;

/** A reply the quality gate turned down, and why. */
export type QualityVerdict = { ok: true } | { ok: false; reason: string };

/**
 * How one request ended, reported once per dispatch when it settles (the usage ledger's row and
 * the per-target stats). Attempts that failed over or that the quality gate turned down are not
 * reported on their own: `attempts` counts them.
 */
export interface RequestRecord {
  request: InferenceRequest;
  /** ok: served; cancelled: the caller aborted it (client gone, task cancelled); error: anything else. */
  outcome: 'ok' | 'error' | 'cancelled';
  /** The target that served it, else the last one that took an attempt; null when none did. */
  target: Target | null;
  /** Attempts made, fallbacks and quality-gate escalations included (capacity refusals not). */
  attempts: number;
  /** What the caller got (ok); null otherwise. */
  served: InferenceOutcome | null;
  /** Why it did not succeed; null when it did. */
  error: unknown;
  /** ms from dispatch to the end, queueing and failed attempts included. */
  latencyMs: number;
  /** ms from dispatch to the first token (streamed) or the reply; null when none came. */
  firstTokenMs: number | null;
  /** The serving attempt alone (ok): its ms and ms to its first token, for per-target stats. */
  attempt: { latencyMs: number; firstTokenMs: number | null } | null;
}

/** What a dispatch has done so far: what its record is made of. */
interface Progress {
  started: number;
  /** The last target that took an attempt (a capacity refusal does not), and attempts so far. */
  target: Target | null;
  attempts: number;
  /** When the first chunk reached the caller (monotonic ms); null before. */
  firstChunkAt: number | null;
  attempt: RequestRecord['attempt'];
}

export interface DispatcherDeps {
  logger: Logger;
  /**
   * Ordered candidates for a request (scheduler); throws MODEL_NOT_FOUND and the like, and
   * CapacityPendingError when nothing can serve now but something that could is coming back.
   */
  plan: (request: InferenceRequest) => Target[];
  run: RunAttempt;
  /** Judge a non-streaming reply; absent = accept all. */
  quality?: (request: InferenceRequest, result: BackendRunResult) => QualityVerdict;
  /** Failure bookkeeping per node+backend, so a failing one cools down. */
  cooldown?: { failure(target: Target): void; success(target: Target): void };
  /** Called once per request, when its dispatch settles (usage ledger, target stats). */
  record?: (entry: RequestRecord) => void;
  /** Extra response headers for every served request (e.g. the budget state). */
  notices?: () => Record<string, string>;
}

export interface DispatcherInit {
  maxAttempts: number;
  /** Requests waiting for a free slot anywhere, at most. */
  queueSize: number;
  /** How long one may wait (for a slot, or a node coming back) before it is answered 429 (503). */
  queueTimeoutMs: number;
}

/** A reply the quality gate turned down, kept in case no later candidate does better. */
interface Rejected {
  outcome: InferenceOutcome;
  attempt: NonNullable<RequestRecord['attempt']>;
  reason: string;
}

const CAPACITY_CODES = new Set<string>([ErrorCodes.TASK_REFUSED]);

/** Runs requests across the swarm with fallback. */
export class SwarmDispatcher implements Dispatcher {
  private waiting = 0;
  private readonly wakers = new Set<() => void>();
  private readonly deps: DispatcherDeps;
  private readonly init: DispatcherInit;

  constructor(deps: DispatcherDeps, init: DispatcherInit) {
    this.deps = deps;
    this.init = init;
  }

  /** Some capacity freed somewhere: let queued requests try again. */
  wake(): void {
    for (const waker of [...this.wakers]) waker();
  }

  async dispatch(request: InferenceRequest, hooks: RunHooks): Promise<InferenceOutcome> {
    const progress: Progress = {
      started: monotonicMs(),
      target: null,
      attempts: 0,
      firstChunkAt: null,
      attempt: null,
    };
    let served: InferenceOutcome;
    try {
      served = await this.attemptAll(request, hooks, progress);
    } catch (err) {
      this.settle(request, hooks, progress, null, err);
      throw err;
    }
    this.settle(request, hooks, progress, served, null);
    return served;
  }

  // The one place a request's end is recorded: once per request, whatever ended it (served,
  // every target failed, unknown model, no place allowed by privacy or budget, queue full or
  // timed out, the caller gone), unless the caller says it will dispatch it again.
  private settle(
    request: InferenceRequest,
    hooks: RunHooks,
    progress: Progress,
    served: InferenceOutcome | null,
    error: unknown,
  ): void {
    if (served === null && hooks.willRetry?.(error)) return;
    if (!this.deps.record) return;
    const { started, firstChunkAt } = progress;
    this.deps.record({
      request,
      outcome: served ? 'ok' : hooks.signal.aborted ? 'cancelled' : 'error',
      target: served?.servedBy.target ?? progress.target,
      attempts: served?.servedBy.attempts ?? progress.attempts,
      served,
      error,
      latencyMs: served?.latencyMs ?? monotonicMs() - started,
      firstTokenMs: served ? served.firstTokenMs : firstChunkAt === null ? null : firstChunkAt - started,
      attempt: served ? progress.attempt : null,
    });
  }

  // The gate never turns a reply into an error: when no later candidate serves the request,
  // the first rejected reply (what the request would have got with no gate) is returned, marked.
  private async attemptAll(
    request: InferenceRequest,
    hooks: RunHooks,
    progress: Progress,
  ): Promise<InferenceOutcome> {
    const rejected: { reply?: Rejected } = {};
    try {
      const served = await this.attemptEach(request, hooks, progress, rejected);
      if (served) return served;
    } catch (err) {
      if (!rejected.reply || hooks.signal.aborted) throw err;
    }
    const { outcome, attempt, reason } = rejected.reply!;
    const now = monotonicMs();
    const marked: InferenceOutcome = {
      ...outcome,
      servedBy: {
        ...outcome.servedBy,
        attempts: progress.attempts,
        notices: { ...outcome.servedBy.notices, 'x-swarm-quality': `failed; ${reason}` },
      },
      latencyMs: now - progress.started,
    };
    progress.attempt = attempt;
    hooks.onStart?.(marked.servedBy);
    return marked;
  }

  // Tries targets in turn; null when every one that answered was turned down by the gate
  // (`rejected.reply` then holds the first of those).
  private async attemptEach(
    request: InferenceRequest,
    hooks: RunHooks,
    progress: Progress,
    rejected: { reply?: Rejected },
  ): Promise<InferenceOutcome | null> {
    const { started } = progress;
    let attempts = 0;
    /** Attempts that do not count against maxAttempts: the first worker loss on each node. */
    let free = 0;
    const lostOn = new Set<string>();
    let lastError: unknown = null;
    let queuedSince: number | null = null;
    for (;;) {
      let targets: Target[];
      try {
        targets = this.deps.plan(request);
      } catch (err) {
        if (!(err instanceof CapacityPendingError)) throw err;
        // Nothing can serve now, but a node that could is coming back: wait for it (bounded).
        queuedSince ??= monotonicMs();
        await this.waitForCapacity(queuedSince, hooks.signal, () => timedOutWaiting(err, this.init));
        continue;
      }
      if (targets.length === 0) {
        throw new SwarmError(
          ErrorCodes.NODE_NOT_FOUND,
          `no node of the swarm can serve ${String(request.body.model)} right now`,
        );
      }
      let allBusy = true;
      let sawBusy = false;
      let sawLost = false;
      const firstStep = targets[0]!.tier;
      for (const target of targets) {
        if (attempts - free >= this.init.maxAttempts) break;
        // Busy is not broken: while every refusal so far was for capacity, wait for the
        // requested step's own models rather than hand the client another tier's model.
        if (allBusy && target.tier !== firstStep) continue;
        attempts++;
        const attemptStart = monotonicMs();
        let firstChunkAt: number | null = null;
        let chunksSent = 0;
        let announced = false;
        const announce = () => {
          if (announced) return;
          announced = true;
          hooks.onStart?.({ target, attempts, ...this.noticesNow() });
        };
        try {
          hooks.onAttempt?.(target);
          const result = await this.deps.run(target, request, attempts, {
            signal: hooks.signal,
            ...(request.stream && {
              onChunk: (chunk: JsonObject) => {
                if (firstChunkAt === null) firstChunkAt = progress.firstChunkAt = monotonicMs();
                announce();
                chunksSent++;
                hooks.onChunk?.(chunk);
              },
            }),
          });
          const verdict = request.stream
            ? { ok: true as const }
            : (this.deps.quality?.(request, result) ?? { ok: true as const });
          const now = monotonicMs();
          const outcome: InferenceOutcome = {
            servedBy: { target, attempts, ...this.noticesNow() },
            body: request.stream ? null : result.body,
            usage: result.usage,
            finishReason: result.finishReason,
            firstTokenMs:
              firstChunkAt !== null ? firstChunkAt - started : (result.firstTokenMs ?? now - started),
            latencyMs: now - started,
          };
          const attempt = {
            latencyMs: now - attemptStart,
            firstTokenMs: firstChunkAt !== null ? firstChunkAt - attemptStart : result.firstTokenMs,
          };
          if (!verdict.ok) {
            // A poor reply escalates to the next candidate, and is recorded as such.
            this.deps.logger.info(
              { request: request.id, target: target.model, reason: verdict.reason },
              'quality gate rejected a reply',
            );
            progress.target = target;
            progress.attempts = attempts;
            rejected.reply ??= { outcome, attempt, reason: verdict.reason };
            allBusy = false;
            continue;
          }
          announce();
          this.deps.cooldown?.success(target);
          progress.attempt = attempt;
          return outcome;
        } catch (err) {
          const failure = err as Partial<TaskError>;
          const capacity = CAPACITY_CODES.has(failure.code ?? '');
          // A refusal for capacity is not a failed attempt, and the target did not take it.
          if (capacity) attempts--;
          else progress.target = target;
          progress.attempts = attempts;
          if (hooks.signal.aborted) throw err;
          lastError = err;
          // Its worker went away under it (membership plans around that node from now on).
          const lost =
            failure.code === ErrorCodes.WORKER_LOST && failure.retryable === true && chunksSent === 0;
          if (capacity) {
            sawBusy = true;
          } else if (lost) {
            // Like busy, a lost worker is no reason to hand the client another tier's model.
            sawLost = true;
            if (!lostOn.has(target.nodeId)) {
              lostOn.add(target.nodeId);
              free++;
            }
            if (failure.targetAtFault !== false) this.deps.cooldown?.failure(target);
          } else {
            allBusy = false;
            if (failure.targetAtFault !== false) this.deps.cooldown?.failure(target);
          }
          this.deps.logger.debug(
            { request: request.id, target: target.nodeName, err: errorMessage(err) },
            'attempt failed',
          );
          // After the first chunk reached the client there is no transparent retry.
          if (chunksSent > 0 || failure.retryable === false) throw err;
        }
      }
      if (attempts - free >= this.init.maxAttempts) break;
      // A worker was lost: plan again at once, without it (the plan waits when nothing is left).
      if (sawLost) continue;
      if (!sawBusy) break;
      // A reply in hand is not worth a wait in the queue.
      if (rejected.reply) return null;
      // Some candidate was merely busy (whatever the others did): wait for a slot (bounded),
      // then plan again, rather than fail a request the swarm can serve in a moment.
      queuedSince ??= monotonicMs();
      await this.waitForCapacity(queuedSince, hooks.signal, () => busyTooLong(this.init.queueTimeoutMs));
    }
    if (rejected.reply) return null;
    throw lastError instanceof Error
      ? lastError
      : new SwarmError(ErrorCodes.NODE_NOT_FOUND, 'no candidate could serve the request');
  }

  private noticesNow(): { notices?: Record<string, string> } {
    const notices = this.deps.notices?.();
    return notices && Object.keys(notices).length > 0 ? { notices } : {};
  }

  /** Wait until woken or polled; throws `timedOut()` once queueTimeout has passed since `since`. */
  private async waitForCapacity(since: number, signal: AbortSignal, timedOut: () => Error): Promise<void> {
    const left = this.init.queueTimeoutMs - (monotonicMs() - since);
    if (left <= 0) throw timedOut();
    if (this.waiting >= this.init.queueSize) {
      throw new TaskError(
        ErrorCodes.QUEUE_FULL,
        `the request queue is full (${this.init.queueSize} waiting); try again shortly`,
        {
          retryable: true,
          retryAfterMs: 1000,
        },
      );
    }
    this.waiting++;
    try {
      await new Promise<void>((resolve, reject) => {
        // Wake on a freed slot, and poll anyway: a peer's slot frees without telling us.
        const timer = setTimeout(done, Math.min(left, 250));
        function done() {
          clearTimeout(timer);
          wakers.delete(done);
          signal.removeEventListener('abort', aborted);
          resolve();
        }
        function aborted() {
          done();
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        }
        const wakers = this.wakers;
        wakers.add(done);
        signal.addEventListener('abort', aborted, { once: true });
      });
    } finally {
      this.waiting--;
    }
  }
}

/** Every place was busy for the whole queue timeout: 429, try again shortly. */
function busyTooLong(queueTimeoutMs: number): Error {
  return new TaskError(
    ErrorCodes.QUEUE_FULL,
    `every slot in the swarm stayed busy for ${queueTimeoutMs} ms`,
    {
      retryable: true,
      retryAfterMs: 1000,
    },
  );
}

/** The places a request waited for did not come back within the queue timeout: 503, with why. */
function timedOutWaiting(pending: CapacityPendingError, init: DispatcherInit): Error {
  return new SwarmError(
    ErrorCodes.NO_CAPACITY,
    `${pending.message}; waited ${init.queueTimeoutMs} ms (routing.queueTimeout) for them to come back`,
  );
}
