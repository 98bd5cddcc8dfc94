// A worker's daemon really dying under load, in a test LAN: a coordinator with no model server
// ("hub") and two workers holding the same model, each beside a fake Ollama (15 ms a token).
// Load from the real `openai` client (its own retries off) goes to the hub while a worker's
// own swarmd process is SIGKILLed. Default config: no raised maxAttempts or queueTimeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completions, generationsOf, type LoadSummary, runLoad } from '../helpers/load.js';
import { SwarmNode, untilView } from '../helpers/swarm-node.js';
import { createTestLan, type TestLan } from '../helpers/testlan.js';

const MODEL = 'qwen3:8b';
/** Ten tokens at 15 ms each: a generation takes about 150 ms. */
const REPLY = 'one two three four five six seven eight nine ten';

let lan: TestLan;
let hub: SwarmNode;
let w1: SwarmNode;
let w2: SwarmNode;
const ids: Record<string, string> = {};

/** Request ids a worker started and did not finish (its daemon died under them). */
async function cutShort(worker: SwarmNode): Promise<string[]> {
  const lines = await worker.generations();
  const done = new Set(lines.filter((l) => l.event === 'end' && l.completed).map((l) => l.requestId));
  return [
    ...new Set(
      lines
        .filter((l) => l.event === 'start' && l.requestId && !done.has(l.requestId))
        .map((l) => l.requestId!),
    ),
  ];
}

/** No request failed, each was answered once, and the ones cut short on `victim` were moved. */
async function expectAllServedOnce(summary: LoadSummary, count: number, victims: SwarmNode[]): Promise<void> {
  expect(summary.failed).toEqual([]);
  expect(summary.served).toHaveLength(count);
  expect(new Set(summary.served.map((entry) => entry.id)).size).toBe(count);
  const moved = new Set((await Promise.all(victims.map(cutShort))).flat());
  for (const entry of summary.served)
    if (moved.has(entry.id!)) expect(entry.attempts, `request ${entry.id}`).toBeGreaterThanOrEqual(2);
  // Every request ran to completion somewhere.
  const done = completions(await generationsOf([w1, w2]));
  for (const entry of summary.served) expect(done.get(entry.id!) ?? 0).toBeGreaterThanOrEqual(1);
}

async function usable(observer: SwarmNode, names: string[]): Promise<void> {
  await untilView(
    observer,
    (view) =>
      names.every((name) => {
        const node = view.nodes.find((entry) => entry.id === ids[name]);
        return (
          node?.state === 'alive' &&
          node.reachability.outbound &&
          node.reachability.inbound &&
          node.models.some((model) => model.id === MODEL)
        );
      }),
    20_000,
    `${names.join(', ')} usable from the hub`,
  );
}

beforeAll(async () => {
  lan = await createTestLan({ hosts: 3 });
  const worker = (name: string) => ({
    name,
    gpuName: 'NVIDIA GeForce RTX 3090',
    models: [MODEL],
    loaded: [MODEL],
    backend: { reply: REPLY, tokenDelayMs: 15 },
  });
  hub = await SwarmNode.create(lan, 0, {
    name: 'hub',
    gpuName: 'NVIDIA GeForce RTX 4090',
    models: [],
    loaded: [],
    noBackend: true,
  });
  w1 = await SwarmNode.create(lan, 1, worker('w1'));
  w2 = await SwarmNode.create(lan, 2, worker('w2'));
  const token = await hub.init();
  await Promise.all([w1.join(token), w2.join(token)]);
  await Promise.all([hub.start(), w1.start(), w2.start()]);
  for (const [name, node] of Object.entries({ hub, w1, w2 })) ids[name] = (await node.nodes()).self;
  await usable(hub, ['w1', 'w2']);
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
    await expectAllServedOnce(summary, count, [w1]);
    expect(summary.served.some((entry) => entry.node === 'w1')).toBe(true);
    expect(summary.served.some((entry) => entry.attempts >= 2)).toBe(true);
    await w1.start();
    await usable(hub, ['w1']);
  });
});
