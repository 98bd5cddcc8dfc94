// The worker side of a peer task: admit or refuse a task from this node's own live capacity,
// run it on the local backend, and send the result back to the coordinator: as frames of the
// task channel the task came on (worker-channel.ts), or, for a plain RequestTask, on a
// SubmitResult call dialled to the coordinator, whose end is then how cancellation arrives.
import type { LocalBackend } from '../backends/types.js';
import { ErrorCodes, errorMessage } from '../errors.js';
import type { InferenceKind, JsonObject, Usage } from '../inference/types.js';
import type { Membership } from '../membership/membership.js';
import type { SelfNode } from '../membership/self-node.js';
import type { PeerClientPool, ResultStream } from '../rpc/peer-client.js';
import type { RequestTaskRequest, RequestTaskResponse, SubmitResultRequest } from '../rpc/wire.js';
import type { Logger } from '../util/logger.js';
import type { Slots } from './slots.js';

/** What running a request on a backend returns (see backends/invoke.ts). */
export interface BackendRunResult {
  body: JsonObject | null;
  usage: Usage | null;
  finishReason: string | null;
  firstTokenMs: number | null;
}

/** Runs one request on one local backend (with its API key). */
export type RunOnBackend = (
  backend: LocalBackend,
  model: string,
  request: { kind: InferenceKind; body: JsonObject; stream: boolean },
  hooks: { signal: AbortSignal; onChunk?: (chunk: JsonObject) => void; requestId?: string },
) => Promise<BackendRunResult>;

const KINDS = new Set<InferenceKind>(['chat', 'completions', 'embeddings']);

/** Where an admitted task's results go. */
export interface ResultSink {
  send(message: SubmitResultRequest): void;
  /** No more messages (after the final or error one). */
  end(): void;
}

/** Creates the sink for an admitted task (the task channel passes one). */
export type SinkFactory = (key: string, abort: AbortController) => ResultSink;

/** A RequestTask's result call with no result by then opens with `started`. */
const STARTED_AFTER_MS = 50;

/** Serves peers' tasks (from a task channel or a RequestTask). */
export class TaskWorker {
  private readonly logger: Logger;
  private readonly self: SelfNode;
  private readonly membership: Membership;
  private readonly pool: PeerClientPool;
  private readonly slots: Slots;
  private readonly backends: () => LocalBackend[];
  private readonly run: RunOnBackend;
  private readonly running = new Set<AbortController>();
  private readonly handedBack = new WeakSet<AbortController>();

  constructor(components: {
    logger: Logger;
    self: SelfNode;
    membership: Membership;
    pool: PeerClientPool;
    slots: Slots;
    backends: () => LocalBackend[];
    run: RunOnBackend;
  }) {
    this.logger = components.logger;
    this.self = components.self;
    this.membership = components.membership;
    this.pool = components.pool;
    this.slots = components.slots;
    this.backends = components.backends;
    this.run = components.run;
  }

  /** This process's incarnation (what admissions carry). */
  get incarnation(): number {
    return this.self.incarnation;
  }

  /** Tasks running for peers now. */
  get active(): number {
    return this.running.size;
  }

  /**
   * Admit or refuse; an admitted task starts at once and reports through `sink` (the task
   * channel it came on), or through a SubmitResult call to the coordinator when none is given.
   */
  handleRequestTask(request: RequestTaskRequest, sink?: SinkFactory): RequestTaskResponse {
    const refuse = (reason: string, retryAfterMs = 0): RequestTaskResponse => ({
      admitted: false,
      reason,
      retryAfterMs,
      workerIncarnation: this.self.incarnation,
    });
    if (this.self.activity !== 'ACTIVITY_ACTIVE')
      return refuse(`this node is ${this.self.activity.slice(9).toLowerCase()}`);
    if (!KINDS.has(request.kind as InferenceKind))
      return refuse(`unknown task kind ${JSON.stringify(request.kind)}`);
    const local = this.backends().find(
      (candidate) => candidate.status.id === request.backendId && candidate.status.healthy,
    );
    if (!local) return refuse(`no healthy backend ${request.backendId} here`);
    const backend = local.status;
    const model = backend.models.find((candidate) => candidate.id === request.model);
    if (!model) return refuse(`backend ${backend.id} has no model ${request.model}`);
    const coordinatorAddress = sink ? undefined : this.membership.peer(request.coordinatorId)?.address;
    if (!sink && !coordinatorAddress) return refuse('this node cannot reach the coordinator back');
    let body: JsonObject;
    try {
      const parsed = JSON.parse(request.body.toString('utf8')) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        return refuse('task body is not a JSON object');
      body = parsed as JsonObject;
    } catch {
      return refuse('task body is not JSON');
    }
    const slot = this.slots.tryAcquire(backend.id, model.id, model.maxConcurrency);
    if (!slot) return refuse('busy: every slot of that model is in use', 250);
    const abort = new AbortController();
    this.running.add(abort);
    const key = `${request.taskId}#${request.attempt}`;
    const results = sink ? sink(key, abort) : this.submitResultSink(request, coordinatorAddress!, abort);
    void this.execute(request, local, body, results, abort).finally(() => {
      this.running.delete(abort);
      slot.release();
    });
    return { admitted: true, reason: '', retryAfterMs: 0, workerIncarnation: this.self.incarnation };
  }

  /**
   * Give every running task back to its coordinator: abort it and answer SubmitResult with a
   * retryable SWARM_ERR_TASK_HANDED_BACK, so the coordinator runs it elsewhere (transparently
   * when nothing was streamed to its client yet). Returns how many were handed back.
   */
  handBack(): number {
    for (const abort of this.running) {
      this.handedBack.add(abort);
      abort.abort();
    }
    return this.running.size;
  }

  /** Abort every running task (shutdown). */
  abortAll(): void {
    for (const abort of this.running) abort.abort();
  }

  /**
   * A SubmitResult call to the coordinator, opened lazily: a quick task's result is the call's
   * first message (one exchange fewer); a slower one announces itself after STARTED_AFTER_MS,
   * so the coordinator can cancel it (by ending the call) long before its first token.
   */
  private submitResultSink(
    request: RequestTaskRequest,
    coordinatorAddress: string,
    abort: AbortController,
  ): ResultSink {
    let stream: ResultStream | null = null;
    const send = (message: SubmitResultRequest) => {
      if (!stream) {
        stream = this.pool.submitResult(coordinatorAddress, request.coordinatorId);
        // The coordinator ends the call when its client goes away, or refuses a void attempt.
        stream.done.then(
          (reply) => {
            if (reply.accepted) return;
            this.logger.info(
              { task: request.taskId, attempt: request.attempt, reason: reply.reason },
              'coordinator refused this result (a stale attempt): dropped',
            );
            abort.abort();
          },
          () => abort.abort(),
        );
      }
      stream.write(message);
    };
    const started = setTimeout(() => send({ ...this.tag(request), started: true }), STARTED_AFTER_MS);
    return {
      send,
      end: () => {
        clearTimeout(started);
        (stream as ResultStream | null)?.end();
      },
    };
  }

  private tag(request: RequestTaskRequest) {
    return {
      taskId: request.taskId,
      attempt: request.attempt,
      workerId: this.self.id,
      workerIncarnation: this.self.incarnation,
    };
  }

  private async execute(
    request: RequestTaskRequest,
    backend: LocalBackend,
    body: JsonObject,
    sink: ResultSink,
    abort: AbortController,
  ): Promise<void> {
    const tag = this.tag(request);
    const send = (payload: Partial<SubmitResultRequest>) =>
      sink.send({ ...tag, ...payload } as SubmitResultRequest);
    // Progress ticks renew the lease while a non-streaming generation runs silently.
    const tick = setInterval(() => send({ started: true }), Math.max(200, Math.floor(request.leaseMs / 3)));
    let chunks = 0;
    try {
      const result = await this.run(
        backend,
        request.model,
        { kind: request.kind as InferenceKind, body, stream: request.stream },
        {
          signal: abort.signal,
          requestId: request.taskId,
          onChunk: (chunk) => {
            chunks++;
            send({ chunk: Buffer.from(JSON.stringify(chunk)) });
          },
        },
      );
      send({
        final: {
          body: Buffer.from(result.body ? JSON.stringify(result.body) : ''),
          promptTokens: result.usage?.promptTokens ?? 0,
          completionTokens: result.usage?.completionTokens ?? 0,
          finishReason: result.finishReason ?? '',
          firstTokenMs: result.firstTokenMs ?? 0,
        },
      });
    } catch (err) {
      const failure = err as {
        code?: string;
        retryable?: boolean;
        retryAfterMs?: number;
        upstream?: { type?: string | null; code?: string | null } | null;
      };
      if (this.handedBack.has(abort)) {
        send({
          error: {
            code: ErrorCodes.TASK_HANDED_BACK,
            message: `node ${this.self.name} was paused and handed the task back before it finished`,
            retryable: chunks === 0,
            chunksDelivered: chunks,
            retryAfterMs: 0,
          },
        });
      } else if (!abort.signal.aborted) {
        send({
          error: {
            code: failure.code ?? 'SWARM_ERR_BACKEND_ERROR',
            message: errorMessage(err),
            retryable: failure.retryable ?? chunks === 0,
            chunksDelivered: chunks,
            retryAfterMs: failure.retryAfterMs ?? 0,
            upstreamType: failure.upstream?.type ?? '',
            upstreamCode: failure.upstream?.code ?? '',
          },
        });
      }
      this.logger.debug(
        { task: request.taskId, attempt: request.attempt, err: errorMessage(err) },
        'task failed',
      );
    } finally {
      clearInterval(tick);
      sink.end();
    }
  }
}
