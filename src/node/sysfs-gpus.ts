// AMD and Intel GPUs on Linux, read from the DRM sysfs tree. Plain file reads: no subprocess, so
// nothing here can block the event loop the way systeminformation's graphics() does (DESIGN.md §4).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GpuInfo, GpuVendor } from './types.js';

/** Where Linux lists DRM devices; tests pass a fake tree instead. */
export const DEFAULT_DRM_ROOT = '/sys/class/drm';

// card0, card1... but not connectors (card0-DP-1) or render nodes (renderD128).
const CARD_RE = /^card(\d+)$/;
const MIB = 1024 * 1024;
// PCI vendor ids. NVIDIA (0x10de) is left to nvidia-smi, which knows far more; anything else
// (ASPEED BMC consoles, virtio, ...) is not a GPU anyone runs models on.
const VENDORS: Record<string, { vendor: GpuVendor; label: string }> = {
  '0x1002': { vendor: 'amd', label: 'AMD' },
  '0x8086': { vendor: 'intel', label: 'Intel' },
};

/**
 * List AMD/Intel GPUs under `root` (default /sys/class/drm). `index` is the DRM card number.
 * amdgpu reports VRAM and busy percent; i915/xe do not, so those stay null for Intel.
 * Unified memory (APUs, iGPUs) is not detected here: sysfs has no reliable flag for it.
 */
export async function readSysfsGpus(root: string = DEFAULT_DRM_ROOT): Promise<GpuInfo[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return []; // no DRM at all (containers, headless VMs)
  }
  const cards = entries
    .map((name) => CARD_RE.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const gpus = await Promise.all(cards.map((n) => readCard(join(root, `card${n}`, 'device'), n)));
  return gpus.filter((g): g is GpuInfo => g !== null);
}

async function readCard(dir: string, index: number): Promise<GpuInfo | null> {
  const vendorId = (await readText(join(dir, 'vendor')))?.toLowerCase();
  const known = vendorId === undefined ? undefined : VENDORS[vendorId];
  if (!known) return null;
  const deviceId = (await readText(join(dir, 'device')))?.toLowerCase() ?? '0x????';
  const [productName, uniqueId, vramTotal, vramUsed, busy, hwmon] = await Promise.all([
    readText(join(dir, 'product_name')),
    readText(join(dir, 'unique_id')),
    readNumber(join(dir, 'mem_info_vram_total')),
    readNumber(join(dir, 'mem_info_vram_used')),
    readNumber(join(dir, 'gpu_busy_percent')),
    readHwmon(dir),
  ]);
  const totalMiB = vramTotal === null ? null : Math.floor(vramTotal / MIB);
  const usedMiB = vramUsed === null ? null : Math.floor(vramUsed / MIB);
  return {
    index,
    vendor: known.vendor,
    name: productName || `${known.label} GPU [${hexId(vendorId ?? '')}:${hexId(deviceId)}]`,
    uuid: uniqueId || null,
    memoryTotalMiB: totalMiB,
    memoryUsedMiB: usedMiB,
    memoryFreeMiB: totalMiB !== null && usedMiB !== null ? Math.max(0, totalMiB - usedMiB) : null,
    utilizationPct: busy,
    temperatureC: hwmon.temperatureC,
    powerW: hwmon.powerW,
    unifiedMemory: false,
  };
}

// amdgpu's hwmon: temp1_input in millidegrees C, power1_average (older) or power1_input in µW.
async function readHwmon(dir: string): Promise<{ temperatureC: number | null; powerW: number | null }> {
  let names: string[];
  try {
    names = (await readdir(join(dir, 'hwmon'))).filter((n) => n.startsWith('hwmon')).sort();
  } catch {
    return { temperatureC: null, powerW: null };
  }
  const first = names[0];
  if (first === undefined) return { temperatureC: null, powerW: null };
  const base = join(dir, 'hwmon', first);
  const [milliC, avgMicroW, inputMicroW] = await Promise.all([
    readNumber(join(base, 'temp1_input')),
    readNumber(join(base, 'power1_average')),
    readNumber(join(base, 'power1_input')),
  ]);
  const microW = avgMicroW ?? inputMicroW;
  return {
    temperatureC: milliC === null ? null : Math.round(milliC / 1000),
    powerW: microW === null ? null : Math.round(microW / 10_000) / 100,
  };
}

// sysfs files hold one value and a newline; a missing or unreadable file means "not reported".
async function readText(path: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

async function readNumber(path: string): Promise<number | null> {
  const text = await readText(path);
  if (text === undefined || !/^\d+$/.test(text)) return null;
  return Number(text);
}

function hexId(id: string): string {
  return id.startsWith('0x') ? id.slice(2) : id;
}
