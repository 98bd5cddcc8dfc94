// The coordinator's task channels: one long-lived TaskChannel call per worker, opened on first
// use, carrying every task this node gives that worker. A request frame is answered by a
// refusal, an admission, or straight away by the task's first result (which implies the
// admission), and the task's results follow on the same call. Per task this costs a
// frame each way instead of a RequestTask call and a SubmitResult call (measured in bench/).
// A worker that answers UNIMPLEMENTED is an older version: it gets RequestTask until it restarts.
import * as grpc from '@grpc/grpc-js';
import { errorMessage } from '../errors.js';
import type { PeerClientPool } from '../rpc/peer-client.js';
import type {
  RequestTaskRequest,
  RequestTaskResponse,
  SubmitResultRequest,
  TaskChannelRequest,
  TaskChannelResponse,
} from '../rpc/wire.js';
import type { Logger } from '../util/logger.js';
import { ADMISSION_AFTER_MS } from './worker-channel.js';

/** The worker does not serve TaskChannel (an older swarmd): use RequestTask with it. */
export class ChannelUnsupported extends Error {
  override name = 'ChannelUnsupported';
}

interface Admission {
  resolve: (reply: RequestTaskResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** One open channel to one worker. */
export interface TaskChannel {
  readonly workerId: string;
  readonly address: string;
}

interface OpenChannel extends TaskChannel {
  call: grpc.ClientDuplexStream<TaskChannelRequest, TaskChannelResponse>;
  admissions: Map<string, Admission>;
  closed: boolean;
}

export interface TaskChannelEvents {
  /** A result frame; false when no attempt waits for it (the worker is then told to stop). */
  onResult(message: SubmitResultRequest, channel: TaskChannel): boolean;
  /** The channel ended: every attempt admitted on it is lost. */
  onClosed(channel: TaskChannel, why: string): void;
  /** The channel broke or the worker ended it (not closed by this node): it may be gone. */
  onBroken(workerId: string, why: string): void;
}

/** Task channels to workers, by worker node id. */
export class TaskChannels {
  private readonly channels = new Map<string, OpenChannel>();
  /** Workers that answered UNIMPLEMENTED (older versions), until they restart. */
  private readonly unsupported = new Set<string>();
  private readonly logger: Logger;
  private readonly pool: PeerClientPool;
  private readonly events: TaskChannelEvents;

  constructor(components: { logger: Logger; pool: PeerClientPool }, events: TaskChannelEvents) {
    this.logger = components.logger;
    this.pool = components.pool;
    this.events = events;
  }

  /** False for a worker known to lack TaskChannel. */
  supports(workerId: string): boolean {
    return !this.unsupported.has(workerId);
  }

  /**
   * Send a task; resolves with the worker's admission. Rejects with ChannelUnsupported for an
   * older worker, or another error when the channel fails or no answer comes within timeoutMs.
   */
  request(
    worker: { nodeId: string; address: string },
    request: RequestTaskRequest,
    timeoutMs: number,
  ): { channel: TaskChannel | null; admission: Promise<RequestTaskResponse> } {
    const channel = this.open(worker.nodeId, worker.address);
    if (!channel) {
      const error = new Error('this node is not in a swarm (run swarmctl init or join)');
      return { channel: null, admission: Promise.reject(error) };
    }
    const key = `${request.taskId}#${request.attempt}`;
    const admission = new Promise<RequestTaskResponse>((resolve, reject) => {
      if (channel.closed) {
        reject(new Error('the task channel is closed'));
        return;
      }
      // An admitted task may announce itself only after ADMISSION_AFTER_MS: never give up sooner.
      const waitMs = Math.max(timeoutMs, 4 * ADMISSION_AFTER_MS);
      const timer = setTimeout(() => {
        channel.admissions.delete(key);
        this.cancel(channel, request.taskId, request.attempt, 'no admission in time');
        reject(new Error(`no answer within ${waitMs} ms`));
      }, waitMs);
      channel.admissions.set(key, { resolve, reject, timer });
      channel.call.write({ request });
    });
    return { channel, admission };
  }

  /** Tell the worker to stop one task attempt (the client went away, the attempt is void). */
  cancel(channel: TaskChannel, taskId: string, attempt: number, reason: string): void {
    const open = channel as OpenChannel;
    if (!open.closed) open.call.write({ cancel: { taskId, attempt, reason } });
  }

  /** Close a worker's channel (it died or left); its attempts are failed by onClosed. */
  drop(workerId: string, why: string): void {
    const channel = this.channels.get(workerId);
    if (channel) this.close(channel, why);
  }

  /** The worker restarted, maybe as a newer version: offer it the channel again. */
  forgetUnsupported(workerId: string): void {
    this.unsupported.delete(workerId);
  }

  /** Close every channel (shutdown). */
  closeAll(): void {
    for (const channel of [...this.channels.values()]) this.close(channel, 'this node is stopping');
  }

  private open(workerId: string, address: string): OpenChannel | null {
    const existing = this.channels.get(workerId);
    if (existing && !existing.closed && existing.address === address) return existing;
    if (existing) this.close(existing, `worker ${workerId} moved to ${address}`);
    const call = this.pool.taskChannel(address, workerId);
    if (!call) return null;
    const channel: OpenChannel = { workerId, address, call, admissions: new Map(), closed: false };
    this.channels.set(workerId, channel);
    call.on('data', (frame: TaskChannelResponse) => this.receive(channel, frame));
    call.on('error', (error: grpc.ServiceError) => {
      if (error.code === grpc.status.UNIMPLEMENTED) {
        this.unsupported.add(workerId);
        this.logger.info(
          { worker: workerId },
          'worker has no task channel (older swarmd): using RequestTask',
        );
        this.close(channel, 'unsupported', new ChannelUnsupported(error.details));
      } else this.broken(channel, `task channel to ${workerId} failed: ${errorMessage(error)}`);
    });
    call.on('end', () => this.broken(channel, `worker ${workerId} closed the task channel`));
    return channel;
  }

  private receive(channel: OpenChannel, frame: TaskChannelResponse): void {
    if (frame.admission) {
      const { taskId, attempt, reply } = frame.admission;
      const key = `${taskId}#${attempt}`;
      const waiting = channel.admissions.get(key);
      if (!waiting) {
        // Answered after we gave up on it: make sure it does not run for nobody.
        if (reply.admitted) this.cancel(channel, taskId, attempt, 'admission came too late');
        return;
      }
      channel.admissions.delete(key);
      clearTimeout(waiting.timer);
      waiting.resolve(reply);
    } else if (frame.result) {
      // A task's first result implies its admission (the worker sends no separate one then).
      const key = `${frame.result.taskId}#${frame.result.attempt}`;
      const waiting = channel.admissions.get(key);
      if (waiting) {
        channel.admissions.delete(key);
        clearTimeout(waiting.timer);
        waiting.resolve({
          admitted: true,
          reason: '',
          retryAfterMs: 0,
          workerIncarnation: frame.result.workerIncarnation,
        });
      }
      if (!this.events.onResult(frame.result, channel)) {
        this.cancel(
          channel,
          frame.result.taskId,
          frame.result.attempt,
          'no such task attempt here (stale or unknown)',
        );
      }
    }
  }

  /** Closed from the other end or by the connection: tell membership before failing its attempts. */
  private broken(channel: OpenChannel, why: string): void {
    if (channel.closed) return;
    this.events.onBroken(channel.workerId, why);
    this.close(channel, why);
  }

  private close(channel: OpenChannel, why: string, error: Error = new Error(why)): void {
    if (channel.closed) return;
    channel.closed = true;
    if (this.channels.get(channel.workerId) === channel) this.channels.delete(channel.workerId);
    for (const waiting of channel.admissions.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    channel.admissions.clear();
    channel.call.cancel();
    // An unsupported channel admitted nothing: its requests fall back to RequestTask.
    if (!(error instanceof ChannelUnsupported)) this.events.onClosed(channel, why);
  }
}
