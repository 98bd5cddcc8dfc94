// When do new facts matter to peers? Pure, so the rule is tested without timers or processes.
import type { NodeFacts } from './types.js';

const MIB = 1024 * 1024;
// RAM and CPU load move a little on every read; peers only care about steps this big. (RAM is
// the VRAM of unified-memory boxes, so it is watched, but not to the byte.)
const MEM_AVAILABLE_STEP_BYTES = 512 * MIB;
const CPU_LOAD_STEP_PCT = 10;

/**
 * A string that differs exactly when peers should hear about new facts: the GPU list and each
 * GPU's VRAM (total/used/free), host identity, and RAM/CPU load in coarse steps. Utilization,
 * temperature and power change on every read; they ride along with current() but trigger nothing.
 */
export function factsChangeKey(facts: NodeFacts): string {
  const s = facts.system;
  return JSON.stringify({
    gpus: facts.gpus.map((g) => [
      g.vendor,
      g.index,
      g.name,
      g.uuid,
      g.unifiedMemory,
      g.memoryTotalMiB,
      g.memoryUsedMiB,
      g.memoryFreeMiB,
    ]),
    host: [s.hostname, s.platform, s.distro, s.release, s.arch, s.cpuModel, s.cpuCores, s.memTotalBytes],
    memStep: Math.round(s.memAvailableBytes / MEM_AVAILABLE_STEP_BYTES),
    loadStep: Math.round(s.cpuLoadPct / CPU_LOAD_STEP_PCT),
  });
}

/** True when peers should hear about `next` after having seen `prev`. */
export function factsChanged(prev: NodeFacts, next: NodeFacts): boolean {
  return factsChangeKey(prev) !== factsChangeKey(next);
}
