// How soon a browser on the LAN sees swarmd's advert change: a real swarmd in a test LAN, a
// model loaded on its fake Ollama, and a bonjour-service browser in another namespace waiting
// for the TXT record that lists it (announced in place, RFC 6762 §8.4).
import { SwarmNode } from '../test/helpers/swarm-node.js';
import { createTestLan, type TestLan } from '../test/helpers/testlan.js';
import { type BenchRow, median, ms } from './table.js';

// swarmd announces a changed advert at most this often (src/discovery/mdns.ts): each run waits
// it out, so it measures the announcement, not the pacing.
const MIN_UPDATE_INTERVAL_MS = 10_000;
// How often swarmd probes its backends here (5 s by default): part of what each run measures.
const PROBE_INTERVAL_MS = 100;

/** A browser in host `index` printing `{lc, t}` whenever the node's TXT record changes. */
function browser(lan: TestLan, index: number, nodeId: string) {
  const script = `
    import { Bonjour } from 'bonjour-service';
    const browser = new Bonjour().find({ type: 'llmswarm' });
    const seen = (service) => {
      if (service.name !== ${JSON.stringify(nodeId)}) return;
      console.log(JSON.stringify({ lc: Number(service.txt?.lc), t: Date.now() }));
    };
    browser.on('up', seen);
    browser.on('txt-update', seen);`;
  const child = lan.exec(index, process.execPath, ['--input-type=module', '-e', script]);
  const lines: { lc: number; t: number }[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part));
  });
  const until = async (lc: number, boundMs: number): Promise<number> => {
    const start = Date.now();
    while (Date.now() - start < boundMs) {
      const line = lines.find((entry) => entry.lc === lc);
      if (line) return line.t;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`the browser never saw ${lc} loaded models: ${JSON.stringify(lines)}`);
  };
  /** When the browser last saw the record change. */
  const lastAt = (): number => lines.at(-1)?.t ?? 0;
  return { until, lastAt };
}

/** Run `runs` model loads on one node of a fresh 2-host LAN; returns the table row. */
export async function benchAdvert(runs: number): Promise<BenchRow[]> {
  const seen: number[] = [];
  const lan = await createTestLan({ hosts: 2 });
  const models = Array.from({ length: runs }, (_, i) => `m${i}:1b`);
  const node = await SwarmNode.create(lan, 0, {
    name: 'one',
    gpuName: 'NVIDIA GeForce RTX 4090',
    models,
    loaded: [],
    flags: ['--backends.probeInterval', `${PROBE_INTERVAL_MS}ms`],
  });
  try {
    await node.init();
    await node.start();
    const nodeId = (await node.nodes()).self;
    const watch = browser(lan, 1, nodeId);
    await watch.until(0, 10_000);
    for (const [i, model] of models.entries()) {
      // Past the pacing interval of the last update (the node may have sent one since start).
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(1000, watch.lastAt() + MIN_UPDATE_INTERVAL_MS + 500 - Date.now())),
      );
      const loaded = await node.loadModel(model);
      seen.push((await watch.until(i + 1, MIN_UPDATE_INTERVAL_MS + 5000)) - loaded);
    }
  } finally {
    await node.destroy();
    await lan.destroy();
  }
  return [
    {
      metric: 'Advert update seen by a browser, in ms',
      runs: seen.length,
      p50: ms(median(seen)),
      max: ms(Math.max(...seen)),
      target: '≤ 0.5 s',
      note: `from a model load; includes swarmd's backend probe (every ${PROBE_INTERVAL_MS} ms here, 5 s by default)`,
    },
  ];
}
