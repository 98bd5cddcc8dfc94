// The peer task transport over real gRPC on loopback, both ways a task can travel: on the
// worker's task channel (frames of one long-lived call), and by RequestTask + SubmitResult
// (what a worker without TaskChannel, an older swarmd, gets). Either way the worker admits or
// refuses from its live capacity, results stream back, the client going away cancels the
// work on the worker, and a dead or silent worker fails the attempt.
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import type { JsonObject } from '../../../src/inference/types.js';
import type { PeerHandlers } from '../../../src/rpc/peer-server.js';
import type { TaskChannelRequest, TaskChannelResponse } from '../../../src/rpc/wire.js';
import { RemoteTasks } from '../../../src/tasks/remote.js';
import { TaskError } from '../../../src/tasks/task-error.js';
import type { BackendRunResult, RunOnBackend } from '../../../src/tasks/worker.js';
import { silentLogger } from '../../../src/util/logger.js';
import { rejected } from '../../helpers/expect-error.js';
import {
  QWEN_BACKEND as backend,
  type PeerNode,
  startPeerNode,
  startWorkerNode,
  stateOf,
} from '../../helpers/peer-node.js';
import { sleep, waitUntil } from '../../helpers/wait.js';

const nodes: PeerNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.crash()));
});

type Transport = 'task channel' | 'RequestTask';

/** A coordinator of tasks (RemoteTasks) whose static peer is `worker`. */
async function startCoordinator(
  worker: PeerNode,
  options: { leaseMs: number; suspectAfterMs?: number; deadAfterMs?: number },
) {
  let remote: RemoteTasks | undefined;
  const c = await startPeerNode({
    staticPeers: [worker.endpoint],
    ...(options.suspectAfterMs !== undefined && { suspectAfterMs: options.suspectAfterMs }),
    ...(options.deadAfterMs !== undefined && { deadAfterMs: options.deadAfterMs }),
    handlers: ({ self, membership, pool }) => {
      remote = new RemoteTasks(
        { logger: silentLogger, pool, membership, self },
        { leaseMs: options.leaseMs, requestTimeoutMs: 1000 },
      );
      return {
        submitResult: (call, callback) => remote!.handleSubmitResult(call, callback, () => undefined),
      };
    },
  });
  nodes.push(worker, c);
  return { c, remote: remote! };
}

/** A coordinator and a worker that know each other both ways. */
async function pair(transport: Transport, run: RunOnBackend, leaseMs = 2000) {
  const { node: w, worker } = await startWorkerNode(run, { taskChannel: transport === 'task channel' });
  const { c, remote } = await startCoordinator(w, { leaseMs });
  await waitUntil(
    () =>
      stateOf(c, w.id) === 'alive' &&
      stateOf(w, c.id) === 'alive' &&
      c.membership.workers().some((r) => r.id === w.id),
    'worker usable from coordinator',
    5000,
  );
  return { worker, remote, w, c };
}

/**
 * A worker that admits every task and then never reports (a frozen laptop, or an older peer
 * that does not name its incarnation), and a coordinator that knows it.
 */
async function silentWorker(
  transport: Transport,
  options: { leaseMs: number; suspectAfterMs?: number; deadAfterMs?: number },
) {
  const admitted = { admitted: true, reason: '', retryAfterMs: 0, workerIncarnation: 0 };
  const w = await startPeerNode({
    backends: [backend],
    handlers: () => ({
      requestTask: () => admitted,
      ...(transport === 'task channel' && {
        taskChannel: (call: ServerDuplex) =>
          call.on('data', (frame: TaskChannelRequest) => {
            if (frame.request) {
              const { taskId, attempt } = frame.request;
              call.write({ admission: { taskId, attempt, reply: admitted } });
            }
          }),
      }),
    }),
  });
  const { c, remote } = await startCoordinator(w, options);
  await waitUntil(() => stateOf(c, w.id) === 'alive', 'worker alive', 5000);
  return { w, c, remote };
}

type ServerDuplex = Parameters<NonNullable<PeerHandlers['taskChannel']>>[0] & {
  write(frame: TaskChannelResponse): boolean;
};

const chunk = (text: string): JsonObject => ({
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: { content: text } }],
});
const done: BackendRunResult = {
  body: null,
  usage: { promptTokens: 5, completionTokens: 3, totalTokens: 8 },
  finishReason: 'stop',
  firstTokenMs: 1,
};
const task = (attempt = 1) => ({
  id: `t-${Math.random()}`,
  attempt,
  kind: 'chat' as const,
  body: { messages: [] },
  stream: true,
});

describe.each<Transport>(['task channel', 'RequestTask'])('peer tasks over gRPC (%s)', (transport) => {
  it('streams a worker result back to the coordinator, with usage', async () => {
    const { remote, w } = await pair(transport, async (_b, _m, _r, hooks) => {
      for (const text of ['a', 'b', 'c']) hooks.onChunk?.(chunk(text));
      return done;
    });
    const got: string[] = [];
    const result = await remote.run({ nodeId: w.id, backendId: backend.id, model: 'qwen3:8b' }, task(), {
      signal: new AbortController().signal,
      onChunk: (c) => got.push(((c.choices as JsonObject[])[0]!.delta as { content: string }).content),
    });
    expect(got).toEqual(['a', 'b', 'c']);
    expect(result.usage).toEqual({ promptTokens: 5, completionTokens: 3, totalTokens: 8 });
    expect(result.finishReason).toBe('stop');
  });

  it('is refused (retryable) when the model has no free slot on the worker', async () => {
    let release: () => void = () => undefined;
    const { remote, w } = await pair(
      transport,
      (_b, _m, _r, hooks) =>
        new Promise<BackendRunResult>((resolve) => {
          release = () => resolve(done);
          hooks.signal.addEventListener('abort', () => resolve(done));
        }),
    );
    const target = { nodeId: w.id, backendId: backend.id, model: 'qwen3:8b' };
    const first = remote.run(target, task(), { signal: new AbortController().signal });
    await sleep(200);
    const second = await rejected(
      remote.run(target, task(), { signal: new AbortController().signal }),
      TaskError,
    );
    expect(second.code).toBe(ErrorCodes.TASK_REFUSED);
    expect(second.retryable).toBe(true);
    release();
    await first;
  });

  it('cancels the work on the worker when the coordinator aborts', async () => {
    let workerAborted = false;
    const { remote, w } = await pair(
      transport,
      (_b, _m, _r, hooks) =>
        new Promise<BackendRunResult>((_resolve, reject) => {
          hooks.onChunk?.(chunk('first'));
          hooks.signal.addEventListener('abort', () => {
            workerAborted = true;
            reject(new Error('aborted'));
          });
        }),
    );
    const controller = new AbortController();
    const running = remote.run({ nodeId: w.id, backendId: backend.id, model: 'qwen3:8b' }, task(), {
      signal: controller.signal,
      onChunk: () => controller.abort(),
    });
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    await waitUntil(() => workerAborted, 'the worker to stop generating', 3000);
  });

  it('fails the attempt as retryable when the worker dies before sending anything', async () => {
    const { remote, w } = await pair(transport, () => new Promise<BackendRunResult>(() => undefined), 10_000);
    const running = remote.run({ nodeId: w.id, backendId: backend.id, model: 'qwen3:8b' }, task(), {
      signal: new AbortController().signal,
    });
    await sleep(200);
    await w.crash();
    const error = await rejected(running, TaskError);
    expect(error.code).toBe(ErrorCodes.WORKER_LOST);
    expect(error.retryable).toBe(true);
  });

  it('fails the attempt as retryable when an admitted task stays silent past its lease', async () => {
    // A worker that admits and then never reports (a frozen laptop): only the lease can tell.
    const { w, c, remote } = await silentWorker(transport, { leaseMs: 700 });
    const started = Date.now();
    const error = await rejected(
      remote.run({ nodeId: w.id, backendId: backend.id, model: 'qwen3:8b' }, task(), {
        signal: new AbortController().signal,
      }),
      TaskError,
    );
    expect(error.code).toBe(ErrorCodes.WORKER_LOST);
    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    expect(stateOf(c, w.id)).toBe('alive');
  });

  it("voids a restarted worker's attempts at once, without waiting for its lease or a dead verdict", async () => {
    // The worker admits and goes quiet; then the same node id comes back as a new process.
    const { w, c, remote } = await silentWorker(transport, {
      leaseMs: 30_000,
      suspectAfterMs: 20_000,
      deadAfterMs: 30_000,
    });
    const running = rejected(
      remote.run({ nodeId: w.id, backendId: backend.id, model: 'qwen3:8b' }, task(), {
        signal: new AbortController().signal,
      }),
      TaskError,
    );
    await sleep(200);
    await w.crash();
    await sleep(20); // a later incarnation (ms clock)
    const started = Date.now();
    nodes.push(await startPeerNode({ id: w.id, backends: [backend], staticPeers: [c.endpoint] }));
    const error = await running;
    expect(error.code).toBe(ErrorCodes.WORKER_LOST);
    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(stateOf(c, w.id)).toBe('alive');
  });
});

describe('a worker whose task channel fails', () => {
  const target = (w: PeerNode) => ({ nodeId: w.id, backendId: backend.id, model: 'qwen3:8b' });
  const usable = (c: PeerNode, w: PeerNode) => c.membership.workers().some((r) => r.id === w.id);
  const viewOf = (c: PeerNode, w: PeerNode) => c.membership.views().find((v) => v.node?.id === w.id)!;

  it('gets no work the moment its channel breaks, and work again once it answers a heartbeat', async () => {
    // A worker alive and heartbeating whose task channel ends at the first task (a broken stream).
    const w = await startPeerNode({
      backends: [backend],
      handlers: () => ({ taskChannel: (call: ServerDuplex) => call.on('data', () => call.end()) }),
    });
    let remote: RemoteTasks | undefined;
    const c = await startPeerNode({
      staticPeers: [w.endpoint],
      heartbeatIntervalMs: 5000, // only the check a failed call triggers can bring it back soon
      suspectAfterMs: 20_000,
      deadAfterMs: 30_000,
      handlers: ({ self, membership, pool }) => {
        remote = new RemoteTasks(
          { logger: silentLogger, pool, membership, self },
          { leaseMs: 10_000, requestTimeoutMs: 1000 },
        );
        return {};
      },
    });
    nodes.push(w, c);
    await waitUntil(() => usable(c, w), 'worker usable', 5000);
    const error = (await remote!
      .run(target(w), task(), { signal: new AbortController().signal })
      .catch((err: TaskError) => err)) as TaskError;
    expect(error.code).toBe(ErrorCodes.WORKER_LOST);
    expect(error.retryable).toBe(true);
    // Out of every plan at once, though the failure detector still has it alive.
    expect(usable(c, w)).toBe(false);
    expect(viewOf(c, w)).toMatchObject({ state: 'alive', settling: true, outboundOk: false });
    // The heartbeat sent to check it is answered: back in, long before the next round (5 s).
    await waitUntil(() => usable(c, w), 'worker usable again', 2000);
    expect(viewOf(c, w).settling).toBe(false);
  });

  it('stays out while it does not answer: a crashed worker is not planned before it is declared dead', async () => {
    const { remote, w, c } = await pair('task channel', async () => done);
    await remote.run(target(w), task(), { signal: new AbortController().signal }); // channel open
    await w.crash();
    await waitUntil(() => !usable(c, w), 'the broken channel to take the worker out', 1000);
    expect(stateOf(c, w.id)).toBe('alive'); // the detector has not spoken yet (dead after 1.2 s)
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(usable(c, w)).toBe(false);
  });
});
