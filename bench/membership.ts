// Membership timings in a real test LAN, read from the daemons' own `stateSince`:
// how long until two fresh nodes list each other alive, until a SIGKILLed node is
// dead, a SIGTERMed node left, and a restarted node alive again.
import type { NodesJson } from '../src/cli/json.js';
import { SwarmNode } from '../test/helpers/swarm-node.js';
import { createTestLan } from '../test/helpers/testlan.js';
import { type BenchRow, median, ms } from './table.js';

async function waitState(
  observer: SwarmNode,
  id: string,
  state: string,
  boundMs: number,
): Promise<NodesJson> {
  const start = Date.now();
  while (Date.now() - start < boundMs) {
    const view = await observer.nodes();
    if (view.nodes.find((node) => node.id === id)?.state === state) return view;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${id} never became ${state}`);
}

function since(view: NodesJson, id: string): number {
  return view.nodes.find((node) => node.id === id)!.stateSince;
}

/** Run `runs` rounds on a fresh 3-host LAN; returns table rows. */
export async function benchMembership(runs: number): Promise<BenchRow[]> {
  const discovery: number[] = [];
  const dead: number[] = [];
  const left: number[] = [];
  const rejoin: number[] = [];
  for (let round = 0; round < runs; round++) {
    const lan = await createTestLan({ hosts: 3 });
    const nodes: SwarmNode[] = [];
    try {
      for (const [index, name] of ['one', 'two', 'three'].entries()) {
        nodes.push(
          await SwarmNode.create(lan, index, {
            name,
            gpuName: 'NVIDIA GeForce RTX 4090',
            models: ['m'],
            loaded: [],
          }),
        );
      }
      const [a, b, c] = nodes as [SwarmNode, SwarmNode, SwarmNode];
      const token = await a.init();
      await Promise.all([b.join(token), c.join(token)]);
      const spawned = Date.now();
      await Promise.all([a.start(), b.start(), c.start()]);
      const ids = await Promise.all(nodes.map(async (node) => (await node.nodes()).self));
      const views = await Promise.all([
        waitState(a, ids[1]!, 'alive', 10_000),
        waitState(b, ids[0]!, 'alive', 10_000),
      ]);
      discovery.push(Math.max(since(views[0], ids[1]!), since(views[1], ids[0]!)) - spawned);

      let t = Date.now();
      await c.signal('SIGKILL');
      dead.push(since(await waitState(a, ids[2]!, 'dead', 15_000), ids[2]!) - t);

      t = Date.now();
      await c.start();
      rejoin.push(since(await waitState(a, ids[2]!, 'alive', 10_000), ids[2]!) - t);

      t = Date.now();
      await b.signal('SIGTERM');
      left.push(since(await waitState(a, ids[1]!, 'left', 10_000), ids[1]!) - t);
    } finally {
      await Promise.all(nodes.map((node) => node.destroy()));
      await lan.destroy();
    }
  }
  const row = (metric: string, values: number[], target: string, note: string): BenchRow => ({
    metric,
    runs: values.length,
    p50: ms(median(values)),
    max: ms(Math.max(...values)),
    target,
    note,
  });
  return [
    row(
      'two fresh nodes list each other alive (from process spawn)',
      discovery,
      '≈ 2 s',
      'includes Node start-up and mDNS probing',
    ),
    row('SIGKILLed node marked dead', dead, '≤ 3 s', 'memberlist 5–7 s, exo 30 s, GPUStack 150 s'),
    row('restarted node alive again (from spawn)', rejoin, '≤ 2 s', 'new incarnation, same id'),
    row('SIGTERMed node marked left', left, '≤ 0.5 s', 'goodbye over gRPC, no dead timeout'),
  ];
}
