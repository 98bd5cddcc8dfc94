// Chaos under load in a real test LAN: three swarmd processes, a bounded load from the real
// `openai` client against the first, and SIGKILLs of the other two at random moments (each
// restarted half a second later). Counts requests lost (the client saw an error) and
// duplicated (a request id the fake backends ran to completion more than once). Unlike the
// e2e test, kills here land anywhere, including the ~1 ms after a backend finished and before
// its result left the box, so a duplicate is possible in principle; the table says how often.
// Also the measurement of a worker SIGKILLed mid-load: a coordinator with no model
// server and two workers, 8 clients, 200 requests, one worker's daemon killed after the 40th.
import { completions, generationsOf, runLoad } from '../test/helpers/load.js';
import { SwarmNode, untilView } from '../test/helpers/swarm-node.js';
import { createTestLan } from '../test/helpers/testlan.js';
import { sleep } from '../test/helpers/wait.js';
import type { BenchRow } from './table.js';

const MODEL = 'qwen3:8b';
const REQUESTS = 300;
const KILLS = 3;

/** Run `runs` chaos rounds; returns the lost and duplicated rows. */
export async function benchChaos(runs: number): Promise<BenchRow[]> {
  const lost: number[] = [];
  const duplicated: number[] = [];
  for (let round = 0; round < runs; round++) {
    const lan = await createTestLan({ hosts: 3 });
    const nodes: SwarmNode[] = [];
    try {
      for (const [index, name] of ['one', 'two', 'three'].entries())
        nodes.push(
          await SwarmNode.create(lan, index, {
            name,
            gpuName: 'NVIDIA GeForce RTX 4090',
            models: [MODEL],
            loaded: [MODEL],
            backend: { reply: `from ${name}`, firstTokenDelayMs: 300 },
          }),
        );
      const [a, b, c] = nodes as [SwarmNode, SwarmNode, SwarmNode];
      const token = await a.init();
      await Promise.all([b.join(token), c.join(token)]);
      await Promise.all(nodes.map((node) => node.start()));
      const ids = await Promise.all(nodes.map(async (node) => (await node.nodes()).self));
      await untilView(
        a,
        (view) => ids.slice(1).every((id) => view.nodes.find((node) => node.id === id)?.state === 'alive'),
        20_000,
        'the swarm to form',
      );
      const kills: number[] = [];
      const killed: string[] = [];
      const summary = await runLoad(lan, {
        model: MODEL,
        count: REQUESTS,
        after: 10,
        during: async () => {
          for (let kill = 0; kill < KILLS; kill++) {
            await sleep(500 + Math.random() * 2500);
            const victim = Math.random() < 0.5 ? b : c;
            kills.push(Date.now());
            killed.push(victim === b ? 'two' : 'three');
            await victim.daemon.kill();
            await sleep(500);
            await victim.start();
          }
        },
      });
      lost.push(summary.failed.length + (REQUESTS - summary.served.length - summary.failed.length));
      for (const failure of summary.failed)
        process.stderr.write(
          `chaos run ${round + 1}: request ${failure.index} failed: ${failure.status} ${failure.code} ${failure.message}\n`,
        );
      const lines = await generationsOf(nodes);
      const done = completions(lines);
      const twice = [...done].filter(([, times]) => times > 1).map(([id]) => id);
      duplicated.push(twice.length);
      if (process.env.BENCH_DEBUG) {
        const t0 = kills[0] ?? 0;
        for (const id of twice) {
          process.stderr.write(`chaos run ${round + 1}: ${id} ran to completion twice\n`);
          for (const [i, node] of nodes.entries()) {
            const own = (await node.generations()).filter((line) => line.requestId === id);
            const seen = own.map((line) => [
              line.event,
              line.at - t0,
              line.completed ?? null,
              line.aborted ?? null,
            ]);
            process.stderr.write(
              `  on ${node === a ? 'one' : node === b ? 'two' : 'three'} (${i}): ${JSON.stringify(seen)}\n`,
            );
          }
          process.stderr.write(`  kills: ${JSON.stringify(kills.map((k, i) => [killed[i], k - t0]))}\n`);
        }
      }
    } finally {
      await Promise.all(nodes.map((node) => node.destroy()));
      await lan.destroy();
    }
  }
  const row = (metric: string, values: number[]): BenchRow => ({
    metric,
    runs: values.length,
    p50: String(values.reduce((sum, value) => sum + value, 0)),
    max: String(Math.max(...values)),
    target: '0',
    note: `total over ${values.length} runs of ${REQUESTS} requests, ${KILLS} random SIGKILL+restart each (p50 column: total)`,
  });
  return [row('chaos: requests lost', lost), row('chaos: requests run to completion twice', duplicated)];
}

/** Run `runs` rounds of the mid-load SIGKILL; returns the failed-requests row. */
export async function benchKillMidLoad(runs: number): Promise<BenchRow[]> {
  const failed: number[] = [];
  for (let round = 0; round < runs; round++) {
    const lan = await createTestLan({ hosts: 3 });
    const nodes: SwarmNode[] = [];
    try {
      nodes.push(
        await SwarmNode.create(lan, 0, {
          name: 'hub',
          gpuName: 'none',
          models: [],
          loaded: [],
          noBackend: true,
        }),
      );
      for (const name of ['w1', 'w2'])
        nodes.push(
          await SwarmNode.create(lan, nodes.length, {
            name,
            gpuName: 'NVIDIA GeForce RTX 3090',
            models: [MODEL],
            loaded: [MODEL],
            // About 15 ms a token, ten tokens.
            backend: { reply: 'one two three four five six seven eight nine ten', tokenDelayMs: 15 },
          }),
        );
      const [hub, w1, w2] = nodes as [SwarmNode, SwarmNode, SwarmNode];
      const token = await hub.init();
      await Promise.all([w1.join(token), w2.join(token)]);
      await Promise.all(nodes.map((node) => node.start()));
      const ids = await Promise.all([w1, w2].map(async (node) => (await node.nodes()).self));
      await untilView(
        hub,
        (view) =>
          ids.every((id) => {
            const node = view.nodes.find((entry) => entry.id === id);
            return node?.state === 'alive' && node.models.length > 0;
          }),
        20_000,
        'the hub to see both workers',
      );
      const summary = await runLoad(lan, {
        model: MODEL,
        count: 200,
        parallel: 8,
        after: 40,
        during: () => w1.kill(),
      });
      failed.push(summary.failed.length + (200 - summary.served.length - summary.failed.length));
      for (const failure of summary.failed)
        process.stderr.write(
          `kill mid-load run ${round + 1}: request ${failure.index} failed: ${failure.message}\n`,
        );
    } finally {
      await Promise.all(nodes.map((node) => node.destroy()));
      await lan.destroy();
    }
  }
  return [
    {
      metric: 'SIGKILL mid-load: failed requests (must be 0)',
      runs: failed.length,
      p50: String(failed.reduce((sum, value) => sum + value, 0)),
      max: String(Math.max(...failed)),
      target: '0',
      note: 'total over the runs (p50 column): hub + 2 workers, 8 clients, 200 requests, a worker killed after the 40th',
    },
  ];
}
