// What this box says about itself in its advert summary, from its facts, backends and activity.
// Pure. Free VRAM is coarse and sticky (hysteresis), so a busy box does not re-announce on every
// small move; the announcements themselves are paced by mdns.ts.
import type { BackendStatus } from '../backends/types.js';
import type { GpuInfo } from '../node/types.js';
import { type AdvertSummary, VRAM_FREE_STEP_MIB } from './txt-summary.js';

/** What the summary is built from. */
export interface SummaryInput {
  gpus: readonly GpuInfo[];
  backends: readonly BackendStatus[];
  /** False while the node is paused, draining or leaving. */
  active: boolean;
}

/** The advertised free VRAM stays while the real value is within this much outside its step. */
export const VRAM_FREE_HYSTERESIS_MIB = 512;

/** The summary to advertise now; `previous` is the one advertised last (for the hysteresis). */
export function buildSummary(input: SummaryInput, previous?: AdvertSummary | null): AdvertSummary {
  const gpus = [...input.gpus].sort((a, b) => a.index - b.index);
  const names: AdvertSummary['gpus'] = [];
  for (const gpu of gpus) {
    // The TXT form has no empty names.
    const name = gpu.name.trim() || 'unnamed GPU';
    const same = names.find((entry) => entry.name === name);
    if (same) same.count += 1;
    else names.push({ name, count: 1 });
  }
  const total = sumKnown(gpus.map((gpu) => gpu.memoryTotalMiB));
  const free = sumKnown(gpus.map((gpu) => gpu.memoryFreeMiB));
  const models = new Set<string>();
  for (const backend of input.backends) {
    if (!backend.healthy) continue;
    for (const model of backend.models) if (model.loaded && model.id.length > 0) models.add(model.id);
  }
  const sorted = [...models].sort();
  return {
    state: input.active ? 'active' : 'paused',
    gpuCount: gpus.length,
    gpus: names,
    vramTotalMiB: total === null ? null : Math.max(0, Math.round(total)),
    vramFreeMiB: free === null ? null : coarseFreeMiB(free, previous?.vramFreeMiB ?? null),
    models: sorted,
    modelCount: sorted.length,
  };
}

/**
 * Free VRAM rounded down to a whole GiB; the value advertised last is kept while the real one
 * stays within VRAM_FREE_HYSTERESIS_MIB of its step, so a value near a step boundary does not flap.
 */
export function coarseFreeMiB(freeMiB: number, previousMiB: number | null): number {
  const step = Math.floor(Math.max(0, freeMiB) / VRAM_FREE_STEP_MIB) * VRAM_FREE_STEP_MIB;
  if (previousMiB === null) return step;
  const low = previousMiB - VRAM_FREE_HYSTERESIS_MIB;
  const high = previousMiB + VRAM_FREE_STEP_MIB + VRAM_FREE_HYSTERESIS_MIB;
  return freeMiB >= low && freeMiB < high ? previousMiB : step;
}

function sumKnown(values: (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null && Number.isFinite(value));
  return known.length === 0 ? null : known.reduce((sum, value) => sum + value, 0);
}
