// Three real swarmd processes in three namespaces of a private LAN find each other over
// real mDNS, then one is SIGKILLed (dead), one SIGTERMed (left, not dead), one restarted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeJson, NodesJson } from '../../src/cli/json.js';
import { SwarmNode, untilView } from '../helpers/swarm-node.js';
import { createTestLan, type TestLan } from '../helpers/testlan.js';
import { waitUntil } from '../helpers/wait.js';

let lan: TestLan;
const nodes: SwarmNode[] = [];

function peer(view: NodesJson, id: string): NodeJson | undefined {
  return view.nodes.find((node) => node.id === id);
}

beforeAll(async () => {
  lan = await createTestLan({ hosts: 3 });
  const specs = [
    {
      name: 'alpha',
      gpuName: 'NVIDIA GeForce RTX 4090',
      models: ['qwen3:8b', 'llama3.2:3b'],
      loaded: ['qwen3:8b'],
    },
    { name: 'bravo', gpuName: 'NVIDIA GeForce RTX 3090', models: ['qwen3:32b'], loaded: [] },
    { name: 'charlie', gpuName: 'NVIDIA RTX A4000', models: ['llama3.2:3b'], loaded: ['llama3.2:3b'] },
  ];
  for (const [index, spec] of specs.entries()) nodes.push(await SwarmNode.create(lan, index, spec));
  // Pair them as a user would: init on the first box, join with its token on the others.
  const token = await nodes[0]!.init();
  await Promise.all(nodes.slice(1).map((node) => node.join(token)));
  await Promise.all(nodes.map((node) => node.start()));
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.destroy()));
  await lan?.destroy();
});

describe('a three-node swarm in a test LAN', () => {
  it('each node lists the others alive with GPUs, backends and models, over real mDNS', async () => {
    const ids = await Promise.all(nodes.map(async (node) => (await node.nodes()).self));
    for (const observer of nodes) {
      const view = await untilView(
        observer,
        (v) => ids.every((id) => peer(v, id)?.state === 'alive' && (peer(v, id)?.backends.length ?? 0) > 0),
        10_000,
        'all three alive with backends',
      );
      expect(view.nodes.filter((node) => node.self)).toHaveLength(1);
      const alpha = peer(view, ids[0]!)!;
      expect(alpha.name).toBe('alpha');
      expect(alpha.gpus[0]).toMatchObject({
        name: 'NVIDIA GeForce RTX 4090',
        memoryTotalMiB: 24564,
        powerW: null,
      });
      expect(alpha.backends[0]).toMatchObject({ kind: 'ollama', healthy: true });
      expect(alpha.models).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: 'qwen3:8b', loaded: true }),
          expect.objectContaining({ id: 'llama3.2:3b', loaded: false }),
        ]),
      );
      expect(alpha.addresses[0]).toMatch(/^10\.203\.\d+\.1:8766$/);
    }
    const models = await nodes[0]!.swarmctl(['models', '--json']);
    const catalogue = JSON.parse(models.stdout) as { models: { id: string; nodes: { name: string }[] }[] };
    const llama = catalogue.models.find((model) => model.id === 'llama3.2:3b')!;
    expect(llama.nodes.map((node) => node.name).sort()).toEqual(['alpha', 'charlie']);
  });

  it('marks a SIGKILLed node dead, and alive again when it restarts', async () => {
    const charlie = nodes[2]!;
    const charlieId = (await charlie.nodes()).self;
    await charlie.daemon.kill();
    const killedAt = Date.now();
    const view = await untilView(
      nodes[0]!,
      (v) => peer(v, charlieId)?.state === 'dead',
      15_000,
      'charlie dead',
    );
    // The daemon's own timing: dead was declared after the suspect/dead timeouts, not instantly.
    expect(peer(view, charlieId)!.stateSince).toBeGreaterThanOrEqual(killedAt);
    await untilView(
      nodes[1]!,
      (v) => peer(v, charlieId)?.state === 'dead',
      15_000,
      'bravo sees charlie dead',
    );

    await charlie.start();
    expect((await charlie.nodes()).self).toBe(charlieId);
    await untilView(nodes[0]!, (v) => peer(v, charlieId)?.state === 'alive', 10_000, 'charlie alive again');
    await untilView(
      nodes[1]!,
      (v) => peer(v, charlieId)?.state === 'alive',
      10_000,
      'bravo sees charlie again',
    );
  });

  it('marks a SIGTERMed node left without passing through suspect or dead', async () => {
    const bravo = nodes[1]!;
    const bravoId = (await bravo.nodes()).self;
    const seen = new Set<string>();
    const watching = waitUntil(
      async () => {
        const state = peer(await nodes[0]!.nodes(), bravoId)?.state;
        if (state) seen.add(state);
        return state === 'left';
      },
      'alpha to see bravo left',
      10_000,
      50,
    );
    const stoppedAt = Date.now();
    await bravo.daemon.stop();
    await watching;
    const view = await nodes[0]!.nodes();
    expect(peer(view, bravoId)?.state).toBe('left');
    expect([...seen].filter((state) => state === 'suspect' || state === 'dead')).toEqual([]);
    // Well before the 3 s dead timeout.
    expect(peer(view, bravoId)!.stateSince - stoppedAt).toBeLessThan(2_500);
    await untilView(nodes[2]!, (v) => peer(v, bravoId)?.state === 'left', 5_000, 'charlie sees bravo left');
  });
});
