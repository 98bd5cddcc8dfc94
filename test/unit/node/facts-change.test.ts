import { describe, expect, it } from 'vitest';
import { factsChanged } from '../../../src/node/facts-change.js';
import type { GpuInfo, NodeFacts } from '../../../src/node/types.js';
import { RTX_4090 } from './helpers.js';

const GIB = 1024 ** 3;

const gpu = RTX_4090;

const base: NodeFacts = {
  gpus: [gpu],
  system: {
    hostname: 'box1',
    platform: 'linux',
    distro: 'Ubuntu',
    release: '24.04',
    arch: 'x64',
    cpuModel: 'AMD Ryzen 9 7950X',
    cpuCores: 32,
    cpuLoadPct: 12,
    memTotalBytes: 64 * GIB,
    memAvailableBytes: 40 * GIB,
  },
};

function withGpu(patch: Partial<GpuInfo>): NodeFacts {
  return { ...base, gpus: [{ ...gpu, ...patch }] };
}

function withSystem(patch: Partial<NodeFacts['system']>): NodeFacts {
  return { ...base, system: { ...base.system, ...patch } };
}

describe('factsChanged', () => {
  it('fires on VRAM used/free changes and on a GPU appearing or vanishing', () => {
    expect(factsChanged(base, withGpu({ memoryUsedMiB: 9000, memoryFreeMiB: 15144 }))).toBe(true);
    expect(factsChanged(base, { ...base, gpus: [gpu, { ...gpu, index: 1, uuid: 'GPU-other' }] })).toBe(true);
    expect(factsChanged(base, { ...base, gpus: [] })).toBe(true);
  });

  it('ignores utilization, temperature and power, which move on every read', () => {
    expect(factsChanged(base, withGpu({ utilizationPct: 99, temperatureC: 80, powerW: 400 }))).toBe(false);
  });

  it('ignores small CPU load and RAM moves but not large ones', () => {
    expect(
      factsChanged(base, withSystem({ cpuLoadPct: 13.5, memAvailableBytes: 40 * GIB + 100 * 1024 ** 2 })),
    ).toBe(false);
    expect(factsChanged(base, withSystem({ cpuLoadPct: 60 }))).toBe(true);
    expect(factsChanged(base, withSystem({ memAvailableBytes: 20 * GIB }))).toBe(true);
  });

  it('is false for identical facts', () => {
    expect(factsChanged(base, structuredClone(base))).toBe(false);
  });
});
