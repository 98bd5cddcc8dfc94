import { describe, expect, it } from 'vitest';
import { parseNvidiaSmiCsv, parseNvidiaSmiOutput } from '../../../src/node/nvidia-smi.js';
import { RTX_4090, readFixture } from './helpers.js';

describe('parseNvidiaSmiCsv', () => {
  it('reads every field of one RTX 4090 line', async () => {
    expect(parseNvidiaSmiCsv(await readFixture('rtx4090.csv'))).toEqual([RTX_4090]);
  });

  it('reads two H100s in index order with their own values', async () => {
    const gpus = parseNvidiaSmiCsv(await readFixture('h100x2.csv'));
    expect(gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(gpus.map((g) => g.uuid)).toEqual([
      'GPU-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
      'GPU-1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809',
    ]);
    expect(gpus.map((g) => [g.memoryUsedMiB, g.memoryFreeMiB, g.powerW])).toEqual([
      [70210, 10797, 512.34],
      [4, 81003, 71.02],
    ]);
  });

  it('maps [N/A] to null and flags GB10 as unified memory', async () => {
    const [gpu] = parseNvidiaSmiCsv(await readFixture('gb10.csv'));
    expect(gpu).toMatchObject({
      name: 'NVIDIA GB10',
      memoryTotalMiB: null,
      memoryUsedMiB: null,
      memoryFreeMiB: null,
      utilizationPct: 3,
      temperatureC: 40,
      powerW: null,
      unifiedMemory: true,
    });
  });

  it('maps [Not Supported] from older drivers to null without flagging unified memory', async () => {
    const [gpu] = parseNvidiaSmiCsv(await readFixture('not-supported.csv'));
    expect(gpu).toMatchObject({
      name: 'GeForce GTX 1080',
      memoryTotalMiB: 8119,
      utilizationPct: null,
      powerW: null,
      unifiedMemory: false,
    });
  });

  it('maps [Unknown Error] and [Insufficient Permissions] to null', async () => {
    const [gpu] = parseNvidiaSmiCsv(await readFixture('bracket-errors.csv'));
    expect(gpu).toMatchObject({
      memoryTotalMiB: 49140,
      memoryUsedMiB: null,
      memoryFreeMiB: null,
      powerW: 25.1,
    });
  });

  it('accepts \\r\\n line ends', async () => {
    const text = await readFixture('crlf.csv');
    expect(text).toContain('\r\n');
    const gpus = parseNvidiaSmiCsv(text);
    expect(gpus.map((g) => g.name)).toEqual(['NVIDIA GeForce RTX 3090', 'NVIDIA GeForce RTX 3060']);
    expect(gpus.map((g) => g.powerW)).toEqual([29.87, null]);
  });

  it('ignores blank lines', async () => {
    const { gpus, skipped } = parseNvidiaSmiOutput(await readFixture('blank-lines.csv'));
    expect(gpus.map((g) => g.uuid)).toEqual([
      'GPU-01234567-89ab-cdef-0123-456789abcdef',
      'GPU-fedcba98-7654-3210-fedc-ba9876543210',
    ]);
    expect(skipped).toEqual([]);
  });

  it('skips malformed lines and keeps the good ones around them', async () => {
    const { gpus, skipped } = parseNvidiaSmiOutput(await readFixture('malformed.csv'));
    expect(gpus.map((g) => g.index)).toEqual([0, 3]);
    expect(gpus[1]?.memoryUsedMiB).toBe(100);
    expect(skipped).toHaveLength(3);
  });

  it('keeps a comma inside the name', async () => {
    const [gpu] = parseNvidiaSmiCsv(await readFixture('comma-name.csv'));
    expect(gpu).toMatchObject({
      name: 'NVIDIA Tesla V100-SXM2-16GB, Rev 2',
      uuid: 'GPU-c0ffee00-1234-5678-9abc-def012345678',
      memoryTotalMiB: 16160,
      powerW: 42,
    });
  });

  it('skips a header line and reads nothing from empty output', () => {
    expect(parseNvidiaSmiOutput('')).toEqual({ gpus: [], skipped: [] });
    const header =
      'index, name, uuid, memory.total [MiB], memory.used [MiB], memory.free [MiB], utilization.gpu [%], temperature.gpu, power.draw [W]';
    expect(parseNvidiaSmiOutput(header).skipped).toEqual([header]);
  });
});
