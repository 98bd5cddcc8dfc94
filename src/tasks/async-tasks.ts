// Asynchronous tasks: a request accepted now (`Prefer: respond-async`) and answered later. Each
// is journaled before the client hears "accepted", run through the same dispatcher as any
// request (routing, fallback, privacy, usage all apply), and its result committed to the
// journal before it shows as completed. On start the service resumes every task a previous
// process accepted and did not finish, so a coordinator restart loses none of them.
import { ErrorCodes, SwarmError } from '../errors.js';
import type {
  AsyncTaskError,
  AsyncTaskService,
  AsyncTaskView,
  Dispatcher,
  InferenceRequest,
  TaskOwner,
} from '../inference/types.js';
import { bodyWithUsage } from '../inference/wire-usage.js';
import type { Logger } from '../util/logger.js';
import type { JournaledTask, TaskJournal } from './journal.js';

export interface AsyncTasksInit {
  /** Tasks run at once; the rest wait in order. */
  concurrency: number;
  /** Tasks accepted and not finished, at most; more are refused with QUEUE_FULL. */
  maxPending: number;
  /** How long a task may keep waiting for capacity before it fails (ms from acceptance). */
  deadlineMs: number;
}

export interface AsyncTasksComponents {
  logger: Logger;
  journal: TaskJournal;
  dispatcher: Dispatcher;
  /** The client-facing form of an error (the gateway's mapping). */
  describeError: (err: unknown, model: string) => AsyncTaskError;
  /**
   * Records a task's end where no dispatch of it ended (usage ledger): refused at submit, or
   * cancelled while it waited. The dispatcher records every other end, once per task.
   */
  recordEnd?: (
    request: InferenceRequest,
    end: { error: unknown; cancelled: boolean; attempts: number; latencyMs: number },
  ) => void;
  /** Wall clock (ms epoch). */
  now?: () => number;
}

// Busy, not broken: a task that hits these waits and tries again until its deadline.
const WAIT_CODES = new Set<string>([
  ErrorCodes.QUEUE_FULL,
  ErrorCodes.TASK_REFUSED,
  ErrorCodes.NO_CAPACITY,
  ErrorCodes.NODE_NOT_FOUND,
  ErrorCodes.WORKER_LOST,
]);
const RETRY_DELAY_MS = 1000;
// Right after a start the swarm view is still forming (peers found again, backends probed):
// a model nobody lists yet is waited for this long before a task fails for it.
const VIEW_FORMING_MS = 30_000;

interface Pending {
  task: JournaledTask;
  controller: AbortController | null;
}

/** Runs asynchronous tasks from the journal. */
export class AsyncTasks implements AsyncTaskService {
  private readonly c: AsyncTasksComponents;
  private readonly init: AsyncTasksInit;
  private readonly now: () => number;
  private readonly pending = new Map<string, Pending>();
  private readonly waiting: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = 0;
  private stopped = false;
  private startedMs = 0;

  constructor(components: AsyncTasksComponents, init: AsyncTasksInit) {
    this.c = components;
    this.init = init;
    this.now = components.now ?? Date.now;
  }

  /** Resume what a previous process accepted and did not finish. */
  start(): void {
    this.stopped = false;
    this.startedMs = this.now();
    const { resumed, interrupted } = this.c.journal.recover();
    if (resumed.length > 0 || interrupted > 0)
      this.c.logger.info(
        { resumed: resumed.length, interrupted },
        'task journal recovered: resuming accepted async tasks',
      );
    for (const task of resumed) this.enqueue(task);
    this.pump();
  }

  /** Stop running tasks without ending them: they stay open in the journal and resume next start. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const entry of this.pending.values()) entry.controller?.abort(new Error('swarmd is stopping'));
  }

  /** Tasks accepted and not finished. */
  get open(): number {
    return this.pending.size;
  }

  submit(request: InferenceRequest, owner: TaskOwner): AsyncTaskView {
    const refusal = this.refusal();
    if (refusal) {
      this.c.recordEnd?.(request, { error: refusal, cancelled: false, attempts: 0, latencyMs: 0 });
      throw refusal;
    }
    this.c.journal.accept({
      id: request.id,
      kind: request.kind,
      body: request.body,
      privacy: request.privacy,
      client: request.client,
      action: request.action,
      async: true,
      owner,
    });
    const task = this.c.journal.get(request.id)!;
    this.enqueue(task);
    this.pump();
    return view(task);
  }

  get(id: string, owner: TaskOwner): AsyncTaskView | null {
    const task = this.c.journal.getAsync(id, owner);
    return task ? view(task) : null;
  }

  list(owner: TaskOwner, limit: number): AsyncTaskView[] {
    return this.c.journal.listAsync(owner, limit).map(view);
  }

  cancel(id: string, owner: TaskOwner): AsyncTaskView | null {
    // Another owner's task is left alone and answered as unknown.
    if (!this.c.journal.getAsync(id, owner)) return null;
    const entry = this.pending.get(id);
    if (entry) {
      // Recorded at once, so the answer already says cancelled; a running dispatch is aborted
      // (and records the cancellation in the ledger), a waiting task is recorded here.
      this.finish(entry.task, { state: 'cancelled', attempts: entry.task.attempts });
      if (entry.controller) entry.controller.abort(new Error('cancelled'));
      else
        this.c.recordEnd?.(requestOf(entry.task), {
          error: null,
          cancelled: true,
          attempts: entry.task.attempts,
          latencyMs: this.now() - entry.task.createdMs,
        });
    }
    return this.get(id, owner);
  }

  private enqueue(task: JournaledTask): void {
    this.pending.set(task.id, { task, controller: null });
    this.waiting.push(task.id);
  }

  private pump(): void {
    while (!this.stopped && this.running < this.init.concurrency && this.waiting.length > 0) {
      const entry = this.pending.get(this.waiting.shift()!);
      if (entry && !entry.controller) void this.run(entry);
    }
  }

  private async run(entry: Pending): Promise<void> {
    const { task } = entry;
    const controller = new AbortController();
    entry.controller = controller;
    this.running++;
    this.c.journal.running(task.id, task.attempts);
    let tried = 0;
    // Whether this dispatch's failure is the task's end, decided once (the ledger counts only the end).
    let again: boolean | null = null;
    try {
      const outcome = await this.c.dispatcher.dispatch(requestOf(task), {
        signal: controller.signal,
        onStart: (served) => {
          tried = served.attempts;
        },
        willRetry: (err) => {
          again = this.stopped || (!controller.signal.aborted && this.shouldWait(task, err));
          return again;
        },
      });
      const { target } = outcome.servedBy;
      this.finish(task, {
        state: 'completed',
        attempts: task.attempts + outcome.servedBy.attempts,
        result: outcome.body ? bodyWithUsage(outcome.body, outcome.usage) : null,
        servedBy: {
          nodeId: target.nodeId,
          nodeName: target.nodeName,
          backend: target.backendId,
          model: target.model,
          tier: target.tier,
        },
      });
    } catch (err) {
      task.attempts += Math.max(tried, 1);
      if (this.stopped) return; // left open in the journal: the next start resumes it
      if (controller.signal.aborted) {
        this.finish(task, { state: 'cancelled', attempts: task.attempts });
      } else if (again ?? this.shouldWait(task, err)) {
        entry.controller = null;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!this.pending.has(task.id)) return;
          this.waiting.push(task.id);
          this.pump();
        }, retryDelay(err));
        this.timers.add(timer);
      } else {
        const error = this.c.describeError(err, String(task.body['model'] ?? ''));
        this.c.logger.info({ task: task.id, code: error.swarmCode }, 'async task failed');
        this.finish(task, { state: 'failed', attempts: task.attempts, error });
      }
    } finally {
      this.running--;
      this.pump();
    }
  }

  /** Why a task cannot be accepted now (shutting down, too many open); null when it can. */
  private refusal(): SwarmError | null {
    if (this.stopped)
      return new SwarmError(
        ErrorCodes.NO_CAPACITY,
        'this swarmd is shutting down; submit the task to another node',
      );
    if (this.pending.size >= this.init.maxPending) {
      return Object.assign(
        new SwarmError(
          ErrorCodes.QUEUE_FULL,
          `${this.pending.size} async tasks are already waiting here (tasks.maxPending); try again shortly`,
        ),
        { retryAfterMs: 5000 },
      );
    }
    return null;
  }

  private shouldWait(task: JournaledTask, err: unknown): boolean {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || this.now() - task.createdMs >= this.init.deadlineMs) return false;
    if (WAIT_CODES.has(code)) return true;
    return code === ErrorCodes.MODEL_NOT_FOUND && this.now() - this.startedMs < VIEW_FORMING_MS;
  }

  private finish(task: JournaledTask, end: Parameters<TaskJournal['end']>[1]): void {
    this.pending.delete(task.id);
    try {
      this.c.journal.end(task.id, end, true);
    } catch (err) {
      this.c.logger.error({ err, task: task.id }, 'could not record the end of an async task');
    }
  }
}

function retryDelay(err: unknown): number {
  const after = (err as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof after === 'number' && after > 0 ? Math.min(after, 10_000) : RETRY_DELAY_MS;
}

/** The request a journaled task runs. */
function requestOf(task: JournaledTask): InferenceRequest {
  return {
    id: task.id,
    kind: task.kind,
    body: task.body,
    stream: false,
    privacy: task.privacy,
    client: task.client,
    action: task.action,
  };
}

/** The client's view of a journaled task. */
function view(task: JournaledTask): AsyncTaskView {
  return {
    id: task.id,
    kind: task.kind,
    model: String(task.body['model'] ?? ''),
    status: task.state === 'interrupted' ? 'failed' : task.state,
    createdMs: task.createdMs,
    startedMs: task.startedMs,
    finishedMs: task.finishedMs,
    attempts: task.attempts,
    servedBy: task.servedBy,
    result: task.result,
    error: task.error,
  };
}
