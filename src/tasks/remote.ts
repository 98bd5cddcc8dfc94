// The coordinator side of a peer task: send it to the chosen worker on that worker's task
// channel (task-channels.ts) and take its results from there, or, with an older worker,
// RequestTask and then wait for its SubmitResult stream. Each attempt has a lease, renewed by
// every message; a worker that dies, restarts, leaves, or goes silent past its lease fails
// the attempt (retryable when nothing was sent to the client yet). Results of any other
// attempt are rejected. A channel that breaks, or a task that cannot be sent or gets no
// admission, makes membership keep that worker out of plans at once until it answers again.
import * as grpc from '@grpc/grpc-js';
import { ErrorCodes, errorMessage } from '../errors.js';
import type { InferenceKind, JsonObject, Usage } from '../inference/types.js';
import type { Membership } from '../membership/membership.js';
import type { SelfNode } from '../membership/self-node.js';
import type { PeerClientPool } from '../rpc/peer-client.js';
import type {
  RequestTaskRequest,
  RequestTaskResponse,
  SubmitResultRequest,
  SubmitResultResponse,
} from '../rpc/wire.js';
import type { Logger } from '../util/logger.js';
import { ChannelUnsupported, type TaskChannel, TaskChannels } from './task-channels.js';
import { TaskError } from './task-error.js';
import type { BackendRunResult } from './worker.js';

export interface RemoteTaskInit {
  leaseMs: number;
  requestTimeoutMs: number;
}

interface Pending {
  workerId: string;
  /**
   * The worker process that took the attempt: null until RequestTask answers, 0 when the peer
   * does not say (older version). A restart voids only attempts of older processes.
   */
  incarnation: number | null;
  chunks: number;
  lease: NodeJS.Timeout | undefined;
  onChunk: ((chunk: JsonObject) => void) | undefined;
  settle: (error: Error | null, result?: BackendRunResult) => void;
  /** Stops the work on the worker: a cancel frame, or ending its SubmitResult call. */
  endCall: ((status: grpc.status, details: string) => void) | undefined;
  /** The task channel the attempt went on; null for RequestTask. */
  channel: TaskChannel | null;
  /** The worker admitted it (an answer said so, or a result came). */
  ran: boolean;
}

/** The key of one model on one backend of one node. */
function placeKey(nodeId: string, backendId: string, model: string): string {
  return `${nodeId}|${backendId}|${model}`;
}

/** Runs tasks on peers. */
export class RemoteTasks {
  private readonly pending = new Map<string, Pending>();
  /** Attempts waiting per `nodeId|backendId|model`: what this node has running on each place. */
  private readonly outstanding = new Map<string, number>();
  private readonly settledListeners = new Set<() => void>();
  private readonly logger: Logger;
  private readonly pool: PeerClientPool;
  private readonly membership: Membership;
  private readonly self: SelfNode;
  private readonly init: RemoteTaskInit;
  private readonly channels: TaskChannels;

  constructor(
    components: { logger: Logger; pool: PeerClientPool; membership: Membership; self: SelfNode },
    init: RemoteTaskInit,
  ) {
    this.logger = components.logger;
    this.pool = components.pool;
    this.membership = components.membership;
    this.self = components.self;
    this.init = init;
    this.channels = new TaskChannels(
      { logger: this.logger, pool: this.pool },
      {
        onResult: (message, channel) => this.accept(message, channel),
        // A channel breaks when its worker's process or connection does: like a death, that
        // does not cool the node down (membership keeps it out until it answers again).
        onClosed: (channel, why) =>
          this.failWorker(channel.workerId, why, (entry) => entry.channel === channel),
        onBroken: (workerId, why) => this.membership.reportUnreachable(workerId, why),
      },
    );
    // A worker that dies, leaves or restarts takes its attempts with it, at once.
    this.membership.onChange((event) => {
      if (event.restarted) {
        // The old process's channel breaks by itself (its attempts fail then); the channel may
        // already reach the new process, whose attempts carry on. It may be a newer version.
        this.failOlderThan(event.id, `worker ${event.name} restarted`);
        this.channels.forgetUnsupported(event.id);
      } else if (event.to === 'dead' || event.to === 'left' || event.from === 'dead') {
        this.failWorker(event.id, `worker ${event.name} is ${event.to}`);
        this.channels.drop(event.id, `worker ${event.name} is ${event.to}`);
      }
    });
  }

  /** Close every task channel (shutdown). */
  close(): void {
    this.channels.closeAll();
  }

  /** Attempts this node has running (or waiting for an answer) on one model of one worker. */
  outstandingOn(nodeId: string, backendId: string, model: string): number {
    return this.outstanding.get(placeKey(nodeId, backendId, model)) ?? 0;
  }

  /** True while this node has any attempt on a worker. */
  get anyOutstanding(): boolean {
    return this.outstanding.size > 0;
  }

  /** Call `listener` whenever an attempt a worker had admitted ends: a slot there is free again. */
  onSlotFreed(listener: () => void): void {
    this.settledListeners.add(listener);
  }

  /** Attempts waiting on a worker now. */
  get inflight(): number {
    return this.pending.size;
  }

  /** Run one attempt of a task on a peer's backend. */
  run(
    worker: { nodeId: string; backendId: string; model: string },
    task: { id: string; attempt: number; kind: InferenceKind; body: JsonObject; stream: boolean },
    hooks: { signal: AbortSignal; onChunk?: (chunk: JsonObject) => void },
  ): Promise<BackendRunResult> {
    const key = `${task.id}#${task.attempt}`;
    const place = placeKey(worker.nodeId, worker.backendId, worker.model);
    const address = this.membership.peer(worker.nodeId)?.address;
    if (!address) {
      return Promise.reject(
        new TaskError(ErrorCodes.WORKER_LOST, `node ${worker.nodeId} has no known address`, {
          retryable: true,
        }),
      );
    }
    return new Promise<BackendRunResult>((resolve, reject) => {
      const entry: Pending = {
        workerId: worker.nodeId,
        incarnation: null,
        chunks: 0,
        lease: undefined,
        onChunk: hooks.onChunk,
        endCall: undefined,
        channel: null,
        ran: false,
        settle: (error, result) => {
          if (!this.pending.delete(key)) return;
          const left = (this.outstanding.get(place) ?? 1) - 1;
          if (left > 0) this.outstanding.set(place, left);
          else this.outstanding.delete(place);
          clearTimeout(entry.lease);
          hooks.signal.removeEventListener('abort', onAbort);
          if (error) reject(error);
          else resolve(result!);
          // A slot it held on the worker is free now (a refusal freed nothing: no wake-up loop).
          if (entry.ran) for (const listener of this.settledListeners) listener();
        },
      };
      const onAbort = () => {
        entry.endCall?.(grpc.status.CANCELLED, 'the client went away');
        entry.settle(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      };
      if (hooks.signal.aborted) {
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        return;
      }
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(key, entry);
      this.outstanding.set(place, (this.outstanding.get(place) ?? 0) + 1);
      this.renewLease(key, entry);
      const request: RequestTaskRequest = {
        taskId: task.id,
        attempt: task.attempt,
        coordinatorId: this.self.id,
        kind: task.kind,
        body: Buffer.from(JSON.stringify({ ...task.body, model: worker.model })),
        stream: task.stream,
        backendId: worker.backendId,
        model: worker.model,
        leaseMs: this.init.leaseMs,
        coordinatorIncarnation: this.self.incarnation,
      };
      this.send(worker.nodeId, address, request, entry).then(
        (reply) => this.admitted(worker.nodeId, reply, entry),
        (err: unknown) => {
          // Not sent, or no admission: whatever the failure detector says yet, plan around it.
          if (!hooks.signal.aborted)
            this.membership.reportUnreachable(worker.nodeId, `task not admitted: ${errorMessage(err)}`);
          entry.settle(
            new TaskError(
              ErrorCodes.WORKER_LOST,
              `RequestTask to ${worker.nodeId} failed: ${errorMessage(err)}`,
              {
                retryable: true,
                cause: err,
              },
            ),
          );
        },
      );
    });
  }

  /** Send the task on the worker's channel; RequestTask when the worker has none (older version). */
  private async send(
    workerId: string,
    address: string,
    request: RequestTaskRequest,
    entry: Pending,
  ): Promise<RequestTaskResponse> {
    const timeoutMs = this.init.requestTimeoutMs;
    if (this.channels.supports(workerId)) {
      const { channel, admission } = this.channels.request({ nodeId: workerId, address }, request, timeoutMs);
      if (channel) {
        entry.channel = channel;
        entry.endCall = (_status, details) =>
          this.channels.cancel(channel, request.taskId, request.attempt, details);
      }
      try {
        return await admission;
      } catch (err) {
        if (!(err instanceof ChannelUnsupported)) throw err;
        entry.channel = null;
        entry.endCall = undefined;
      }
    }
    return this.pool.requestTask(address, request, timeoutMs, workerId);
  }

  /** The worker answered: refused, or admitted by a process we already know restarted. */
  private admitted(workerId: string, reply: RequestTaskResponse, entry: Pending): void {
    entry.incarnation = reply.workerIncarnation;
    if (reply.admitted) entry.ran = true;
    // The process that admitted it was already replaced by a restart we heard of.
    if (reply.admitted && this.isOlder(workerId, reply.workerIncarnation)) {
      entry.endCall?.(grpc.status.UNAVAILABLE, 'worker restarted');
      entry.settle(
        new TaskError(ErrorCodes.WORKER_LOST, `worker ${workerId} restarted`, {
          retryable: true,
          targetAtFault: false,
        }),
      );
    } else if (!reply.admitted) {
      entry.settle(
        new TaskError(ErrorCodes.TASK_REFUSED, `node ${workerId} refused the task: ${reply.reason}`, {
          retryable: true,
          retryAfterMs: reply.retryAfterMs,
        }),
      );
    }
  }

  /** Serve a worker's SubmitResult stream (grpc-js client-streaming handler). */
  handleSubmitResult(
    call: grpc.ServerReadableStream<SubmitResultRequest, SubmitResultResponse>,
    callback: grpc.sendUnaryData<SubmitResultResponse>,
    authorize: (call: unknown, claimedId: string) => void,
  ): void {
    let answered = false;
    const answer = (error: Partial<grpc.StatusObject> | null, reply?: SubmitResultResponse) => {
      if (answered) return;
      answered = true;
      callback(error, reply);
    };
    let key: string | undefined;
    call.on('data', (message: SubmitResultRequest) => {
      if (answered) return;
      const entryKey = `${message.taskId}#${message.attempt}`;
      if (key === undefined) {
        try {
          authorize(call, message.workerId);
        } catch (err) {
          answer({
            code: grpc.status.PERMISSION_DENIED,
            details: errorMessage(err),
            metadata: new grpc.Metadata(),
          });
          return;
        }
        key = entryKey;
      }
      const entry = this.pending.get(entryKey);
      if (!entry || entry.channel || entry.workerId !== message.workerId || entryKey !== key) {
        // A stale attempt (lease expired, re-dispatched) or a task we never gave: refuse it.
        answer(null, { accepted: false, reason: 'no such task attempt here (stale or unknown)' });
        return;
      }
      entry.endCall ??= (status, details) => answer({ code: status, details, metadata: new grpc.Metadata() });
      if (!this.accept(message, null)) {
        answer(null, { accepted: false, reason: 'no such task attempt here (stale or unknown)' });
      } else if (message.final || message.error) answer(null, { accepted: true, reason: '' });
    });
    call.on('end', () => answer(null, { accepted: true, reason: '' }));
    call.on('error', () => {
      if (key)
        this.pending
          .get(key)
          ?.settle(
            new TaskError(ErrorCodes.WORKER_LOST, 'the worker result stream broke', { retryable: true }),
          );
    });
  }

  /**
   * Take one result message of a pending attempt, from the channel (or SubmitResult call, null)
   * the attempt went on. False when no such attempt waits: stale, void, or never given.
   */
  private accept(message: SubmitResultRequest, channel: TaskChannel | null): boolean {
    const key = `${message.taskId}#${message.attempt}`;
    const entry = this.pending.get(key);
    if (!entry || entry.workerId !== message.workerId || entry.channel !== channel) return false;
    entry.ran = true;
    this.renewLease(key, entry);
    if (message.chunk) {
      entry.chunks++;
      entry.onChunk?.(JSON.parse(message.chunk.toString('utf8')) as JsonObject);
    } else if (message.final) {
      const final = message.final;
      const usage: Usage = {
        promptTokens: final.promptTokens,
        completionTokens: final.completionTokens,
        totalTokens: final.promptTokens + final.completionTokens,
      };
      entry.settle(null, {
        body: final.body.length > 0 ? (JSON.parse(final.body.toString('utf8')) as JsonObject) : null,
        usage,
        finishReason: final.finishReason || null,
        firstTokenMs: final.firstTokenMs || null,
      });
    } else if (message.error) {
      const failure = message.error;
      entry.settle(
        new TaskError(failure.code, failure.message, {
          retryable: failure.retryable && entry.chunks === 0,
          chunksDelivered: entry.chunks,
          retryAfterMs: failure.retryAfterMs,
          ...((failure.upstreamType || failure.upstreamCode) && {
            upstream: { type: failure.upstreamType || null, code: failure.upstreamCode || null },
          }),
          // A paused node handing work back did nothing wrong.
          targetAtFault: failure.code !== ErrorCodes.TASK_HANDED_BACK,
        }),
      );
    }
    return true;
  }

  private renewLease(key: string, entry: Pending): void {
    clearTimeout(entry.lease);
    entry.lease = setTimeout(() => {
      this.logger.warn({ task: key, worker: entry.workerId }, 'task lease expired: the worker went silent');
      entry.endCall?.(grpc.status.DEADLINE_EXCEEDED, 'lease expired');
      entry.settle(
        new TaskError(ErrorCodes.WORKER_LOST, `worker ${entry.workerId} went silent past its lease`, {
          retryable: entry.chunks === 0,
          chunksDelivered: entry.chunks,
        }),
      );
    }, this.init.leaseMs);
  }

  /** True when the worker's current incarnation (as membership knows it) is newer than `incarnation`. */
  private isOlder(workerId: string, incarnation: number): boolean {
    const current = this.membership.peer(workerId)?.live.incarnation ?? 0;
    return incarnation !== 0 && incarnation < current;
  }

  /**
   * A worker restarted: fail the attempts its previous process took. Attempts the new process
   * already admitted carry on; ones whose RequestTask has not answered yet are judged when it does.
   */
  private failOlderThan(workerId: string, why: string): void {
    const current = this.membership.peer(workerId)?.live.incarnation ?? Number.MAX_SAFE_INTEGER;
    this.failWorker(workerId, why, (entry) => entry.incarnation !== null && entry.incarnation < current);
  }

  private failWorker(
    workerId: string,
    why: string,
    which: (entry: Pending) => boolean = () => true,
    targetAtFault = false,
  ): void {
    for (const entry of [...this.pending.values()]) {
      if (entry.workerId !== workerId || !which(entry)) continue;
      entry.endCall?.(grpc.status.UNAVAILABLE, why);
      entry.settle(
        new TaskError(ErrorCodes.WORKER_LOST, why, {
          retryable: entry.chunks === 0,
          chunksDelivered: entry.chunks,
          targetAtFault,
        }),
      );
    }
  }
}
