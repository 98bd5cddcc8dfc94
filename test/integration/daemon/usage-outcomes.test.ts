// Every request that reaches a real swarmd's dispatcher ends in exactly one usage-ledger row,
// however it ended: served, every target failed, every reply turned down by the quality gate
// (served, marked),
// unknown model, no place allowed by privacy or by the cloud budget, queue timed out, client
// gone, and the same for async tasks (served, failed, cancelled while waiting to try again).
// Read back as a user does: `swarmctl usage --json`, `--by error` and `--jsonl`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import { initSwarm } from '../../../src/security/store.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { startInBox } from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { killAllSwarmd } from '../../helpers/swarmd.js';
import { sleep, waitUntil } from '../../helpers/wait.js';

let box: Sandbox;
let url = '';
const fakes: Array<{ stop(): Promise<void> }> = [];

/** A fake Ollama serving `model`, scripted with `script`. */
async function ollama(model: string, script: Parameters<FakeOllama['behave']>[0]) {
  const fake = new FakeOllama({ models: [{ name: model }], loaded: [{ name: model }] });
  fake.behave(script);
  fakes.push(fake);
  return { fake, url: (await fake.start()).url };
}

let slow: FakeOllama;

beforeAll(async () => {
  box = await createSandbox();
  await initSwarm(box.dataDir, await loadOrCreateNodeId(box.dataDir));
  const ok = await ollama('ok:1b', { reply: 'fine' });
  const broken = await ollama('broken:1b', { failWith: 'server-error' });
  const emptyA = await ollama('empty:1b', { reply: '' });
  const emptyB = await ollama('empty:1b', { reply: '' });
  const slowOne = await ollama('slow:1b', { hang: true });
  slow = slowOne.fake;
  const cloud = new FakeOpenAi({ models: [{ id: 'cloud-model' }] });
  fakes.push(cloud);
  const cloudUrl = (await cloud.start()).url;
  const config = await writeConfig(box, {
    version: 1,
    backends: {
      servers: [
        { url: ok.url, kind: 'ollama' },
        { url: broken.url, kind: 'ollama' },
        { url: emptyA.url, kind: 'ollama' },
        { url: emptyB.url, kind: 'ollama' },
        { url: slowOne.url, kind: 'ollama', maxConcurrency: 1 },
      ],
    },
    // No fallback tiers: each request's end depends on its own model only.
    // `gated` is swarmd's choice among empty:1b's backends, so the quality gate judges it.
    routing: { fallback: [], queueTimeout: '1s', aliases: { gated: { models: ['empty:1b'] } } },
    cloud: { providers: [{ name: 'fakecloud', baseUrl: `${cloudUrl}/v1`, models: ['cloud-model'] }] },
    usage: { budgets: { daily: { stopUsd: 0 } } },
  });
  const daemon = await startInBox(box, ['--config', config]);
  url = daemon.gatewayUrl();
  await waitUntil(async () => {
    const out = await box.swarmctl(['models', '--json']);
    return ['ok:1b', 'broken:1b', 'empty:1b', 'slow:1b'].every((model) => out.stdout.includes(model));
  }, 'every backend to list its model');
}, 60_000);

afterAll(async () => {
  await killAllSwarmd();
  for (const fake of fakes) await fake.stop();
  await box?.remove();
});

interface Sent {
  id: string;
  status: number;
}

/** One chat request through the gateway: its request id and status. */
async function chat(
  model: string,
  opts: { headers?: Record<string, string>; stream?: boolean; signal?: AbortSignal } = {},
): Promise<Sent & { response: Response }> {
  const response = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: JSON.stringify({
      model,
      stream: opts.stream ?? false,
      messages: [{ role: 'user', content: 'hi' }],
    }),
    ...(opts.signal && { signal: opts.signal }),
  });
  return { id: response.headers.get('x-request-id') ?? '', status: response.status, response };
}

interface Row {
  requestId: string;
  outcome: string;
  errorCode: string | null;
  attempts: number;
  model: string;
  backend: string;
}

async function rows(): Promise<Row[]> {
  const out = await box.swarmctl(['usage', '--jsonl']);
  expect(out.code).toBe(0);
  return out.stdout
    .trimEnd()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Row);
}

/** The ledger rows of one request (the ledger writes within a few ms of its end). */
async function rowsOf(id: string, settleMs = 100): Promise<Row[]> {
  await sleep(settleMs);
  return (await rows()).filter((row) => row.requestId === id);
}

/** Async task helpers: submit with Prefer: respond-async, read its status. */
async function submitAsync(model: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'respond-async', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'later' }] }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function taskStatus(id: string): Promise<string> {
  return ((await (await fetch(`${url}/tasks/${id}`)).json()) as { status: string }).status;
}

const expected = new Map<string, { outcome: string; errorCode: string | null; attempts?: number }>();

describe('one usage row per request, whatever ended it', () => {
  it('served: one ok row', async () => {
    const sent = await chat('ok:1b');
    expect(sent.status).toBe(200);
    expected.set(sent.id, { outcome: 'ok', errorCode: null, attempts: 1 });
    expect(await rowsOf(sent.id)).toMatchObject([{ outcome: 'ok', errorCode: null, model: 'ok:1b' }]);
  });

  it('unknown model (404): one error row with its code and the model asked for', async () => {
    const sent = await chat('no-such-model:7b');
    expect(sent.status).toBe(404);
    expected.set(sent.id, { outcome: 'error', errorCode: 'SWARM_ERR_MODEL_NOT_FOUND', attempts: 0 });
    expect(await rowsOf(sent.id)).toMatchObject([
      {
        outcome: 'error',
        errorCode: 'SWARM_ERR_MODEL_NOT_FOUND',
        model: 'no-such-model:7b',
        backend: 'none',
      },
    ]);
  });

  it('every target failed: one error row naming the backend', async () => {
    const sent = await chat('broken:1b');
    expect(sent.status).toBe(500);
    expected.set(sent.id, { outcome: 'error', errorCode: 'SWARM_ERR_BACKEND_ERROR', attempts: 1 });
    const found = await rowsOf(sent.id);
    expect(found).toMatchObject([
      { outcome: 'error', errorCode: 'SWARM_ERR_BACKEND_ERROR', model: 'broken:1b' },
    ]);
    expect(found[0]?.backend).toMatch(/^ollama@/);
  });

  it('every reply turned down by the quality gate: the first reply, marked, and one row', async () => {
    const sent = await chat('gated');
    expect(sent.status).toBe(200);
    expect(sent.response.headers.get('x-swarm-quality')).toBe('failed; empty');
    const body = (await sent.response.json()) as {
      model: string;
      choices: { message: { content: string } }[];
    };
    expect(body.choices[0]?.message.content).toBe('');
    expected.set(sent.id, { outcome: 'ok', errorCode: null, attempts: 2 });
    expect(await rowsOf(sent.id)).toMatchObject([{ outcome: 'ok', errorCode: null, attempts: 2 }]);
  });

  it('a named model’s reply is passed through: the gate does not judge it', async () => {
    const sent = await chat('empty:1b');
    expect(sent.status).toBe(200);
    expect(sent.response.headers.get('x-swarm-quality')).toBeNull();
    const body = (await sent.response.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe('');
    expected.set(sent.id, { outcome: 'ok', errorCode: null, attempts: 1 });
    expect(await rowsOf(sent.id)).toMatchObject([{ outcome: 'ok', attempts: 1 }]);
  });

  it('no place allowed by privacy, or by the cloud budget (503): one row each', async () => {
    const local = await chat('cloud-model', { headers: { 'x-swarm-privacy': 'local' } });
    const budget = await chat('cloud-model', { headers: { 'x-swarm-privacy': 'cloud' } });
    for (const sent of [local, budget]) {
      expect(sent.status).toBe(503);
      expected.set(sent.id, { outcome: 'error', errorCode: 'SWARM_ERR_NO_CAPACITY', attempts: 0 });
      expect(await rowsOf(sent.id)).toMatchObject([{ outcome: 'error', errorCode: 'SWARM_ERR_NO_CAPACITY' }]);
    }
  });

  it('queue timed out (429), and the client that held the slot went away: one row each', async () => {
    const holder = new AbortController();
    const held = chat('slow:1b', { stream: true, signal: holder.signal });
    await waitUntil(() => slow.inflight === 1, 'the slow backend to hold its only slot');
    const queued = await chat('slow:1b');
    expect(queued.status).toBe(429);
    expected.set(queued.id, { outcome: 'error', errorCode: 'SWARM_ERR_QUEUE_FULL', attempts: 0 });
    expect(await rowsOf(queued.id)).toMatchObject([{ outcome: 'error', errorCode: 'SWARM_ERR_QUEUE_FULL' }]);

    // The held request never got its response headers (the fake hangs): abort it and find
    // its row by elimination: the one request of slow:1b that is not the queued one.
    holder.abort();
    await held.catch(() => undefined);
    await waitUntil(
      async () => (await rows()).some((row) => row.outcome === 'cancelled'),
      'the cancelled row',
    );
    const cancelled = (await rows()).filter((row) => row.outcome === 'cancelled');
    expect(cancelled).toMatchObject([
      { model: 'slow:1b', errorCode: 'SWARM_ERR_REQUEST_CANCELLED', attempts: 1 },
    ]);
    expected.set(cancelled[0]!.requestId, {
      outcome: 'cancelled',
      errorCode: 'SWARM_ERR_REQUEST_CANCELLED',
      attempts: 1,
    });
  });

  it('async tasks: served, failed, and cancelled while waiting to try again: one row each', async () => {
    const served = await submitAsync('ok:1b');
    const failed = await submitAsync('broken:1b');
    // No place its privacy allows (NO_CAPACITY): an async task waits and tries again each second.
    const waiting = await submitAsync('cloud-model', { 'x-swarm-privacy': 'local' });
    await waitUntil(async () => (await taskStatus(served)) === 'completed', 'the served task');
    await waitUntil(async () => (await taskStatus(failed)) === 'failed', 'the failed task');
    await sleep(2500); // two or three tries of the waiting one, none of them its end
    expect(await rowsOf(waiting, 0)).toEqual([]);
    const cancel = await fetch(`${url}/tasks/${waiting}`, { method: 'DELETE' });
    expect(((await cancel.json()) as { status: string }).status).toBe('cancelled');
    expected.set(served, { outcome: 'ok', errorCode: null });
    expected.set(failed, { outcome: 'error', errorCode: 'SWARM_ERR_BACKEND_ERROR' });
    expected.set(waiting, { outcome: 'cancelled', errorCode: 'SWARM_ERR_REQUEST_CANCELLED' });
    expect(await rowsOf(served)).toMatchObject([{ outcome: 'ok' }]);
    expect(await rowsOf(failed)).toMatchObject([{ outcome: 'error', errorCode: 'SWARM_ERR_BACKEND_ERROR' }]);
    expect(await rowsOf(waiting)).toMatchObject([
      { outcome: 'cancelled', errorCode: 'SWARM_ERR_REQUEST_CANCELLED' },
    ]);
  });

  it('the ledger holds exactly these rows, one per request, and usage counts them', async () => {
    const all = await rows();
    expect(all.map((row) => row.requestId).sort()).toEqual([...expected.keys()].sort());
    for (const row of all) {
      const want = expected.get(row.requestId)!;
      expect({ outcome: row.outcome, errorCode: row.errorCode }).toEqual({
        outcome: want.outcome,
        errorCode: want.errorCode,
      });
      if (want.attempts !== undefined) expect(row.attempts, row.requestId).toBe(want.attempts);
    }

    const json = JSON.parse((await box.swarmctl(['usage', '--json'])).stdout);
    expect(json.totals).toMatchObject({ requests: 12, errors: 6, cancelled: 2 });

    const byError = JSON.parse((await box.swarmctl(['usage', '--json', '--by', 'error'])).stdout);
    const counts = Object.fromEntries(
      byError.groups.map((g: { label: string; requests: number }) => [g.label, g.requests]),
    );
    expect(counts).toEqual({
      '-': 4,
      SWARM_ERR_BACKEND_ERROR: 2,
      SWARM_ERR_NO_CAPACITY: 2,
      SWARM_ERR_REQUEST_CANCELLED: 2,
      SWARM_ERR_MODEL_NOT_FOUND: 1,
      SWARM_ERR_QUEUE_FULL: 1,
    });

    const byModel = await box.swarmctl(['usage', '--by', 'model']);
    expect(byModel.stdout).toMatch(/^requests\s+12 \(6 failed, 2 cancelled\)$/m);
    expect(byModel.stdout).toMatch(/^broken:1b\s+2\s+2\s+0\s/m);
    expect(byModel.stdout).toMatch(/^slow:1b\s+2\s+1\s+1\s/m);

    const swarm = JSON.parse((await box.swarmctl(['usage', '--swarm', '--json'])).stdout);
    expect(swarm.totals).toMatchObject({ requests: 12, errors: 6, cancelled: 2 });
  });
});
