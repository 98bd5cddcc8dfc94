import { describe, expect, it } from 'vitest';
import { CapacityPendingError, ErrorCodes, SwarmError } from '../../../src/errors.js';
import type { InferenceRequest, JsonObject, ServedBy, Target } from '../../../src/inference/types.js';
import { type RequestRecord, type RunAttempt, SwarmDispatcher } from '../../../src/tasks/dispatcher.js';
import { TaskError } from '../../../src/tasks/task-error.js';
import type { BackendRunResult } from '../../../src/tasks/worker.js';
import { silentLogger } from '../../../src/util/logger.js';
import { rejected } from '../../helpers/expect-error.js';
import { sleep } from '../../helpers/wait.js';

const target = (name: string): Target => ({
  nodeId: name.padEnd(16, '0'),
  nodeName: name,
  backendId: `ollama@${name}`,
  backendUrl: 'http://127.0.0.1:11434',
  backendKind: 'ollama',
  model: 'm',
  tier: 'fast',
  local: false,
  cloud: false,
});

const request = (stream = false): InferenceRequest => ({
  id: 'req_1',
  kind: 'chat',
  body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
  stream,
  privacy: 'lan',
  client: 'local',
  action: null,
});

const ok = (content = 'hello'): BackendRunResult => ({
  body: { choices: [{ message: { content } }] },
  usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
  finishReason: 'stop',
  firstTokenMs: 5,
});

const retryable = () => new TaskError(ErrorCodes.BACKEND_UNREACHABLE, 'refused', { retryable: true });
const lost = () => new TaskError(ErrorCodes.WORKER_LOST, 'gone', { retryable: true, targetAtFault: false });
const busy = () => new TaskError(ErrorCodes.TASK_REFUSED, 'busy', { retryable: true, retryAfterMs: 100 });
const hooks = () => ({ signal: new AbortController().signal });

function dispatcher(
  run: RunAttempt,
  targets = [target('a'), target('b'), target('c')],
  extra: Partial<ConstructorParameters<typeof SwarmDispatcher>[0]> = {},
  init = {},
) {
  const records: RequestRecord[] = [];
  const failures: string[] = [];
  const d = new SwarmDispatcher(
    {
      logger: silentLogger,
      plan: () => targets,
      run,
      record: (entry) => records.push(entry),
      cooldown: { failure: (t) => failures.push(t.nodeName), success: () => undefined },
      ...extra,
    },
    { maxAttempts: 3, queueSize: 2, queueTimeoutMs: 500, ...init },
  );
  return { d, records, failures };
}

describe('SwarmDispatcher', () => {
  it('falls through to the next target on a retryable failure and reports the attempts', async () => {
    const { d, failures, records } = dispatcher(async (t) => {
      if (t.nodeName === 'a') throw retryable();
      return ok();
    });
    const outcome = await d.dispatch(request(), hooks());
    expect(outcome.servedBy).toMatchObject({ attempts: 2, target: { nodeName: 'b' } });
    expect(failures).toEqual(['a']);
    expect(records).toMatchObject([{ outcome: 'ok', attempts: 2, target: { nodeName: 'b' }, error: null }]);
  });

  it('waits for a busy target when the other one failed, instead of failing the request', async () => {
    let bCalls = 0;
    const { d } = dispatcher(
      async (t) => {
        if (t.nodeName === 'a') throw retryable();
        if (++bCalls === 1) throw busy();
        return ok();
      },
      [target('a'), target('b')],
      {},
      { maxAttempts: 3 },
    );
    const outcome = await d.dispatch(request(), hooks());
    expect(outcome.servedBy.target.nodeName).toBe('b');
    expect(bCalls).toBe(2);
  });

  it('does not cool down a target whose node died, restarted or handed the work back', async () => {
    const { d, failures } = dispatcher(async (t) => {
      if (t.nodeName === 'a')
        throw new TaskError(ErrorCodes.WORKER_LOST, 'worker a restarted', {
          retryable: true,
          targetAtFault: false,
        });
      return ok();
    });
    const outcome = await d.dispatch(request(), hooks());
    expect(outcome.servedBy).toMatchObject({ attempts: 2, target: { nodeName: 'b' } });
    expect(failures).toEqual([]);
  });

  it('tells onAttempt where each attempt goes before it runs, fallbacks included', async () => {
    const seen: string[] = [];
    const { d } = dispatcher(async (t) => {
      seen.push(`run ${t.nodeName}`);
      if (t.nodeName === 'a') throw retryable();
      return ok();
    });
    await d.dispatch(request(), { ...hooks(), onAttempt: (t) => seen.push(`attempt ${t.nodeName}`) });
    expect(seen).toEqual(['attempt a', 'run a', 'attempt b', 'run b']);
  });

  it('stops at maxAttempts and surfaces the last error', async () => {
    const tried: string[] = [];
    const { d } = dispatcher(
      async (t) => {
        tried.push(t.nodeName);
        throw retryable();
      },
      [target('a'), target('b'), target('c'), target('d')],
    );
    await expect(d.dispatch(request(), hooks())).rejects.toMatchObject({
      code: ErrorCodes.BACKEND_UNREACHABLE,
    });
    expect(tried).toEqual(['a', 'b', 'c']);
  });

  it('moves a request whose worker was lost to another node, at no cost to its attempts', async () => {
    // maxAttempts 1: the loss of `a` costs nothing, `b` serves with the header saying 2 tries.
    let aLost = false;
    const { d } = dispatcher(
      async (t) => {
        if (t.nodeName === 'a') {
          aLost = true;
          throw lost();
        }
        return ok();
      },
      undefined,
      { plan: () => (aLost ? [target('b')] : [target('a'), target('b')]) },
      { maxAttempts: 1 },
    );
    const outcome = await d.dispatch(request(), hooks());
    expect(outcome.servedBy).toMatchObject({ attempts: 2, target: { nodeName: 'b' } });
  });

  it('plans again after a loss, so the next try goes where the plan now says', async () => {
    // The plan's second answer (the lost node left out) is used, not the rest of the first list.
    const tried: string[] = [];
    let plans = 0;
    const { d } = dispatcher(
      async (t) => {
        tried.push(t.nodeName);
        if (t.nodeName === 'a' || t.nodeName === 'b') throw lost();
        return ok();
      },
      undefined,
      {
        plan: () => (++plans === 1 ? [target('a'), target('b')] : [target('c')]),
      },
    );
    const outcome = await d.dispatch(request(), hooks());
    expect(outcome.servedBy.target.nodeName).toBe('c');
    expect(tried).toEqual(['a', 'b', 'c']);
  });

  it('counts a second loss on the same node, so a node that keeps losing work stops being tried', async () => {
    const tried: string[] = [];
    const { d } = dispatcher(
      async (t) => {
        tried.push(t.nodeName);
        throw lost();
      },
      [target('a')],
    );
    await expect(d.dispatch(request(), hooks())).rejects.toMatchObject({ code: ErrorCodes.WORKER_LOST });
    // The first loss is free, then maxAttempts (3) counted ones.
    expect(tried).toEqual(['a', 'a', 'a', 'a']);
  });

  it('waits while the only place that could serve is coming back, and runs once it is', async () => {
    let back = false;
    let plans = 0;
    const { d } = dispatcher(async () => ok(), undefined, {
      plan: () => {
        plans++;
        if (!back) throw new CapacityPendingError('no place can serve m now: m on a: joining');
        return [target('a')];
      },
    });
    const pending = d.dispatch(request(), hooks());
    setTimeout(() => {
      back = true;
      d.wake();
    }, 100);
    const outcome = await pending;
    expect(outcome.servedBy).toMatchObject({ attempts: 1, target: { nodeName: 'a' } });
    expect(plans).toBeGreaterThan(1);
  });

  it('stops waiting for a node coming back after queueTimeout, with the reason (NO_CAPACITY)', async () => {
    const { d } = dispatcher(async () => ok(), undefined, {
      plan: () => {
        throw new CapacityPendingError('no place can serve m now: m on a: joining');
      },
    });
    const started = Date.now();
    const err = (await d.dispatch(request(), hooks()).catch((e: unknown) => e)) as SwarmError;
    expect(err.code).toBe(ErrorCodes.NO_CAPACITY);
    expect(err.message).toContain('m on a: joining');
    expect(err.message).toContain('routing.queueTimeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('fails at once when no place can serve and none is coming back (left, paused)', async () => {
    const { d } = dispatcher(async () => ok(), undefined, {
      plan: () => {
        throw new SwarmError(ErrorCodes.NO_CAPACITY, 'no place can serve m now: m on a: left the swarm');
      },
    });
    const started = Date.now();
    await expect(d.dispatch(request(), hooks())).rejects.toMatchObject({ code: ErrorCodes.NO_CAPACITY });
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('after losing its only worker, a request waits for it to come back instead of failing', async () => {
    let phase: 'up' | 'restarting' | 'back' = 'up';
    const tried: string[] = [];
    const { d } = dispatcher(
      async (t) => {
        tried.push(`${t.nodeName}:${phase}`);
        if (phase === 'up') {
          phase = 'restarting';
          throw lost();
        }
        return ok();
      },
      undefined,
      {
        plan: () => {
          if (phase === 'restarting') throw new CapacityPendingError('m on a: joining');
          return [target('a')];
        },
      },
      { queueTimeoutMs: 2000 },
    );
    const pending = d.dispatch(request(), hooks());
    setTimeout(() => {
      phase = 'back';
      d.wake();
    }, 100);
    const outcome = await pending;
    expect(outcome.servedBy.attempts).toBe(2);
    expect(tried).toEqual(['a:up', 'a:back']);
  });

  it('does not retry a non-retryable error (a bad request is bad everywhere)', async () => {
    const tried: string[] = [];
    const { d } = dispatcher(async (t) => {
      tried.push(t.nodeName);
      throw new TaskError(ErrorCodes.BACKEND_BAD_RESPONSE, 'bad', { retryable: false });
    });
    await expect(d.dispatch(request(), hooks())).rejects.toMatchObject({
      code: ErrorCodes.BACKEND_BAD_RESPONSE,
    });
    expect(tried).toEqual(['a']);
  });

  it('never retries a stream after its first chunk reached the client', async () => {
    const tried: string[] = [];
    const chunks: JsonObject[] = [];
    const { d } = dispatcher(async (t, _r, _a, h) => {
      tried.push(t.nodeName);
      h.onChunk?.({ choices: [{ delta: { content: 'x' } }] });
      throw lost();
    });
    await expect(
      d.dispatch(request(true), { ...hooks(), onChunk: (c) => chunks.push(c) }),
    ).rejects.toMatchObject({
      code: ErrorCodes.WORKER_LOST,
    });
    expect(tried).toEqual(['a']);
    expect(chunks).toHaveLength(1);
  });

  it('escalates past a reply the quality gate rejects, and records the request once', async () => {
    const { d, records } = dispatcher(async (t) => ok(t.nodeName === 'a' ? '' : 'fine'), undefined, {
      quality: (_req, result) =>
        (result.body!.choices as { message: { content: string } }[])[0]!.message.content === ''
          ? { ok: false, reason: 'empty' }
          : { ok: true },
    });
    const outcome = await d.dispatch(request(), hooks());
    expect(outcome.servedBy.target.nodeName).toBe('b');
    expect(records).toMatchObject([{ outcome: 'ok', attempts: 2, target: { nodeName: 'b' } }]);
  });

  it('returns the first reply, marked, when the gate turns down every candidate’s reply', async () => {
    const { d } = dispatcher(async (t) => ok(`from ${t.nodeName}`), undefined, {
      quality: () => ({ ok: false, reason: 'truncated' }),
    });
    const started: ServedBy[] = [];
    const outcome = await d.dispatch(request(), { ...hooks(), onStart: (s) => started.push(s) });
    expect(outcome.body).toEqual(ok('from a').body);
    expect(outcome.servedBy).toMatchObject({
      target: { nodeName: 'a' },
      attempts: 3,
      notices: { 'x-swarm-quality': 'failed; truncated' },
    });
    expect(started).toEqual([outcome.servedBy]);
  });

  it('returns the rejected reply rather than the error of a later candidate', async () => {
    const { d } = dispatcher(
      async (t) => {
        if (t.nodeName === 'a') return ok('');
        throw new TaskError(ErrorCodes.BACKEND_ERROR, 'broken', { retryable: t.nodeName === 'b' });
      },
      undefined,
      { quality: (_r, result) => (result.body === null ? { ok: true } : { ok: false, reason: 'empty' }) },
    );
    const outcome = await d.dispatch(request(), hooks());
    expect(outcome.body).toEqual(ok('').body);
    expect(outcome.servedBy.notices).toEqual({ 'x-swarm-quality': 'failed; empty' });
  });

  it('queues when every slot is busy and runs once one frees', async () => {
    let free = false;
    const { d } = dispatcher(
      async () => {
        if (!free) throw busy();
        return ok();
      },
      undefined,
      {},
      { queueTimeoutMs: 2000 },
    );
    const pending = d.dispatch(request(), hooks());
    setTimeout(() => {
      free = true;
      d.wake();
    }, 100);
    const outcome = await pending;
    expect(outcome.servedBy.attempts).toBe(1);
  });

  it('waits for the requested model instead of switching to a fallback tier when it is only busy', async () => {
    let free = false;
    const tried: string[] = [];
    const fallback = { ...target('z'), model: 'other', tier: 'deep' as const };
    const { d } = dispatcher(
      async (t) => {
        tried.push(`${t.nodeName}:${t.model}`);
        if (!free && t.model === 'm') throw busy();
        return ok();
      },
      [{ ...target('a'), tier: null }, { ...target('b'), tier: null }, fallback],
      {},
      { queueTimeoutMs: 2000 },
    );
    const pending = d.dispatch(request(), hooks());
    setTimeout(() => {
      free = true;
      d.wake();
    }, 100);
    const outcome = await pending;
    expect(outcome.servedBy.target.model).toBe('m');
    expect(tried).not.toContain('z:other');
  });

  it('still falls back to another tier when the requested model fails outright', async () => {
    const fallback = { ...target('z'), model: 'other', tier: 'deep' as const };
    const { d } = dispatcher(
      async (t) => {
        if (t.model === 'm') throw retryable();
        return ok();
      },
      [{ ...target('a'), tier: null }, fallback],
    );
    const outcome = await d.dispatch(request(), hooks());
    expect(outcome.servedBy.target.model).toBe('other');
  });

  it('answers QUEUE_FULL when the queue is full or the wait runs out', async () => {
    const { d } = dispatcher(
      async () => {
        throw busy();
      },
      undefined,
      {},
      { queueSize: 1, queueTimeoutMs: 300 },
    );
    const first = rejected(d.dispatch(request(), hooks()), TaskError);
    await sleep(20);
    const second = await rejected(d.dispatch(request(), hooks()), TaskError);
    expect(second.code).toBe(ErrorCodes.QUEUE_FULL);
    expect(second.retryAfterMs).toBeGreaterThan(0);
    expect((await first).code).toBe(ErrorCodes.QUEUE_FULL);
  });

  describe('records each request once, when its dispatch settles', () => {
    const quality = {
      quality: () => ({ ok: false as const, reason: 'empty' }),
    };

    it('every target failed: one error row naming the last target and the attempts', async () => {
      const { d, records } = dispatcher(async () => {
        throw retryable();
      });
      await expect(d.dispatch(request(), hooks())).rejects.toMatchObject({
        code: ErrorCodes.BACKEND_UNREACHABLE,
      });
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        outcome: 'error',
        attempts: 3,
        target: { nodeName: 'c' },
        served: null,
      });
      expect((records[0]!.error as TaskError).code).toBe(ErrorCodes.BACKEND_UNREACHABLE);
    });

    it('every reply turned down by the quality gate: one row, served by the first, not one per reply', async () => {
      const { d, records } = dispatcher(async () => ok(''), undefined, quality);
      await d.dispatch(request(), hooks());
      expect(records).toMatchObject([{ outcome: 'ok', attempts: 3, target: { nodeName: 'a' } }]);
    });

    it('the planner refused (unknown model, privacy, budget): one error row with no target', async () => {
      const { d, records } = dispatcher(async () => ok(), undefined, {
        plan: () => {
          throw new TaskError(ErrorCodes.MODEL_NOT_FOUND, 'no such model', { retryable: false });
        },
      });
      await expect(d.dispatch(request(), hooks())).rejects.toMatchObject({
        code: ErrorCodes.MODEL_NOT_FOUND,
      });
      expect(records).toMatchObject([{ outcome: 'error', attempts: 0, target: null }]);
    });

    it('queue full: one error row, no target (a busy one took no attempt)', async () => {
      const { d, records } = dispatcher(
        async () => {
          throw busy();
        },
        undefined,
        {},
        { queueSize: 0 },
      );
      await expect(d.dispatch(request(), hooks())).rejects.toMatchObject({ code: ErrorCodes.QUEUE_FULL });
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ outcome: 'error', attempts: 0, target: null });
      expect((records[0]!.error as TaskError).code).toBe(ErrorCodes.QUEUE_FULL);
    });

    it('the caller aborted: one cancelled row naming the target that was running it', async () => {
      const controller = new AbortController();
      const { d, records } = dispatcher(
        (_t, _r, _n, { signal, onChunk }) =>
          new Promise((_resolve, reject) => {
            onChunk?.({ choices: [] });
            signal.addEventListener('abort', () => reject(new Error('aborted')));
          }),
      );
      const running = d.dispatch(request(true), { signal: controller.signal, onChunk: () => undefined });
      controller.abort();
      await expect(running).rejects.toThrow('aborted');
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ outcome: 'cancelled', attempts: 1, target: { nodeName: 'a' } });
      expect(records[0]!.firstTokenMs).not.toBeNull();
    });

    it('records nothing for an end the caller will dispatch again, and asks once', async () => {
      const { d, records } = dispatcher(async () => {
        throw retryable();
      });
      const asked: unknown[] = [];
      const willRetry = (err: unknown) => asked.push(err) > 0;
      await expect(d.dispatch(request(), { ...hooks(), willRetry })).rejects.toBeInstanceOf(TaskError);
      expect(asked).toHaveLength(1);
      expect(records).toEqual([]);
    });
  });
});
