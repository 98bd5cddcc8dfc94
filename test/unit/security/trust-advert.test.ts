// SwarmTrust signs our advert with two proofs (core `pf`, whole record `sp`) and verifies both.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Advert, decodeTxt, encodeTxt, TXT_BUDGET_BYTES, txtBytes } from '../../../src/discovery/txt.js';
import { initSwarm } from '../../../src/security/store.js';
import { SwarmTrust } from '../../../src/security/trust.js';
import { silentLogger } from '../../../src/util/logger.js';

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
const dirs: string[] = [];
const trusts: SwarmTrust[] = [];

async function trustFor(nodeId: string, paired: boolean): Promise<SwarmTrust> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmd-trust-'));
  dirs.push(dir);
  if (paired) await initSwarm(dir, nodeId);
  const trust = new SwarmTrust({ logger: silentLogger }, { dataDir: dir, nodeId });
  await trust.start();
  trusts.push(trust);
  return trust;
}

const advertOf = (id: string, models: string[]): Advert => ({
  id,
  protocol: { major: 1, minor: 0 },
  endpoints: Array.from({ length: 30 }, (_, i) => `[2001:db8::${i.toString(16)}]:8766`),
  proof: null,
  summary: {
    state: 'active',
    gpuCount: 1,
    gpus: [{ name: 'NVIDIA GeForce RTX 4090', count: 1 }],
    vramTotalMiB: 24_564,
    vramFreeMiB: 22_528,
    models,
    modelCount: models.length,
  },
});

let ours: SwarmTrust;
let other: SwarmTrust;
let unpaired: SwarmTrust;

beforeAll(async () => {
  ours = await trustFor(A, true);
  other = await trustFor(B, true); // a swarm of its own
  unpaired = await trustFor(B, false);
});

afterAll(async () => {
  for (const trust of trusts) trust.stop();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('SwarmTrust advert proofs', () => {
  it('signs what is sent: both proofs verify after encoding and decoding, even when cut to fit', () => {
    const many = Array.from({ length: 60 }, (_, i) => `org/a-rather-long-model-name-${i}:q4_K_M`);
    const signed = ours.signAdvert(advertOf(A, many));
    expect(signed.proof).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(signed.summaryProof).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const txt = encodeTxt(signed);
    expect(txtBytes(txt)).toBeLessThanOrEqual(TXT_BUDGET_BYTES);
    const received = decodeTxt(txt);
    expect(received.summary!.models.length).toBeLessThan(many.length);
    expect(received.summary!.modelCount).toBe(many.length);
    expect(ours.judgeAdvert(received)).toEqual({ kind: 'member' });
    expect(ours.verifiedSummary(received)).toEqual(received.summary);
  });

  it('refuses a summary changed on the way, while the core proof still makes a member', () => {
    const received = decodeTxt(encodeTxt(ours.signAdvert(advertOf(A, ['qwen3:8b']))));
    const forged: Advert = { ...received, summary: { ...received.summary!, state: 'paused' } };
    expect(ours.judgeAdvert(forged)).toEqual({ kind: 'member' });
    expect(ours.verifiedSummary(forged)).toBeNull();
    expect(ours.verifiedSummary({ ...received, summaryProof: null })).toBeNull();
  });

  it('trusts no summary from another swarm, nor from an unpaired node (which signs nothing)', () => {
    const theirs = decodeTxt(encodeTxt(other.signAdvert(advertOf(B, ['m']))));
    expect(ours.judgeAdvert(theirs)).toEqual({ kind: 'stranger' });
    expect(ours.verifiedSummary(theirs)).toBeNull();
    const bare = unpaired.signAdvert(advertOf(B, ['m']));
    expect(bare).toMatchObject({ proof: null, summaryProof: null, swarm: null, epoch: null });
    const txt = encodeTxt(bare);
    expect(txt).not.toHaveProperty('pf');
    expect(txt).not.toHaveProperty('sp');
    expect(txt['lm']).toBe('m'); // the summary is still there for browsers on the LAN
    expect(ours.verifiedSummary(decodeTxt(txt))).toBeNull();
  });
});
