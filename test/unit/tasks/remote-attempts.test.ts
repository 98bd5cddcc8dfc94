// What a coordinator knows of its attempts on a peer. A worker that restarts voids only what
// its previous process took: an attempt the new process
// admitted (its RequestTask answer names the new incarnation) carries on, one the old process
// admitted fails at once as WORKER_LOST. The same holds whether the task went on the worker's
// task channel or by RequestTask (an older worker, which answers TaskChannel UNIMPLEMENTED).
// Membership and the peer client are small fakes here; the transport itself is covered by
// test/integration/tasks/remote-task.test.ts.
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import type { Membership, MembershipEvent } from '../../../src/membership/membership.js';
import type { SelfNode } from '../../../src/membership/self-node.js';
import type { PeerClientPool } from '../../../src/rpc/peer-client.js';
import type { RequestTaskResponse, TaskChannelRequest } from '../../../src/rpc/wire.js';
import { RemoteTasks } from '../../../src/tasks/remote.js';
import type { TaskError } from '../../../src/tasks/task-error.js';
import { silentLogger } from '../../../src/util/logger.js';
import { sleep } from '../../helpers/wait.js';

type Transport = 'task channel' | 'RequestTask';

/** A TaskChannel call: requests are answered by `answer`, or UNIMPLEMENTED for an older worker. */
function fakeChannel(
  transport: Transport,
  onRequest: (answer: (reply: RequestTaskResponse) => void) => void,
) {
  const call = new EventEmitter() as EventEmitter & {
    write(frame: TaskChannelRequest): void;
    cancel(): void;
  };
  call.write = (frame) => {
    if (transport === 'RequestTask') {
      setImmediate(() =>
        call.emit(
          'error',
          Object.assign(new Error('unimplemented'), { code: grpc.status.UNIMPLEMENTED, details: 'no' }),
        ),
      );
    } else if (frame.request) {
      const { taskId, attempt } = frame.request;
      onRequest((reply) => call.emit('data', { admission: { taskId, attempt, reply } }));
    }
  };
  call.cancel = () => undefined;
  return call;
}

function setup(transport: Transport) {
  const listeners: Array<(event: MembershipEvent) => void> = [];
  const peer = { address: '127.0.0.1:1', live: { incarnation: 100 } };
  let answer: (reply: RequestTaskResponse) => void = () => undefined;
  const membership = {
    onChange: (listener: (event: MembershipEvent) => void) => listeners.push(listener),
    peer: () => peer,
  } as unknown as Membership;
  const pool = {
    requestTask: () => new Promise<RequestTaskResponse>((resolve) => (answer = resolve)),
    taskChannel: () => fakeChannel(transport, (respond) => (answer = respond)),
  } as unknown as PeerClientPool;
  const self = { id: 'coordinator', incarnation: 1 } as SelfNode;
  const remote = new RemoteTasks(
    { logger: silentLogger, pool, membership, self },
    { leaseMs: 30_000, requestTimeoutMs: 1000 },
  );
  let slotsFreed = 0;
  remote.onSlotFreed(() => slotsFreed++);
  const restart = (incarnation: number) => {
    peer.live.incarnation = incarnation;
    for (const listener of listeners)
      listener({ id: 'w', name: 'w', from: 'alive', to: 'alive', restarted: true });
  };
  const controller = new AbortController();
  const outcome = remote
    .run(
      { nodeId: 'w', backendId: 'b', model: 'm' },
      { id: 't', attempt: 1, kind: 'chat', body: {}, stream: false },
      { signal: controller.signal },
    )
    .then(
      () => 'done',
      (err: TaskError) => err.code ?? err.name,
    );
  return {
    remote,
    restart,
    answer: (reply: RequestTaskResponse) => answer(reply),
    controller,
    outcome,
    slotsFreed: () => slotsFreed,
  };
}

const settledSoon = (outcome: Promise<string>) =>
  Promise.race([outcome, new Promise<string>((resolve) => setTimeout(() => resolve('pending'), 100))]);

describe.each<Transport>(['task channel', 'RequestTask'])(
  'RemoteTasks and a worker restart (%s)',
  (transport) => {
    it('keeps an attempt the new process admitted', async () => {
      const { restart, answer, controller, outcome } = setup(transport);
      await sleep(10); // the request is out
      restart(200); // heard before the worker's answer came back
      answer({ admitted: true, reason: '', retryAfterMs: 0, workerIncarnation: 200 });
      expect(await settledSoon(outcome)).toBe('pending');
      controller.abort();
      expect(await outcome).toBe('AbortError');
    });

    it('fails at once an attempt the previous process admitted', async () => {
      const { restart, answer, outcome } = setup(transport);
      await sleep(10);
      restart(200);
      answer({ admitted: true, reason: '', retryAfterMs: 0, workerIncarnation: 100 });
      expect(await settledSoon(outcome)).toBe(ErrorCodes.WORKER_LOST);
    });

    it('fails at once an admitted attempt when its process is replaced later', async () => {
      const { restart, answer, outcome } = setup(transport);
      await sleep(10);
      answer({ admitted: true, reason: '', retryAfterMs: 0, workerIncarnation: 100 });
      await sleep(10);
      expect(await settledSoon(outcome)).toBe('pending');
      restart(200);
      expect(await settledSoon(outcome)).toBe(ErrorCodes.WORKER_LOST);
    });
  },
);

describe.each<Transport>(['task channel', 'RequestTask'])(
  'RemoteTasks and the slots it holds (%s)',
  (transport) => {
    const admitted = { admitted: true, reason: '', retryAfterMs: 0, workerIncarnation: 100 };

    it('counts its attempt on the place while it runs, and says a slot is free once it ends', async () => {
      const { remote, answer, controller, outcome, slotsFreed } = setup(transport);
      expect(remote.outstandingOn('w', 'b', 'm')).toBe(1);
      await sleep(10);
      answer(admitted);
      await sleep(10);
      expect(slotsFreed()).toBe(0);
      controller.abort();
      expect(await outcome).toBe('AbortError');
      expect(remote.outstandingOn('w', 'b', 'm')).toBe(0);
      expect(slotsFreed()).toBe(1);
    });

    it('says nothing when the worker refused: no slot was taken, so waiters must not spin', async () => {
      const { remote, answer, outcome, slotsFreed } = setup(transport);
      await sleep(10);
      answer({ admitted: false, reason: 'busy', retryAfterMs: 250, workerIncarnation: 100 });
      expect(await outcome).toBe(ErrorCodes.TASK_REFUSED);
      expect(remote.outstandingOn('w', 'b', 'm')).toBe(0);
      expect(slotsFreed()).toBe(0);
    });
  },
);
