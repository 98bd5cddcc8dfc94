// An async task is one request for the usage ledger: whatever it waits for and however often it
// tries again, its end is recorded once. AsyncTasks over a real journal (SQLite) and the real
// SwarmDispatcher, whose planner and runner are small functions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import type { InferenceRequest, Target } from '../../../src/inference/types.js';
import { AsyncTasks } from '../../../src/tasks/async-tasks.js';
import { type RequestRecord, type RunAttempt, SwarmDispatcher } from '../../../src/tasks/dispatcher.js';
import { TaskJournal } from '../../../src/tasks/journal.js';
import { silentLogger } from '../../../src/util/logger.js';

const TARGET: Target = {
  nodeId: 'a'.repeat(16),
  nodeName: 'a',
  backendId: 'ollama@a',
  backendUrl: 'http://127.0.0.1:11434',
  backendKind: 'ollama',
  model: 'm',
  tier: null,
  local: true,
  cloud: false,
};

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface Ended {
  id: string;
  outcome: RequestRecord['outcome'];
  code: string | null;
}

/** AsyncTasks whose planner answers NO_CAPACITY (an async task then waits) until `open()` is called. */
function setup(run: RunAttempt, maxPending = 10) {
  const dir = mkdtempSync(join(tmpdir(), 'swarmd-async-record-'));
  const journal = TaskJournal.open(join(dir, 'tasks.sqlite'), { retentionMs: 86_400_000 });
  let capacity = false;
  let plans = 0;
  const ended: Ended[] = [];
  const record = (entry: Pick<RequestRecord, 'request' | 'outcome' | 'error'>) =>
    ended.push({
      id: entry.request.id,
      outcome: entry.outcome,
      code: entry.error instanceof SwarmError ? entry.error.code : null,
    });
  const dispatcher = new SwarmDispatcher(
    {
      logger: silentLogger,
      plan: () => {
        plans++;
        if (!capacity) throw new SwarmError(ErrorCodes.NO_CAPACITY, 'nowhere yet');
        return [TARGET];
      },
      run,
      record,
    },
    { maxAttempts: 3, queueSize: 4, queueTimeoutMs: 1000 },
  );
  const tasks = new AsyncTasks(
    {
      logger: silentLogger,
      journal,
      dispatcher,
      describeError: (err) => ({
        status: 500,
        message: String(err),
        type: 'server_error',
        code: null,
        swarmCode: (err as SwarmError).code ?? ErrorCodes.INTERNAL,
      }),
      recordEnd: (request, end) =>
        record({ request, outcome: end.cancelled ? 'cancelled' : 'error', error: end.error }),
    },
    { concurrency: 2, maxPending, deadlineMs: 60_000 },
  );
  tasks.start();
  cleanups.push(() => {
    tasks.stop();
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    tasks,
    ended,
    plans: () => plans,
    open: () => {
      capacity = true;
    },
  };
}

const request = (id: string): InferenceRequest => ({
  id,
  kind: 'chat',
  body: { model: 'm', messages: [{ role: 'user', content: id }] },
  stream: false,
  privacy: 'lan',
  client: 'local',
  action: null,
});

const served: RunAttempt = async () => ({
  body: { choices: [{ message: { content: 'done' } }] },
  usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
  finishReason: 'stop',
  firstTokenMs: 1,
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('async tasks in the usage ledger', () => {
  it('a task that waited and tried again is one row, when it is served', async () => {
    const { tasks, ended, plans, open } = setup(served);
    tasks.submit(request('t1'), null);
    await until(() => plans() >= 2, 'a second try');
    expect(ended).toEqual([]);
    open();
    await until(() => tasks.get('t1', null)?.status === 'completed', 'the task to complete');
    expect(ended).toEqual([{ id: 't1', outcome: 'ok', code: null }]);
  });

  it('a task cancelled while it waits is one cancelled row', async () => {
    const { tasks, ended, plans } = setup(served);
    tasks.submit(request('t2'), null);
    // The first try fails at once (no capacity): the task then waits a second for the next.
    await until(() => plans() >= 1, 'a first try');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(tasks.cancel('t2', null)?.status).toBe('cancelled');
    expect(ended).toEqual([{ id: 't2', outcome: 'cancelled', code: null }]);
  });

  it('a task cancelled while it runs is one cancelled row, recorded by its dispatch', async () => {
    const { tasks, ended, open } = setup(
      (_target, _request, _attempt, { signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    open();
    tasks.submit(request('t3'), null);
    await until(() => tasks.get('t3', null)?.status === 'running', 'the task to run');
    tasks.cancel('t3', null);
    await until(() => ended.length > 0, 'the row');
    expect(ended).toEqual([{ id: 't3', outcome: 'cancelled', code: null }]);
  });

  it('a task refused at submit (too many open) is one error row with its code', () => {
    const { tasks, ended } = setup(served, 1);
    tasks.submit(request('t4'), null);
    expect(() => tasks.submit(request('t5'), null)).toThrow(SwarmError);
    expect(ended).toEqual([{ id: 't5', outcome: 'error', code: ErrorCodes.QUEUE_FULL }]);
  });

  it('a task left running when swarmd stops is no row: the next start resumes it', async () => {
    const { tasks, ended, open } = setup(
      (_target, _request, _attempt, { signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    open();
    tasks.submit(request('t6'), null);
    await until(() => tasks.get('t6', null)?.status === 'running', 'the task to run');
    tasks.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ended).toEqual([]);
  });
});
