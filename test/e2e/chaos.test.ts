// Failover under load, with three real swarmd processes in a test LAN, each beside a fake
// Ollama that logs every generation's start and end. A bounded load from the real `openai`
// client (its own retries off) hits alpha while bravo is SIGKILLed, killed and restarted,
// SIGSTOPped past its lease, or starved of CPU. Every request must succeed, exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodesJson } from '../../src/cli/json.js';
import { completions, generationsOf, type LoadSummary, runLoad } from '../helpers/load.js';
import { SwarmNode, untilView } from '../helpers/swarm-node.js';
import { createTestLan, type TestLan } from '../helpers/testlan.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const MODEL = 'qwen3:8b';
/** Held by bravo (loaded) and charlie (not loaded): bravo is preferred, charlie the fallback. */
const SOLO = 'phi4:14b';
const GENERATION_MS = 500;

let lan: TestLan;
let alpha: SwarmNode;
let bravo: SwarmNode;
let charlie: SwarmNode;
const ids: Record<string, string> = {};

/** Zero failed, every request answered once, and no request id run to completion twice. */
async function expectNothingLostOrDuplicated(summary: LoadSummary, count: number): Promise<void> {
  expect(summary.failed).toEqual([]);
  expect(summary.served).toHaveLength(count);
  const served = summary.served.map((entry) => entry.id);
  expect(new Set(served).size).toBe(count);
  const done = completions(await generationsOf([alpha, bravo, charlie]));
  const twice = [...done].filter(([, times]) => times > 1).map(([id]) => id);
  expect(twice).toEqual([]);
  for (const id of served) expect(done.get(id!)).toBe(1);
}

/**
 * Wait for a moment when bravo runs work, none of it about to finish. A worker killed in the
 * ~1 ms between its backend finishing and the result leaving the box makes any at-least-once
 * system run that request again; the kill avoids that window so the count measures swarmd.
 */
async function killMomentOnBravo(): Promise<void> {
  await waitUntil(
    async () => {
      const lines = await bravo.generations();
      const open = new Map<string, number>();
      let lastEnd = 0;
      for (const line of lines) {
        if (!line.requestId) continue;
        if (line.event === 'start') open.set(line.requestId, line.at);
        else {
          open.delete(line.requestId);
          lastEnd = Math.max(lastEnd, line.at);
        }
      }
      const now = Date.now();
      const ages = [...open.values()].map((at) => now - at);
      // Work running, none of it about to finish, and no result on its way out right now.
      return ages.length > 0 && ages.every((age) => age < GENERATION_MS - 200) && now - lastEnd > 100;
    },
    'bravo to run work during the load',
    15_000,
    5,
  );
}

function state(view: NodesJson, id: string): string | undefined {
  return view.nodes.find((node) => node.id === id)?.state;
}

/**
 * 160 requests against alpha; at a random point bravo is SIGKILLed (outside the instant its
 * backend finishes), then `after` runs. Asserts nothing was lost or run twice.
 */
async function loadWhileKillingBravo(after: () => Promise<void>): Promise<LoadSummary> {
  const count = 160;
  const summary = await runLoad(lan, {
    model: MODEL,
    count,
    after: 20 + Math.floor(Math.random() * 40),
    during: async () => {
      await killMomentOnBravo();
      await bravo.daemon.kill();
      await after();
    },
  });
  await expectNothingLostOrDuplicated(summary, count);
  return summary;
}

/** SIGSTOP `node` until alpha declares it dead (bounded), then SIGCONT it whatever happened. */
async function frozenUntilDead(node: SwarmNode, name: string): Promise<void> {
  node.daemon.signal('SIGSTOP');
  try {
    await untilView(
      alpha,
      (view) => state(view, ids[name]!) === 'dead',
      10_000,
      `alpha to declare ${name} dead`,
    );
  } finally {
    node.daemon.signal('SIGCONT');
  }
}

/** Alpha sees bravo alive and usable again (after a kill). */
async function bravoBack(): Promise<void> {
  await untilView(
    alpha,
    (view) => {
      const node = view.nodes.find((entry) => entry.id === ids.bravo);
      return (
        node?.state === 'alive' &&
        node.activity === 'active' &&
        [MODEL, SOLO].every((id) => node.models.some((model) => model.id === id))
      );
    },
    20_000,
    'alpha to see bravo alive with its models',
  );
}

beforeAll(async () => {
  lan = await createTestLan({ hosts: 3 });
  const backend = (reply: string) => ({ reply, firstTokenDelayMs: GENERATION_MS });
  alpha = await SwarmNode.create(lan, 0, {
    name: 'alpha',
    gpuName: 'NVIDIA GeForce RTX 4090',
    models: [MODEL],
    loaded: [MODEL],
    backend: backend('from alpha'),
    cpus: '1',
  });
  bravo = await SwarmNode.create(lan, 1, {
    name: 'bravo',
    gpuName: 'NVIDIA GeForce RTX 3090',
    models: [MODEL, SOLO],
    loaded: [MODEL, SOLO],
    backend: backend('from bravo'),
    cpus: '1',
  });
  charlie = await SwarmNode.create(lan, 2, {
    name: 'charlie',
    gpuName: 'NVIDIA RTX A4000',
    models: [MODEL, SOLO],
    loaded: [MODEL],
    backend: backend('from charlie'),
    cpus: '0',
  });
  const token = await alpha.init();
  await Promise.all([bravo.join(token), charlie.join(token)]);
  await Promise.all([alpha.start(), bravo.start(), charlie.start()]);
  for (const [name, node] of Object.entries({ alpha, bravo, charlie })) ids[name] = (await node.nodes()).self;
  await untilView(
    alpha,
    (view) =>
      ['bravo', 'charlie'].every((name) => {
        const node = view.nodes.find((entry) => entry.id === ids[name]);
        return node?.state === 'alive' && node.models.some((model) => model.id === MODEL);
      }),
    20_000,
    'alpha to see bravo and charlie with their models',
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([alpha, bravo, charlie].filter(Boolean).map((node) => node.destroy()));
  await lan?.destroy();
});

describe('failover under load', () => {
  it('pausing a node mid-load fails nothing: it takes no new work and finishes what it runs', async () => {
    const count = 200;
    let pausedAt = 0;
    const summary = await runLoad(lan, {
      model: MODEL,
      count,
      after: 30 + Math.floor(Math.random() * 40),
      during: async () => {
        const out = await charlie.swarmctl(['pause']);
        if (out.code !== 0) throw new Error(`swarmctl pause failed: ${out.stderr}`);
        pausedAt = Date.now();
      },
    });
    expect(summary.failed).toEqual([]);
    expect(summary.served).toHaveLength(count);
    const lines = await charlie.generations();
    const before = lines.filter((line) => line.event === 'start' && line.at <= pausedAt);
    expect(before.length).toBeGreaterThan(0); // charlie was working when it was paused
    expect(lines.filter((line) => line.event === 'start' && line.at > pausedAt)).toEqual([]);
    for (const start of before)
      expect(
        lines.some((line) => line.event === 'end' && line.requestId === start.requestId && line.completed),
      ).toBe(true);
    const view = await alpha.nodes();
    expect(view.nodes.find((node) => node.id === ids.charlie)?.activity).toBe('paused');
    expect((await charlie.swarmctl(['resume'])).code).toBe(0);
    await untilView(
      alpha,
      (v) => v.nodes.find((node) => node.id === ids.charlie)?.activity === 'active',
      5000,
      'alpha to see charlie active again',
    );
  });

  it('loses and duplicates nothing when a worker is SIGKILLed mid-load', async () => {
    const summary = await loadWhileKillingBravo(async () => undefined);
    // Work bravo had in flight was re-run elsewhere, and the clients never saw it fail.
    expect(summary.served.some((entry) => entry.attempts >= 2)).toBe(true);
    expect(summary.served.some((entry) => entry.node === 'bravo')).toBe(true);
    await bravo.start();
    await bravoBack();
  });

  it('loses and duplicates nothing when a worker is killed and back within a second', async () => {
    // Spawned at once; a new incarnation voids its old attempts.
    const summary = await loadWhileKillingBravo(() => bravo.start());
    expect(summary.served.some((entry) => entry.attempts >= 2)).toBe(true);
    await bravoBack();
  });

  it('rejects the late result of a worker SIGSTOPped past its lease: the client gets one answer', async () => {
    await bravoBack();
    const before = (await bravo.generations()).length;
    const reply = fetchFromAlpha(SOLO);
    await waitUntil(
      async () => (await bravo.generations()).slice(before).some((line) => line.event === 'start'),
      'bravo to start the request',
      10_000,
      10,
    );
    await frozenUntilDead(bravo, 'bravo');
    const answer = await reply;
    expect(answer.status).toBe(200);
    expect(answer.node).toBe('charlie');
    expect(answer.content).toBe('from charlie');
    expect(Number(answer.attempts)).toBeGreaterThanOrEqual(2);
    // Bravo's backend did finish the work; its result, arriving after the lease, was not used.
    await bravoBack();
    const late = (await bravo.generations()).slice(before);
    expect(late.some((line) => line.event === 'end' && line.completed)).toBe(true);
    const again = await fetchFromAlpha(SOLO);
    expect(again.node).toBe('bravo'); // back in service, once alive again
  });

  it('keeps a CPU-starved node alive in its peers’ view, and declares a SIGSTOPped one dead', async () => {
    // charlie runs pinned to CPU 0; alpha and bravo on CPU 1. A busy loop joins charlie on CPU 0.
    const hog = lan.exec(2, 'taskset', ['-c', '0', process.execPath, '-e', 'for (;;) {}']);
    try {
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        for (const observer of [alpha, bravo])
          expect(state(await observer.nodes(), ids.charlie!)).toBe('alive');
        await sleep(250);
      }
    } finally {
      hog.kill('SIGKILL');
    }
    await frozenUntilDead(charlie, 'charlie');
    await untilView(alpha, (view) => state(view, ids.charlie!) === 'alive', 10_000, 'charlie alive again');
  });
});

/** One non-streaming request to alpha's gateway, from inside alpha's host. */
async function fetchFromAlpha(
  model: string,
): Promise<{ status: number; node: string | null; attempts: string | null; content: string }> {
  const script = `
    const res = await fetch('http://127.0.0.1:8765/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: ${JSON.stringify(model)}, messages: [{ role: 'user', content: 'one answer please' }] }),
    });
    const body = await res.json();
    console.log(JSON.stringify({
      status: res.status,
      node: res.headers.get('x-swarm-node'),
      attempts: res.headers.get('x-swarm-attempts'),
      content: body.choices?.[0]?.message?.content ?? JSON.stringify(body),
    }));`;
  const child = lan.exec(0, process.execPath, ['--input-type=module', '-e', script]);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  await new Promise((resolve) => child.once('exit', resolve));
  if (!out.trim()) throw new Error(`request from alpha's host failed: ${err}`);
  return JSON.parse(out) as { status: number; node: string | null; attempts: string | null; content: string };
}
