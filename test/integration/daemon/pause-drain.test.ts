// Two real swarmd processes on loopback, alpha and bravo, both holding `shared:8b` (loaded on
// bravo only, so alpha's gateway prefers bravo). Pausing bravo: alpha learns it within about a
// heartbeat and serves everything itself while work already running on bravo finishes; a grace
// that runs out hands the work back and the client still gets a normal reply; --unload frees
// bravo's VRAM; drain and SIGTERM make bravo leave (peers mark it `left`, never `dead`).
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import { joinSwarm } from '../../../src/security/store.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { FakeVllm } from '../../fakes/vllm.js';
import {
  nodeSeenBy,
  pairBoxes,
  startInBox,
  type TwoNodeSwarm,
  waitForPeer,
} from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox } from '../../helpers/sandbox.js';
import { killAllSwarmd } from '../../helpers/swarmd.js';
import { waitUntil } from '../../helpers/wait.js';

const MODEL = 'shared:8b';

interface Pair extends TwoNodeSwarm {
  vllmB: FakeVllm;
  idA: string;
  client: OpenAI;
}

/** alpha (shared:8b installed, not loaded) and bravo (shared:8b loaded, plus a vLLM), paired. */
async function startPair(alphaFlags: string[] = []): Promise<Pair> {
  const [a, b] = [await createSandbox(), await createSandbox()];
  await pairBoxes(a, b);
  const idA = await loadOrCreateNodeId(a.dataDir);
  const fakeA = new FakeOllama({ models: [{ name: MODEL }], loaded: [] });
  const fakeB = new FakeOllama({ models: [{ name: MODEL }], loaded: [{ name: MODEL }] });
  const vllmB = new FakeVllm({ models: [{ id: 'vllm-only' }] });
  const [urlA, urlB, urlV] = [
    (await fakeA.start()).url,
    (await fakeB.start()).url,
    (await vllmB.start()).url,
  ];
  fakeA.behave({ reply: 'hello from A' });
  fakeB.behave({ reply: 'hello from B' });
  const stop = async () => {
    await killAllSwarmd();
    await Promise.all([fakeA.stop(), fakeB.stop(), vllmB.stop()]);
    await Promise.all([a.remove(), b.remove()]);
  };
  try {
    const nodeA = await startInBox(a, ['--name', 'alpha', '--backend', urlA, ...alphaFlags]);
    const nodeB = await startInBox(b, [
      '--name',
      'bravo',
      '--backend',
      `${urlB},${urlV}`,
      '--peer',
      `127.0.0.1:${nodeA.peerPort()}`,
    ]);
    await waitForPeer(a, 'bravo', [MODEL]);
    await waitForPeer(b, 'alpha', [MODEL]);
    const client = new OpenAI({
      baseURL: nodeA.gatewayUrl(),
      apiKey: 'unused',
      maxRetries: 0,
      timeout: 60_000,
    });
    return { a, b, nodeA, nodeB, fakeA, fakeB, vllmB, idA, client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function ask(client: OpenAI) {
  return client.chat.completions
    .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
}

describe('pause, resume and drain between two daemons', () => {
  let pair: Pair;

  beforeAll(async () => {
    pair = await startPair();
  }, 90_000);

  afterAll(async () => {
    await pair?.stop();
  });

  it('routes to bravo while it is active (its copy is loaded)', async () => {
    const { response } = await ask(pair.client);
    expect(response.headers.get('x-swarm-node')).toBe('bravo');
  });

  it('pause: alpha learns it within a heartbeat and serves alone; running work on bravo completes', async () => {
    const { client, a, b, fakeB, nodeB } = pair;
    // Long enough that `swarmctl pause` (a process start, ~1 s, several on a busy machine) lands
    // while the request still runs.
    fakeB.behave({ reply: 'hello from B', firstTokenDelayMs: 8000 });
    const running = ask(client);
    await waitUntil(() => fakeB.inflight === 1, 'the slow request to reach bravo', 10_000, 20);

    const paused = await b.swarmctl(['pause', '--json']);
    expect(paused.code).toBe(0);
    const report = JSON.parse(paused.stdout) as { activity: string; reason: string; inflight: number };
    expect(report).toMatchObject({ activity: 'paused', reason: 'manual', inflight: 1 });
    const pausedAt = Date.now();
    await waitUntil(
      async () => (await nodeSeenBy(a, 'bravo'))?.activity === 'paused',
      'alpha to see bravo paused',
      3_000,
      50,
    );
    expect(Date.now() - pausedAt).toBeLessThan(3_000);
    expect((await nodeSeenBy(a, 'bravo'))?.activityReason).toBe('manual');
    expect((await a.swarmctl(['nodes'])).stdout).toContain('paused (manual)');

    for (let i = 0; i < 3; i++) {
      const { data, response } = await ask(client);
      expect(response.headers.get('x-swarm-node-id')).toBe(pair.idA);
      expect(data.choices[0]?.message.content).toBe('hello from A');
    }
    const { data, response } = await running;
    expect(data.choices[0]?.message.content).toBe('hello from B');
    expect(response.headers.get('x-swarm-node')).toBe('bravo');
    expect(nodeB.running).toBe(true);
  });

  it('resume: bravo gets work again', async () => {
    const { a, b, fakeB, client } = pair;
    fakeB.behave({ reply: 'hello from B', firstTokenDelayMs: 0 });
    const resumed = await b.swarmctl(['resume', '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ activity: 'active', reason: null });
    await waitUntil(
      async () => (await nodeSeenBy(a, 'bravo'))?.activity === 'active',
      'bravo active',
      3_000,
      50,
    );
    const { response } = await ask(client);
    expect(response.headers.get('x-swarm-node')).toBe('bravo');
  });

  it('a grace that runs out hands the work back: the client still gets a normal reply, from alpha', async () => {
    const { b, fakeB, client } = pair;
    fakeB.behave({ reply: 'hello from B', firstTokenDelayMs: 60_000 });
    const running = ask(client);
    await waitUntil(() => fakeB.inflight === 1, 'the slow request to reach bravo', 10_000, 20);
    const startedAt = Date.now();
    const paused = await b.swarmctl(['pause', '--grace', '1s', '--wait', '--json']);
    expect(paused.code).toBe(0);
    expect(JSON.parse(paused.stdout)).toMatchObject({ activity: 'paused', drained: true, handedBack: 1 });
    const { data, response } = await running;
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    expect(data.choices[0]?.message.content).toBe('hello from A');
    expect(response.headers.get('x-swarm-node')).toBe('alpha');
    expect(Number(response.headers.get('x-swarm-attempts'))).toBeGreaterThanOrEqual(2);
    await waitUntil(
      () => fakeB.generations.at(-1)?.aborted === true,
      "bravo's backend to see the abort",
      5_000,
    );
    fakeB.behave({ reply: 'hello from B', firstTokenDelayMs: 0 });
  });

  it('pause --unload frees VRAM where it can and says which backend cannot', async () => {
    const { b, fakeB } = pair;
    const paused = await b.swarmctl(['pause', '--unload', '--grace', '1s', '--json']);
    expect(paused.code).toBe(0);
    const report = JSON.parse(paused.stdout) as {
      unload: Array<{ kind: string; outcome: string; models: string[]; detail: string | null }>;
    };
    expect(report.unload.find((entry) => entry.kind === 'ollama')).toMatchObject({
      outcome: 'unloaded',
      models: [MODEL],
    });
    const vllm = report.unload.find((entry) => entry.kind === 'vllm');
    expect(vllm?.outcome).toBe('unsupported');
    expect(vllm?.detail).toMatch(/vLLM/);
    const unloads = fakeB.requests
      .filter((r) => r.method === 'POST' && r.path === '/api/generate')
      .map((r) => JSON.parse(r.body) as unknown);
    expect(unloads).toEqual([{ model: MODEL, keep_alive: 0 }]);
    expect(fakeB.state.loaded).toEqual([]);
    const human = await b.swarmctl(['pause', '--unload', '--grace', '0s']);
    expect(human.stdout).toMatch(/vllm@.*cannot unload/);
  });

  it('drain: bravo exits 0 and alpha marks it left, never dead', async () => {
    const { a, b, nodeB } = pair;
    await b.swarmctl(['resume']);
    const seen = new Set<string>();
    const drained = await b.swarmctl(['drain', '--grace', '5s', '--json']);
    expect(drained.code).toBe(0);
    expect(JSON.parse(drained.stdout)).toMatchObject({ activity: 'draining', drained: true });
    const exit = await nodeB.exit(15_000);
    expect(exit.code).toBe(0);
    await waitUntil(
      async () => {
        const row = await nodeSeenBy(a, 'bravo');
        if (row) seen.add(row.state);
        return row?.state === 'left';
      },
      'alpha to mark bravo left',
      5_000,
      50,
    );
    expect(seen.has('dead')).toBe(false);
  });
});

describe('SIGTERM (systemctl --user stop)', () => {
  let pair: Pair;

  beforeAll(async () => {
    // A slow failure detector on alpha: `left` seen within seconds can only come from bravo's goodbye.
    pair = await startPair(['--membership.suspectAfter', '15s', '--membership.deadAfter', '30s']);
  }, 90_000);

  afterAll(async () => {
    await pair?.stop();
  });

  it('lets a running request finish, then leaves: alpha marks bravo left, never dead', async () => {
    const { a, fakeB, client, nodeB } = pair;
    fakeB.behave({ reply: 'hello from B', firstTokenDelayMs: 2500 });
    const running = ask(client);
    await waitUntil(() => fakeB.inflight === 1, 'the slow request to reach bravo', 10_000, 20);
    nodeB.signal('SIGTERM');
    await waitUntil(
      async () => (await nodeSeenBy(a, 'bravo'))?.activity === 'draining',
      'alpha to see bravo draining',
      3_000,
      50,
    );
    const { data, response } = await running;
    expect(data.choices[0]?.message.content).toBe('hello from B');
    expect(response.headers.get('x-swarm-node')).toBe('bravo');
    const exit = await nodeB.exit(30_000);
    expect(exit.code).toBe(0);
    await waitUntil(async () => (await nodeSeenBy(a, 'bravo'))?.state === 'left', 'bravo left', 5_000, 50);
  });

  it('an idle node leaves at once', async () => {
    const { a, fakeB } = pair;
    const c = await createSandbox();
    try {
      await joinSwarm(c.dataDir, await loadOrCreateNodeId(c.dataDir), await tokenOf(a));
      const nodeC = await startInBox(c, [
        '--name',
        'charlie',
        '--backend',
        fakeB.url,
        '--peer',
        `127.0.0.1:${pair.nodeA.peerPort()}`,
      ]);
      await waitForPeer(a, 'charlie', [MODEL]);
      const stoppedAt = Date.now();
      nodeC.signal('SIGTERM');
      await waitUntil(
        async () => (await nodeSeenBy(a, 'charlie'))?.state === 'left',
        'charlie left',
        5_000,
        50,
      );
      // Far below the 20 s drain grace and alpha's 30 s dead timeout.
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      expect((await nodeC.exit(10_000)).code).toBe(0);
    } finally {
      await c.remove();
    }
  });
});

async function tokenOf(sandbox: Sandbox): Promise<string> {
  const out = await sandbox.swarmctl(['token', '--json']);
  if (out.code !== 0) throw new Error(`swarmctl token failed: ${out.stderr}`);
  return (JSON.parse(out.stdout) as { token: string }).token;
}
