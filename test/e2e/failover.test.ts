// A worker's daemon really dying, in a test LAN: a coordinator with no model server ("hub") and
// two workers holding the same model, each beside a fake Ollama (15 ms a token). w1 has the model
// loaded, so a lone request goes there first; w2 has it cold. Requests go to the hub from inside
// its host (the real `openai` client with its own retries off for loads). The worker's own swarmd
// PID is killed (checked in /proc: not `ip netns exec`, not a shell), at the moment each test
// aims for, or the box goes silent (SIGSTOP, link down) as a box switched off does. Default
// config: no raised maxAttempts or queueTimeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askOnce, completions, generationsOf, type LoadSummary, runLoad } from '../helpers/load.js';
import { SwarmNode, untilView } from '../helpers/swarm-node.js';
import { createTestLan, type TestLan } from '../helpers/testlan.js';

const MODEL = 'qwen3:8b';
/** Thirty tokens at 15 ms each: a generation takes about 450 ms. */
const REPLY = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');

let lan: TestLan;
let hub: SwarmNode;
let w1: SwarmNode;
let w2: SwarmNode;
const ids: Record<string, string> = {};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Request ids a worker started and did not finish (its daemon died or froze under them). */
async function cutShort(worker: SwarmNode): Promise<Set<string>> {
  const lines = await worker.generations();
  const done = new Set(lines.filter((l) => l.event === 'end' && l.completed).map((l) => l.requestId));
  return new Set(
    lines
      .filter((l) => l.event === 'start' && l.requestId && !done.has(l.requestId))
      .map((l) => l.requestId!),
  );
}

/** No request failed, each was answered exactly once, and the ones cut short on `victim` were moved. */
async function expectAllServedOnce(summary: LoadSummary, count: number, victim: SwarmNode): Promise<void> {
  expect(summary.failed).toEqual([]);
  expect(summary.served).toHaveLength(count);
  expect(new Set(summary.served.map((entry) => entry.id)).size).toBe(count);
  const moved = await cutShort(victim);
  for (const entry of summary.served)
    if (moved.has(entry.id!)) expect(entry.attempts, `request ${entry.id}`).toBeGreaterThanOrEqual(2);
  // Every answer was generated to the end somewhere.
  const done = completions(await generationsOf([w1, w2]));
  for (const entry of summary.served) expect(done.get(entry.id!) ?? 0).toBeGreaterThanOrEqual(1);
}

/** The hub sees these workers alive, reachable both ways, with the model (so it routes to them). */
async function usable(names: string[]): Promise<void> {
  await untilView(
    hub,
    (view) =>
      names.every((name) => {
        const node = view.nodes.find((entry) => entry.id === ids[name]);
        return (
          node?.state === 'alive' &&
          node.activity === 'active' &&
          node.reachability.outbound &&
          node.reachability.inbound &&
          !node.problem &&
          node.models.some((model) => model.id === MODEL)
        );
      }),
    20_000,
    `${names.join(', ')} usable from the hub`,
  );
}

/** Start w1 again (it was killed) and wait until the hub routes to it. */
async function w1Back(): Promise<void> {
  if (!w1.running) await w1.start();
  await usable(['w1']);
}

/** Wait until w1's fake backend logs the start of a generation after line `from`. */
async function w1Generating(from: number): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const started = (await w1.generations()).slice(from).find((line) => line.event === 'start');
    if (started?.requestId) return started.requestId;
    if (Date.now() > deadline) throw new Error('w1 never started the request');
    await sleep(5);
  }
}

/** The request was moved to w2 after its attempt on w1 failed, and answered normally. */
function expectMovedToW2(answer: Awaited<ReturnType<typeof askOnce>>): void {
  expect(answer).toMatchObject({ status: 200, node: 'w2', content: REPLY });
  expect(answer.attempts).toBeGreaterThanOrEqual(2);
}

beforeAll(async () => {
  lan = await createTestLan({ hosts: 3 });
  const worker = (name: string, loaded: boolean) => ({
    name,
    gpuName: 'NVIDIA GeForce RTX 3090',
    models: [MODEL],
    loaded: loaded ? [MODEL] : [],
    backend: { reply: REPLY, tokenDelayMs: 15 },
  });
  hub = await SwarmNode.create(lan, 0, {
    name: 'hub',
    gpuName: 'NVIDIA GeForce RTX 4090',
    models: [],
    loaded: [],
    noBackend: true,
  });
  w1 = await SwarmNode.create(lan, 1, worker('w1', true));
  w2 = await SwarmNode.create(lan, 2, worker('w2', false));
  const token = await hub.init();
  await Promise.all([w1.join(token), w2.join(token)]);
  await Promise.all([hub.start(), w1.start(), w2.start()]);
  for (const [name, node] of Object.entries({ hub, w1, w2 })) ids[name] = (await node.nodes()).self;
  await usable(['w1', 'w2']);
}, 120_000);

afterAll(async () => {
  await Promise.all([hub, w1, w2].filter(Boolean).map((node) => node.destroy()));
  await lan?.destroy();
});

describe('a worker SIGKILLed under load', () => {
  it('fails no request: 200 requests from 8 clients, one worker killed after the 40th', async () => {
    const count = 200;
    const summary = await runLoad(lan, {
      model: MODEL,
      count,
      parallel: 8,
      after: 40,
      during: () => w1.kill(),
    });
    await expectAllServedOnce(summary, count, w1);
    expect(summary.served.some((entry) => entry.node === 'w1')).toBe(true);
    expect(summary.served.some((entry) => entry.attempts >= 2)).toBe(true);
    await w1Back();
  });
});

describe('a worker killed at each moment of a request', () => {
  it('during the generation: the request is run again on the other worker', async () => {
    const from = (await w1.generations()).length;
    const reply = askOnce(lan, 0, MODEL);
    const id = await w1Generating(from);
    await w1.kill();
    const answer = await reply;
    expectMovedToW2(answer);
    expect(answer.id).toBe(id);
    await w1Back();
  });

  it('during the admission: the worker froze with the task sent, then died', async () => {
    const from = (await w1.generations()).length;
    await w1.signal('SIGSTOP');
    const reply = askOnce(lan, 0, MODEL);
    // The hub, which still sees w1 alive, sends it the task and waits for its admission.
    await sleep(400);
    await w1.kill();
    expectMovedToW2(await reply);
    expect((await w1.generations()).slice(from)).toEqual([]); // w1 never ran it
    await w1Back();
  });

  it('during the dial: the first task after a restart opens a channel to a worker that dies', async () => {
    // w1 restarted (previous test): the hub has no task channel to this process yet.
    const from = (await w1.generations()).length;
    await w1.signal('SIGSTOP');
    const reply = askOnce(lan, 0, MODEL);
    await sleep(400);
    await w1.kill();
    expectMovedToW2(await reply);
    expect((await w1.generations()).slice(from)).toEqual([]);
    await w1Back();
  });

  it('after its channel broke, before it is declared dead: requests go elsewhere at once', async () => {
    await askOnce(lan, 0, MODEL); // a task channel to w1 is open
    await w1.kill();
    const replies = [0, 1, 2].map(() => askOnce(lan, 0, MODEL));
    // Sent while the hub's failure detector still has w1 alive or suspect (dead takes 3 s).
    const seen = (await hub.nodes()).nodes.find((node) => node.id === ids.w1)?.state;
    expect(seen).not.toBe('dead');
    for (const answer of await Promise.all(replies))
      expect(answer).toMatchObject({ status: 200, node: 'w2', content: REPLY });
    await w1Back();
  });
});

describe('a worker that goes silent, leaving no reset behind', () => {
  it('SIGSTOPped past its task lease under load: nothing fails, its late results are not used', async () => {
    const count = 150;
    const summary = await runLoad(lan, {
      model: MODEL,
      count,
      parallel: 8,
      after: 20,
      during: async () => {
        await w1.signal('SIGSTOP');
        try {
          await sleep(11_000); // the task lease is 10 s
        } finally {
          await w1.signal('SIGCONT');
        }
      },
    });
    await expectAllServedOnce(summary, count, w1);
    expect(summary.served.some((entry) => entry.attempts >= 2)).toBe(true);
    await w1Back();
  });

  it('its link down under load (a box switched off): nothing fails; back when the link is', async () => {
    const count = 120;
    const summary = await runLoad(lan, {
      model: MODEL,
      count,
      parallel: 8,
      after: 20,
      during: async () => {
        await lan.run(1, 'ip', ['link', 'set', 'veth0', 'down']);
        try {
          await sleep(5_000);
        } finally {
          await lan.run(1, 'ip', ['link', 'set', 'veth0', 'up']);
        }
      },
    });
    await expectAllServedOnce(summary, count, w1);
    await w1Back();
  });
});
