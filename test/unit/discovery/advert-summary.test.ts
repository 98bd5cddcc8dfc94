import { describe, expect, it } from 'vitest';
import type { BackendStatus } from '../../../src/backends/types.js';
import { buildSummary, coarseFreeMiB } from '../../../src/discovery/advert-summary.js';
import type { GpuInfo } from '../../../src/node/types.js';

function gpu(index: number, name: string, totalMiB: number | null, freeMiB: number | null): GpuInfo {
  return {
    index,
    vendor: 'nvidia',
    name,
    uuid: null,
    memoryTotalMiB: totalMiB,
    memoryUsedMiB: null,
    memoryFreeMiB: freeMiB,
    utilizationPct: null,
    temperatureC: null,
    powerW: null,
    unifiedMemory: false,
  };
}

function backend(id: string, healthy: boolean, models: [string, boolean][]): BackendStatus {
  return {
    id,
    kind: 'ollama',
    url: 'http://127.0.0.1:11434',
    healthy,
    version: null,
    error: null,
    probedAt: 0,
    models: models.map(([name, loaded]) => ({
      id: name,
      loaded,
      contextLength: null,
      maxConcurrency: 1,
      sizeVramBytes: null,
    })),
  };
}

const GIB = 1024;

describe('buildSummary', () => {
  it('counts GPUs by name in index order, sums VRAM, lists loaded models of healthy servers once', () => {
    const summary = buildSummary({
      gpus: [
        gpu(2, 'NVIDIA RTX A4000', 16 * GIB, 10 * GIB + 300),
        gpu(0, 'NVIDIA GeForce RTX 3090', 24 * GIB, 2 * GIB),
        gpu(1, 'NVIDIA GeForce RTX 3090', 24 * GIB, 20 * GIB),
      ],
      backends: [
        backend('ollama@a', true, [
          ['qwen3:8b', true],
          ['llama3:70b', false],
        ]),
        backend('llamacpp@b', true, [
          ['qwen3:8b', true],
          ['gemma3:4b', true],
        ]),
        backend('vllm@c', false, [['down:1b', true]]),
      ],
      active: true,
    });
    expect(summary).toEqual({
      state: 'active',
      gpuCount: 3,
      gpus: [
        { name: 'NVIDIA GeForce RTX 3090', count: 2 },
        { name: 'NVIDIA RTX A4000', count: 1 },
      ],
      vramTotalMiB: 64 * GIB,
      vramFreeMiB: 32 * GIB,
      models: ['gemma3:4b', 'qwen3:8b'],
      modelCount: 2,
    });
  });

  it('says paused when the node takes no work, and leaves VRAM out when no GPU reports it', () => {
    const summary = buildSummary({ gpus: [gpu(0, '', null, null)], backends: [], active: false });
    expect(summary).toMatchObject({
      state: 'paused',
      gpuCount: 1,
      gpus: [{ name: 'unnamed GPU', count: 1 }],
      vramTotalMiB: null,
      vramFreeMiB: null,
      models: [],
      modelCount: 0,
    });
  });

  it('keeps the free VRAM it advertised last while the real value moves little', () => {
    const input = (freeMiB: number) => ({
      gpus: [gpu(0, 'g', 24 * GIB, freeMiB)],
      backends: [],
      active: true,
    });
    const first = buildSummary(input(10 * GIB + 200));
    expect(first.vramFreeMiB).toBe(10 * GIB);
    // Just over the next step, and just under this one: no change.
    expect(buildSummary(input(11 * GIB + 100), first).vramFreeMiB).toBe(10 * GIB);
    expect(buildSummary(input(10 * GIB - 100), first).vramFreeMiB).toBe(10 * GIB);
    // Well past either side: the new step.
    expect(buildSummary(input(11 * GIB + 600), first).vramFreeMiB).toBe(11 * GIB);
    expect(buildSummary(input(9 * GIB + 400), first).vramFreeMiB).toBe(9 * GIB);
  });
});

describe('coarseFreeMiB', () => {
  it('rounds down to whole GiB and never goes below zero', () => {
    expect(coarseFreeMiB(1023, null)).toBe(0);
    expect(coarseFreeMiB(1024, null)).toBe(1024);
    expect(coarseFreeMiB(-5, null)).toBe(0);
  });

  it('does not flap around a step boundary', () => {
    let shown = coarseFreeMiB(8 * GIB + 10, null);
    const seen = new Set<number>();
    for (const free of [8 * GIB - 10, 8 * GIB + 10, 8 * GIB - 300, 8 * GIB + 5, 8 * GIB - 1]) {
      shown = coarseFreeMiB(free, shown);
      seen.add(shown);
    }
    expect([...seen]).toEqual([8 * GIB]);
  });
});
