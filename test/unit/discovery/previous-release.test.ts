// Rolling upgrades: the previous release's TXT decoder, advert judge and peer tracker (kept
// verbatim in test/fixtures/previous-release/) against this release's adverts, and back.
// test/integration/discovery/mixed-release.test.ts does the same over real mDNS.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Advert, decodeTxt, encodeTxt, TXT_BUDGET_BYTES, txtBytes } from '../../../src/discovery/txt.js';
import { initSwarm, joinSwarm } from '../../../src/security/store.js';
import { SwarmTrust } from '../../../src/security/trust.js';
import { silentLogger } from '../../../src/util/logger.js';
import { AdvertTracker as PreviousTracker } from '../../fixtures/previous-release/peer-events.js';
import { previousJudgeAdvert, previousSignAdvert } from '../../fixtures/previous-release/trust.js';
import {
  decodeTxt as previousDecodeTxt,
  encodeTxt as previousEncodeTxt,
} from '../../fixtures/previous-release/txt.js';

const NEW = 'aaaaaaaaaaaaaaaa';
const OLD = 'bbbbbbbbbbbbbbbb';
const dirs: string[] = [];
let newTrust: SwarmTrust;
let oldTrust: SwarmTrust;

beforeAll(async () => {
  const [a, b] = await Promise.all([0, 1].map(() => mkdtemp(join(tmpdir(), 'swarmd-mixed-'))));
  dirs.push(a!, b!);
  const { token } = await initSwarm(a!, NEW);
  await joinSwarm(b!, OLD, token);
  newTrust = new SwarmTrust({ logger: silentLogger }, { dataDir: a!, nodeId: NEW });
  oldTrust = new SwarmTrust({ logger: silentLogger }, { dataDir: b!, nodeId: OLD });
  await Promise.all([newTrust.start(), oldTrust.start()]);
});

afterAll(async () => {
  newTrust.stop();
  oldTrust.stop();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

// The biggest advert this release sends: every key, long names cut to fit.
function newAdvert(models: string[]): Record<string, string> {
  return encodeTxt(
    newTrust.signAdvert({
      id: NEW,
      protocol: { major: 1, minor: 0 },
      endpoints: Array.from({ length: 30 }, (_, i) => `[2001:db8:1234:5678:9abc:def0:1234:${i}]:8766`),
      proof: null,
      summary: {
        state: 'active',
        gpuCount: 8,
        gpus: Array.from({ length: 8 }, (_, i) => ({ name: `NVIDIA H100 80GB HBM3 board ${i}`, count: 1 })),
        vramTotalMiB: 655_360,
        vramFreeMiB: 600_064,
        models,
        modelCount: models.length,
      },
    }),
  );
}

const manyModels = Array.from({ length: 80 }, (_, i) => `hf.co/unsloth/some-model-${i}-GGUF:Q4_K_M`);

describe('mixed releases', () => {
  it("a node of the previous release decodes this release's biggest advert and judges it a member", () => {
    const txt = newAdvert(manyModels);
    expect(txtBytes(txt)).toBeLessThanOrEqual(TXT_BUDGET_BYTES);
    const creds = oldTrust.current()!;
    for (const form of [txt, Object.entries(txt).map(([k, v]) => Buffer.from(`${k}=${v}`))]) {
      const seen = previousDecodeTxt(form);
      expect(seen).toEqual({
        id: NEW,
        protocol: { major: 1, minor: 0 },
        endpoints: txt['ep']!.split(','),
        proof: txt['pf'],
        swarm: creds.swarmId,
        epoch: creds.epoch,
      });
      expect(previousJudgeAdvert(creds, seen)).toEqual({ kind: 'member' });
    }
  });

  it('a node of the previous release takes a summary update as no news: no down, no up', () => {
    const invalid: string[] = [];
    const tracker = new PreviousTracker({ ownId: OLD, onInvalid: (_, reason) => invalid.push(reason) });
    const first = tracker.seen({ name: NEW, txt: newAdvert(['qwen3:8b']) });
    expect(first?.type).toBe('up');
    expect(tracker.seen({ name: NEW, txt: newAdvert(['qwen3:8b', 'gemma3:4b']) })).toBeNull();
    expect(tracker.seen({ name: NEW, txt: newAdvert(manyModels) })).toBeNull();
    expect(invalid).toEqual([]);
  });

  it("this release reads a previous release's advert: a member, without a summary", () => {
    const creds = oldTrust.current()!;
    const old: Advert = previousSignAdvert(creds, {
      id: OLD,
      protocol: { major: 1, minor: 0 },
      endpoints: ['10.203.0.2:8766'],
      proof: null,
    });
    const seen = decodeTxt(previousEncodeTxt(old));
    expect(seen).toEqual(old);
    expect(seen.summary).toBeUndefined();
    expect(newTrust.judgeAdvert(seen)).toEqual({ kind: 'member' });
    expect(newTrust.verifiedSummary(seen)).toBeNull();
  });
});
