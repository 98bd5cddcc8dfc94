import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readSysfsGpus } from '../../../src/node/sysfs-gpus.js';
import { gpusFromDarwinControllers, readNonNvidiaGpus, readSystemFacts } from '../../../src/node/system.js';
import { useTempDir } from './helpers.js';

const MIB = 1024 * 1024;

// Lay out files relative to root: { 'card1/device/vendor': '0x1002\n', ... }.
async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, content);
  }
}

describe('readSysfsGpus', () => {
  const temp = useTempDir();
  beforeEach(async () => {
    await writeTree(temp.dir, {
      // BMC console (ASPEED): not a GPU for models.
      'card0/device/vendor': '0x1a03\n',
      // AMD RX 7900 XTX with 24 GiB, 1 GiB used.
      'card1/device/vendor': '0x1002\n',
      'card1/device/device': '0x744c\n',
      'card1/device/unique_id': '8d3a1c2b4e5f6071\n',
      'card1/device/mem_info_vram_total': `${24 * 1024 * MIB}\n`,
      'card1/device/mem_info_vram_used': `${1024 * MIB}\n`,
      'card1/device/gpu_busy_percent': '37\n',
      'card1/device/hwmon/hwmon4/temp1_input': '52000\n',
      'card1/device/hwmon/hwmon4/power1_average': '98500000\n',
      'card1-DP-1/status': 'connected\n',
      'renderD128/dev': '226:128\n',
      // NVIDIA: left to nvidia-smi.
      'card2/device/vendor': '0x10de\n',
      'card2/device/device': '0x2684\n',
      // Intel Arc: no VRAM files under i915.
      'card3/device/vendor': '0x8086\n',
      'card3/device/device': '0x56a0\n',
      'card3/device/product_name': 'Intel Arc A770\n',
    });
  });

  it('reads AMD and Intel cards and skips NVIDIA, other vendors, connectors and render nodes', async () => {
    const gpus = await readSysfsGpus(temp.dir);
    expect(gpus).toEqual([
      {
        index: 1,
        vendor: 'amd',
        name: 'AMD GPU [1002:744c]',
        uuid: '8d3a1c2b4e5f6071',
        memoryTotalMiB: 24 * 1024,
        memoryUsedMiB: 1024,
        memoryFreeMiB: 23 * 1024,
        utilizationPct: 37,
        temperatureC: 52,
        powerW: 98.5,
        unifiedMemory: false,
      },
      {
        index: 3,
        vendor: 'intel',
        name: 'Intel Arc A770',
        uuid: null,
        memoryTotalMiB: null,
        memoryUsedMiB: null,
        memoryFreeMiB: null,
        utilizationPct: null,
        temperatureC: null,
        powerW: null,
        unifiedMemory: false,
      },
    ]);
  });

  it('returns no GPUs when the DRM root does not exist', async () => {
    expect(await readSysfsGpus(join(temp.dir, 'missing'))).toEqual([]);
  });

  it('is what readNonNvidiaGpus uses on Linux, and other platforms without a reader get none', async () => {
    const viaLinux = await readNonNvidiaGpus({ platform: 'linux', sysfsRoot: temp.dir });
    expect(viaLinux.map((g) => g.vendor)).toEqual(['amd', 'intel']);
    expect(await readNonNvidiaGpus({ platform: 'win32', sysfsRoot: temp.dir })).toEqual([]);
  });
});

describe('gpusFromDarwinControllers', () => {
  it('gives Apple silicon all of system RAM as unified memory and keeps discrete VRAM', () => {
    const gpus = gpusFromDarwinControllers(
      [
        { vendor: 'Apple', model: 'Apple M2 Max', bus: 'Built-In', vram: null, vramDynamic: true },
        { vendor: 'AMD', model: 'AMD Radeon Pro 5500M', bus: 'PCIe', vram: 4096, vramDynamic: false },
      ],
      64 * 1024 * MIB,
    );
    expect(gpus.map((g) => [g.index, g.vendor, g.name, g.memoryTotalMiB, g.unifiedMemory])).toEqual([
      [0, 'apple', 'Apple M2 Max', 64 * 1024, true],
      [1, 'amd', 'AMD Radeon Pro 5500M', 4096, false],
    ]);
  });
});

describe('readSystemFacts', () => {
  it('reports this host, its RAM and its CPUs', async () => {
    const facts = await readSystemFacts();
    expect(facts.hostname).toBe(os.hostname());
    expect(facts.arch).toBe(os.arch());
    expect(facts.memTotalBytes).toBe(os.totalmem());
    expect(facts.memAvailableBytes).toBeGreaterThan(0);
    expect(facts.memAvailableBytes).toBeLessThanOrEqual(facts.memTotalBytes);
    expect(facts.cpuCores).toBeGreaterThan(0);
    expect(facts.cpuLoadPct).toBeGreaterThanOrEqual(0);
    expect(facts.cpuLoadPct).toBeLessThanOrEqual(100);
  });
});
