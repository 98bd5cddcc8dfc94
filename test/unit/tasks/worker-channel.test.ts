// The worker's end of a task channel, with a fake call and a fake worker: who may send tasks
// on it, when the admission is sent, and what stops a task.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type {
  RequestTaskRequest,
  RequestTaskResponse,
  TaskChannelRequest,
  TaskChannelResponse,
} from '../../../src/rpc/wire.js';
import type { ResultSink, SinkFactory } from '../../../src/tasks/worker.js';
import { ADMISSION_AFTER_MS, serveTaskChannel } from '../../../src/tasks/worker-channel.js';
import { silentLogger } from '../../../src/util/logger.js';

const request = (taskId: string, coordinatorId = 'coord'): RequestTaskRequest => ({
  taskId,
  attempt: 1,
  coordinatorId,
  kind: 'chat',
  body: Buffer.from('{}'),
  stream: false,
  backendId: 'b',
  model: 'm',
  leaseMs: 30_000,
  coordinatorIncarnation: 1,
});

function setup() {
  const call = new EventEmitter() as EventEmitter & {
    written: TaskChannelResponse[];
    write(frame: TaskChannelResponse): boolean;
    end(): void;
    getAuthContext(): null;
  };
  call.written = [];
  call.write = (frame) => call.written.push(frame) > 0;
  call.end = () => undefined;
  call.getAuthContext = () => null;
  const running = new Map<string, { sink: ResultSink; abort: AbortController }>();
  const worker = {
    incarnation: 7,
    handleRequestTask(req: RequestTaskRequest, sink?: SinkFactory): RequestTaskResponse {
      const abort = new AbortController();
      const key = `${req.taskId}#${req.attempt}`;
      running.set(key, { sink: sink!(key, abort), abort });
      return { admitted: true, reason: '', retryAfterMs: 0, workerIncarnation: 7 };
    },
  };
  serveTaskChannel(call as never, {
    logger: silentLogger,
    worker,
    authorize: (_call, claimedId) => {
      if (claimedId !== 'coord')
        throw new Error(`caller claims node ${claimedId} but its certificate names node coord`);
    },
  });
  const send = (frame: TaskChannelRequest) => call.emit('data', frame);
  const result = (taskId: string) => ({
    taskId,
    attempt: 1,
    workerId: 'w',
    workerIncarnation: 7,
    started: true,
  });
  return { call, running, send, result };
}

describe('serveTaskChannel', () => {
  it('refuses a task that names another coordinator than the caller, and runs nothing', () => {
    const { call, running, send } = setup();
    send({ request: request('t1', 'someone-else') });
    expect(running.size).toBe(0);
    expect(call.written).toHaveLength(1);
    expect(call.written[0]!.admission!.reply.admitted).toBe(false);
    expect(call.written[0]!.admission!.reply.reason).toContain('claims node someone-else');
  });

  it('lets a quick task’s first result stand for its admission', () => {
    const { call, running, send, result } = setup();
    send({ request: request('t1') });
    expect(call.written).toHaveLength(0);
    running.get('t1#1')!.sink.send(result('t1'));
    expect(call.written.map((frame) => Object.keys(frame)[0])).toEqual(['result']);
  });

  it('sends the admission on its own when no result comes within ADMISSION_AFTER_MS', async () => {
    const { call, send } = setup();
    send({ request: request('t1') });
    await new Promise((resolve) => setTimeout(resolve, ADMISSION_AFTER_MS + 30));
    expect(call.written).toHaveLength(1);
    expect(call.written[0]!.admission).toMatchObject({
      taskId: 't1',
      reply: { admitted: true, workerIncarnation: 7 },
    });
  });

  it('aborts one task on its cancel frame, and every task when the call ends', () => {
    const { call, running, send } = setup();
    send({ request: request('t1') });
    send({ request: request('t2') });
    send({ request: request('t3') });
    send({ cancel: { taskId: 't1', attempt: 1, reason: 'client went away' } });
    expect(running.get('t1#1')!.abort.signal.aborted).toBe(true);
    expect(running.get('t2#1')!.abort.signal.aborted).toBe(false);
    call.emit('end');
    expect(running.get('t2#1')!.abort.signal.aborted).toBe(true);
    expect(running.get('t3#1')!.abort.signal.aborted).toBe(true);
  });
});
