// Facts about one box: its GPUs and its host. Shared by node/, rpc/ and cli/.

export type GpuVendor = 'nvidia' | 'amd' | 'intel' | 'apple' | 'other';

/** One GPU. Numbers are null when the driver does not report them. */
export interface GpuInfo {
  index: number;
  vendor: GpuVendor;
  name: string;
  uuid: string | null;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  memoryFreeMiB: number | null;
  utilizationPct: number | null;
  temperatureC: number | null;
  powerW: number | null;
  /** VRAM is system RAM (Apple silicon, GB10). */
  unifiedMemory: boolean;
}

/** Host facts gathered with systeminformation. */
export interface SystemFacts {
  hostname: string;
  platform: string;
  distro: string;
  release: string;
  arch: string;
  cpuModel: string;
  cpuCores: number;
  cpuLoadPct: number;
  memTotalBytes: number;
  memAvailableBytes: number;
}

/** Everything node/ knows about this box at one moment. */
export interface NodeFacts {
  gpus: GpuInfo[];
  system: SystemFacts;
}
