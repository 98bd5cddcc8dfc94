// The worker's end of a coordinator's task channel: each `request` frame is admitted or
// refused like a RequestTask, and an admitted task's results go back as frames of the same
// call. A refusal is answered at once. An admission is implied by the task's first result
// frame, or sent on its own after ADMISSION_AFTER_MS: a quick task then costs one frame each
// way, and the coordinator is not woken for an admission while the backend is working. A
// `cancel` frame aborts one task; the call ending (coordinator gone, connection lost) aborts
// every task it brought.
import type * as grpc from '@grpc/grpc-js';
import { errorMessage } from '../errors.js';
import type {
  RequestTaskRequest,
  RequestTaskResponse,
  TaskChannelRequest,
  TaskChannelResponse,
} from '../rpc/wire.js';
import type { HasAuthContext } from '../security/grpc-credentials.js';
import type { Logger } from '../util/logger.js';
import type { ResultSink, TaskWorker } from './worker.js';

type Call = grpc.ServerDuplexStream<TaskChannelRequest, TaskChannelResponse>;

/** An admitted task with no result frame by then sends its admission on its own. */
export const ADMISSION_AFTER_MS = 50;

/** Serve one task channel until either side ends it. */
export function serveTaskChannel(
  call: Call,
  components: {
    logger: Logger;
    worker: Pick<TaskWorker, 'handleRequestTask' | 'incarnation'>;
    /** Throws unless the call's TLS identity is `claimedId` (a current swarm member). */
    authorize: (call: HasAuthContext, claimedId: string) => void;
  },
): void {
  const { logger, worker, authorize } = components;
  const tasks = new Map<string, AbortController>();
  let open = true;
  // The TLS peer of a call never changes; reading its certificate is the costly part.
  let authContext: ReturnType<HasAuthContext['getAuthContext']> | undefined;
  const identity: HasAuthContext = {
    getAuthContext: () => {
      if (authContext === undefined) authContext = call.getAuthContext();
      return authContext;
    },
  };

  const write = (frame: TaskChannelResponse) => {
    if (open) call.write(frame);
  };

  const admit = (request: RequestTaskRequest) => {
    let reply: RequestTaskResponse;
    try {
      // Every frame is checked against the current swarm credentials: a node removed from
      // the swarm cannot go on using a channel it opened before.
      authorize(identity, request.coordinatorId);
      reply = worker.handleRequestTask(request, (key, abort) => {
        tasks.set(key, abort);
        return sinkFor(request, key, abort);
      });
    } catch (err) {
      reply = {
        admitted: false,
        reason: errorMessage(err),
        retryAfterMs: 0,
        workerIncarnation: worker.incarnation,
      };
    }
    if (!reply.admitted) write({ admission: { taskId: request.taskId, attempt: request.attempt, reply } });
  };

  const sinkFor = (request: RequestTaskRequest, key: string, abort: AbortController): ResultSink => {
    const admission: TaskChannelResponse = {
      admission: {
        taskId: request.taskId,
        attempt: request.attempt,
        reply: { admitted: true, reason: '', retryAfterMs: 0, workerIncarnation: worker.incarnation },
      },
    };
    const announce = setTimeout(() => write(admission), ADMISSION_AFTER_MS);
    return {
      send: (message) => {
        clearTimeout(announce);
        write({ result: message });
      },
      end: () => {
        clearTimeout(announce);
        if (tasks.get(key) === abort) tasks.delete(key);
      },
    };
  };

  call.on('data', (frame: TaskChannelRequest) => {
    if (frame.request) admit(frame.request);
    else if (frame.cancel) {
      const key = `${frame.cancel.taskId}#${frame.cancel.attempt}`;
      logger.debug({ task: key, reason: frame.cancel.reason }, 'coordinator cancelled a task');
      tasks.get(key)?.abort();
    }
  });
  const close = () => {
    if (!open) return;
    open = false;
    for (const abort of tasks.values()) abort.abort();
    tasks.clear();
  };
  call.on('end', () => {
    close();
    call.end();
  });
  call.on('cancelled', close);
  call.on('error', close);
  call.on('close', close);
}
