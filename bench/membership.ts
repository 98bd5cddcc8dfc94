// Membership timings in a real test LAN, read from the daemons' own `stateSince`:
// how long until two fresh nodes list each other alive, until a third new node serves a request
// routed to it by another node's gateway, until a SIGKILLed node is dead, a SIGTERMed node
// left, and a restarted node alive again and serving requests routed to it by a peer, on an
// idle box and with every core held busy by a CPU hog.

import { cpus } from 'node:os';
import type { NodesJson } from '../src/cli/json.js';
import { SwarmNode, untilView } from '../test/helpers/swarm-node.js';
import { createTestLan, type TestLan } from '../test/helpers/testlan.js';
import { type BenchRow, median, ms } from './table.js';

function waitState(observer: SwarmNode, id: string, state: string, boundMs: number): Promise<NodesJson> {
  return untilView(
    observer,
    (view) => view.nodes.find((node) => node.id === id)?.state === state,
    boundMs,
    `${id} to become ${state}`,
  );
}

function since(view: NodesJson, id: string): number {
  return view.nodes.find((node) => node.id === id)!.stateSince;
}

/**
 * Start polling host 0's gateway for `model` (every 20 ms) from inside that host; the returned
 * returned `at` resolves with the wall time of the first 200 answer (wrapped: an async function
 * returning a bare promise would wait for it).
 */
async function firstServed(lan: TestLan, model: string): Promise<{ at: Promise<number> }> {
  const script = `
    console.log('polling');
    const until = Date.now() + 30000;
    let last = '';
    for (;;) {
      try {
        const res = await fetch('http://127.0.0.1:8765/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: ${JSON.stringify(model)}, messages: [{ role: 'user', content: 'hi' }] }),
        });
        const text = await res.text();
        if (res.status === 200) { console.log(Date.now()); break; }
        last = res.status + ' ' + text.slice(0, 200);
      } catch (err) { last = String(err); }
      if (Date.now() > until) { console.log('timeout: ' + last); break; }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }`;
  const child = lan.exec(0, process.execPath, ['--input-type=module', '-e', script]);
  let out = '';
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('polling')) resolve();
    }),
  );
  const at = new Promise<number>((resolve, reject) =>
    child.once('exit', () => {
      const at = Number(out.trim().split('\n').at(-1));
      if (Number.isFinite(at)) resolve(at);
      else reject(new Error(`the new node never served a request: ${out}`));
    }),
  );
  return { at };
}

/** One busy loop per core, inside host `index`, until the returned function stops them. */
function hogEveryCore(lan: TestLan, index: number): () => void {
  const hogs = cpus().map(() => lan.exec(index, process.execPath, ['-e', 'for (;;) {}']));
  return () => {
    for (const hog of hogs) hog.kill('SIGKILL');
  };
}

/** SIGKILL `node`, then spawn it again: ms from the spawn until host 0's gateway served its model. */
async function restartToRoutable(lan: TestLan, node: SwarmNode, model: string): Promise<number> {
  await node.kill();
  const served = await firstServed(lan, model);
  const spawned = Date.now();
  await node.start();
  return (await served.at) - spawned;
}

/** Run `runs` rounds on a fresh 3-host LAN; returns table rows. */
export async function benchMembership(runs: number): Promise<BenchRow[]> {
  const discovery: number[] = [];
  const dead: number[] = [];
  const left: number[] = [];
  const rejoin: number[] = [];
  const routable: number[] = [];
  const restartIdle: number[] = [];
  const restartBusy: number[] = [];
  for (let round = 0; round < runs; round++) {
    const lan = await createTestLan({ hosts: 3 });
    const nodes: SwarmNode[] = [];
    try {
      for (const [index, name] of ['one', 'two', 'three'].entries()) {
        nodes.push(
          await SwarmNode.create(lan, index, {
            name,
            gpuName: 'NVIDIA GeForce RTX 4090',
            // Only the third node has `only-three:1b`: a request for it proves that node routable.
            models: index === 2 ? ['m:1b', 'only-three:1b'] : ['m:1b'],
            loaded: index === 2 ? ['only-three:1b'] : [],
          }),
        );
      }
      const [a, b, c] = nodes as [SwarmNode, SwarmNode, SwarmNode];
      const token = await a.init();
      await Promise.all([b.join(token), c.join(token)]);
      const spawned = Date.now();
      await Promise.all([a.start(), b.start()]);
      const [idA, idB] = await Promise.all([a, b].map(async (node) => (await node.nodes()).self));
      const views = await Promise.all([
        waitState(a, idB!, 'alive', 10_000),
        waitState(b, idA!, 'alive', 10_000),
      ]);
      discovery.push(Math.max(since(views[0], idB!), since(views[1], idA!)) - spawned);

      const served = await firstServed(lan, 'only-three:1b');
      const newSpawned = Date.now();
      await c.start();
      routable.push((await served.at) - newSpawned);
      const ids = [idA!, idB!, (await c.nodes()).self];

      let t = Date.now();
      await c.daemon.kill();
      dead.push(since(await waitState(a, ids[2]!, 'dead', 15_000), ids[2]!) - t);

      t = Date.now();
      await c.start();
      rejoin.push(since(await waitState(a, ids[2]!, 'alive', 10_000), ids[2]!) - t);

      restartIdle.push(await restartToRoutable(lan, c, 'only-three:1b'));
      const stopHogs = hogEveryCore(lan, 2);
      try {
        restartBusy.push(await restartToRoutable(lan, c, 'only-three:1b'));
      } finally {
        stopHogs();
      }

      t = Date.now();
      await b.daemon.stop();
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
    row(
      'new node serves a request routed by a peer (from spawn)',
      routable,
      '≤ 2 s',
      'includes Node start-up, mDNS, RegisterNode and the first backend probe',
    ),
    row('SIGKILLed node marked dead', dead, '≤ 3 s', 'memberlist 5–7 s, exo 30 s, GPUStack 150 s'),
    row('restarted node alive again (from spawn)', rejoin, '≤ 2 s', 'new incarnation, same id'),
    row(
      'restart to routable, idle (SIGKILL, spawn → a peer serves a request on it)',
      restartIdle,
      '≤ 2 s',
      'the request waits while the node restarts',
    ),
    row(
      'restart to routable, all cores busy (same, a CPU hog per core)',
      restartBusy,
      '≤ 5 s',
      'the request waits while the node restarts',
    ),
    row('SIGTERMed node marked left', left, '≤ 0.5 s', 'goodbye over gRPC, no dead timeout'),
  ];
}
