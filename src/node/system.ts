// Host facts (CPU, RAM, OS) via systeminformation, and the GPUs nvidia-smi does not cover.
// systeminformation is loaded on the first read, not when the daemon starts (it is large).
import os from 'node:os';
import type { Systeminformation } from 'systeminformation';
import { DEFAULT_DRM_ROOT, readSysfsGpus } from './sysfs-gpus.js';
import type { GpuInfo, GpuVendor, SystemFacts } from './types.js';

const MIB = 1024 * 1024;

type StaticFacts = Pick<
  SystemFacts,
  'hostname' | 'platform' | 'distro' | 'release' | 'arch' | 'cpuModel' | 'cpuCores'
>;

// OS and CPU model do not change while we run, and si.osInfo() runs `hostname -f` with execSync
// (a DNS lookup that can stall the event loop): read them once, and again only after a failure.
let staticFacts: Promise<StaticFacts> | null = null;

async function readStaticFacts(): Promise<StaticFacts> {
  const si = await import('systeminformation');
  const [osData, cpu] = await Promise.all([si.osInfo(), si.cpu()]);
  return {
    hostname: osData.hostname || os.hostname(),
    platform: osData.platform || os.platform(),
    distro: osData.distro || '',
    release: osData.release || os.release(),
    arch: osData.arch || os.arch(),
    cpuModel: [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ') || os.cpus()[0]?.model || '',
    cpuCores: cpu.cores || os.availableParallelism(),
  };
}

/** Read host facts. Load is the average since the previous call (the first call samples ~0.5 s). */
export async function readSystemFacts(): Promise<SystemFacts> {
  staticFacts ??= readStaticFacts();
  const pending = staticFacts;
  pending.catch(() => {
    if (staticFacts === pending) staticFacts = null;
  });
  const si = await import('systeminformation');
  const [fixed, load, mem] = await Promise.all([pending, si.currentLoad(), si.mem()]);
  return {
    ...fixed,
    cpuLoadPct: Number.isFinite(load.currentLoad) ? Math.round(load.currentLoad * 10) / 10 : 0,
    memTotalBytes: mem.total,
    // `available` counts reclaimable cache; `free` would make a busy page cache look like no RAM.
    memAvailableBytes: mem.available,
  };
}

/** Host facts from node:os alone: instant, for use before the first full read completes. */
export function fallbackSystemFacts(): SystemFacts {
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    distro: '',
    release: os.release(),
    arch: os.arch(),
    cpuModel: os.cpus()[0]?.model ?? '',
    cpuCores: os.availableParallelism(),
    cpuLoadPct: 0,
    memTotalBytes: os.totalmem(),
    memAvailableBytes: os.freemem(),
  };
}

/** Options of readNonNvidiaGpus; tests override both. */
export interface NonNvidiaOptions {
  platform?: NodeJS.Platform;
  /** DRM sysfs root on Linux (default /sys/class/drm). */
  sysfsRoot?: string;
}

/**
 * GPUs other than NVIDIA's: Apple silicon and Mac GPUs on darwin (si.graphics()), AMD/Intel from
 * sysfs on Linux. Never si.graphics() on Linux: it runs nvidia-smi with execSync. Other
 * platforms report none.
 */
export async function readNonNvidiaGpus(opts: NonNvidiaOptions = {}): Promise<GpuInfo[]> {
  const platform = opts.platform ?? process.platform;
  if (platform === 'linux') return readSysfsGpus(opts.sysfsRoot ?? DEFAULT_DRM_ROOT);
  if (platform === 'darwin') {
    const si = await import('systeminformation');
    const graphics = await si.graphics();
    return gpusFromDarwinControllers(graphics.controllers, os.totalmem());
  }
  return [];
}

/** Map si.graphics() controllers on a Mac to GpuInfo; Apple silicon memory is all of RAM. */
export function gpusFromDarwinControllers(
  controllers: readonly Systeminformation.GraphicsControllerData[],
  systemMemBytes: number,
): GpuInfo[] {
  return controllers.map((c, index) => {
    const vendor = vendorOf(`${c.vendor} ${c.model}`);
    const apple = vendor === 'apple';
    return {
      index,
      vendor,
      name: c.model || c.name || c.vendor || 'unknown GPU',
      uuid: null,
      // system_profiler reports no VRAM for Apple silicon: Metal can use (most of) system RAM.
      memoryTotalMiB: apple ? Math.floor(systemMemBytes / MIB) : (c.vram ?? null),
      memoryUsedMiB: null,
      memoryFreeMiB: null,
      utilizationPct: c.utilizationGpu ?? null,
      temperatureC: c.temperatureGpu ?? null,
      powerW: null,
      // Intel Mac iGPUs share RAM too (vramDynamic); discrete AMD cards do not.
      unifiedMemory: apple || c.vramDynamic,
    };
  });
}

function vendorOf(text: string): GpuVendor {
  if (/apple/i.test(text)) return 'apple';
  if (/\b(amd|ati|radeon)\b/i.test(text)) return 'amd';
  if (/intel/i.test(text)) return 'intel';
  if (/nvidia|geforce/i.test(text)) return 'nvidia';
  return 'other';
}
