// avahi, an mDNS stack swarmd shares no code with, reads a real swarmd's advert inside a test
// LAN: every field of the capability summary, an update when a model loads (announced in place,
// no goodbye), and the goodbye on SIGTERM. avahi runs one at a time (test/helpers/avahi.ts);
// test/e2e runs its files one after another.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTxt } from '../../src/discovery/txt.js';
import { SwarmTrust } from '../../src/security/trust.js';
import { silentLogger } from '../../src/util/logger.js';
import { type Avahi, type ResolvedService, startAvahi } from '../helpers/avahi.js';
import { SwarmNode } from '../helpers/swarm-node.js';
import { createTestLan, type TestLan } from '../helpers/testlan.js';

let lan: TestLan;
let node: SwarmNode;
let avahi: Avahi | undefined;
let id = '';

beforeAll(async () => {
  lan = await createTestLan({ hosts: 2 });
  node = await SwarmNode.create(lan, 0, {
    name: 'alpha',
    gpuName: 'NVIDIA GeForce RTX 4090',
    models: ['qwen3:8b', 'gemma3:4b'],
    loaded: ['qwen3:8b'],
  });
  await node.init();
  avahi = await startAvahi(lan, 1);
  await node.start();
  id = (await node.nodes()).self;
});

afterAll(async () => {
  await avahi?.stop();
  await node?.destroy();
  await lan?.destroy();
});

/** Resolve with avahi until our node's TXT satisfies `check`; returns it. */
async function until(check: (txt: Record<string, string>) => boolean, boundMs: number, what: string) {
  const start = Date.now();
  let last: ResolvedService | undefined;
  while (Date.now() - start < boundMs) {
    last = (await avahi!.resolve()).find((service) => service.name === id);
    if (last && check(last.txt)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`avahi did not see ${what} within ${boundMs} ms; last: ${JSON.stringify(last)}`);
}

describe('avahi and a swarmd advert', () => {
  it('resolves the capability summary, signed by the swarm', async () => {
    const seen = await until((txt) => txt['lm'] === 'qwen3:8b', 10_000, 'the advert');
    expect(seen).toMatchObject({ address: lan.hosts[0]!.address, port: 8766 });
    expect(seen.txt).toMatchObject({
      id,
      pv: '1.0',
      ep: `${lan.hosts[0]!.address}:8766`,
      se: '1',
      st: 'active',
      gc: '1',
      gn: '1x NVIDIA GeForce RTX 4090',
      vt: '24564', // the fake nvidia-smi: 24564 MiB total, 22910 MiB free
      vf: '22528', // 22 GiB: free VRAM is advertised in whole GiB
      lc: '1',
      lm: 'qwen3:8b',
    });
    expect(seen.txt['pf']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(seen.txt['sp']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // What avahi received verifies with the swarm's key: the core proof, and the one over it all.
    const trust = new SwarmTrust({ logger: silentLogger }, { dataDir: node.dataDir, nodeId: id });
    await trust.start();
    try {
      const advert = decodeTxt(seen.txt);
      expect(trust.judgeAdvert(advert)).toEqual({ kind: 'member' });
      expect(trust.verifiedSummary(advert)).toMatchObject({ models: ['qwen3:8b'], state: 'active' });
    } finally {
      trust.stop();
    }
  });

  it('sees a model load and a pause as updates in place, with no goodbye in between', async () => {
    const watch = avahi!.watch();
    await watch.waitFor((line) => line.kind === '+' && line.name === id, 5000);
    await node.loadModel('gemma3:4b');
    // Paced: at most one update per 10 s, so this may wait for the last one's interval to end.
    const seen = await until((txt) => txt['lc'] === '2', 20_000, 'the loaded model');
    expect(seen.txt).toMatchObject({ lm: 'gemma3:4b,qwen3:8b', lc: '2', st: 'active' });
    // Pausing the box is news too.
    expect((await node.swarmctl(['pause'])).code).toBe(0);
    const paused = await until((txt) => txt['st'] === 'paused', 20_000, 'the pause');
    expect(paused.txt).toMatchObject({ lc: '2', st: 'paused' });
    expect(watch.lines.filter((line) => line.kind === '-')).toEqual([]);
  });

  it('drops the node within 2 s of SIGTERM (the goodbye is flushed before exit)', async () => {
    const watch = avahi!.watch();
    await watch.waitFor((line) => line.kind === '+' && line.name === id, 5000);
    const sent = Date.now();
    await node.daemon.stop();
    const gone = await watch.waitFor((line) => line.kind === '-' && line.name === id, 3000);
    console.log(`avahi dropped the node ${gone.at - sent} ms after SIGTERM`);
    expect(gone.at - sent).toBeLessThan(2000);
  });
});
