// How good one place (node, backend, model) is for a request right now: a number, higher
// is better. Pure. The weights are data (SCORE_WEIGHTS) so the ordering is documented:
//
//   loaded        +100  the model is resident: no load time (hot beats cold)
//   free slots    +30 × free / maxConcurrency
//   queue          −10 per request waiting beyond maxConcurrency
//   node load       −2 per request in flight on the node (any model), at most −20
//   throughput    +20 × tps / (tps + 50)       measured tokens/s; none measured: 0
//   latency       −20 × p50 / (p50 + 2000)     measured median ms; none measured: 0
//   VRAM headroom +10 × min(free MiB, 24 GiB) / 24 GiB (unified memory: available RAM)
//
// So a loaded model wins while it has a free slot, whatever the idle node with a cold copy
// offers (at most +40); a place with no free slot is ordered after every place with one
// (candidates.ts). Scores are compared rounded to whole points, and equal scores prefer
// this node (no network hop), then the node name.
import type { WireModel, WireNodeInfo } from '../rpc/wire.js';

/** Measured performance of one node|backend|model (from the usage ledger or recent runs). */
export interface TargetStats {
  /** Median latency to the first token (or the reply), ms. */
  p50Ms?: number | undefined;
  /** Completion tokens per second. */
  tokensPerSec?: number | undefined;
}

/** The weights of each factor (see the table above). */
export const SCORE_WEIGHTS = {
  loaded: 100,
  freeSlots: 30,
  queuedRequest: -10,
  nodeInflight: -2,
  nodeInflightFloor: -20,
  throughput: 20,
  throughputHalfAt: 50,
  latency: -20,
  latencyHalfAtMs: 2000,
  vram: 10,
  vramFullAtMiB: 24_576,
} as const;

/** The key of a stats map entry: node id, backend id and model id joined by `|`. */
export function statsKey(nodeId: string, backendId: string, model: string): string {
  return `${nodeId}|${backendId}|${model}`;
}

/** Free slots of a model: maxConcurrency − inflight, never below 0. */
export function freeSlots(model: WireModel): number {
  return Math.max(0, capacity(model) - model.inflight);
}

/** Score one place; higher is better. */
export function scorePlace(node: WireNodeInfo, model: WireModel, stats: TargetStats | undefined): number {
  const W = SCORE_WEIGHTS;
  const cap = capacity(model);
  let score = 0;
  if (model.loaded) score += W.loaded;
  score += (W.freeSlots * freeSlots(model)) / cap;
  score += W.queuedRequest * Math.max(0, model.inflight - cap);
  score += Math.max(W.nodeInflightFloor, W.nodeInflight * Math.max(0, node.inflight));
  const tps = stats?.tokensPerSec;
  if (tps !== undefined && Number.isFinite(tps) && tps > 0)
    score += (W.throughput * tps) / (tps + W.throughputHalfAt);
  const p50 = stats?.p50Ms;
  if (p50 !== undefined && Number.isFinite(p50) && p50 >= 0)
    score += (W.latency * p50) / (p50 + W.latencyHalfAtMs);
  score += (W.vram * Math.min(vramHeadroomMiB(node), W.vramFullAtMiB)) / W.vramFullAtMiB;
  return score;
}

/** Free GPU memory of a node in MiB: the sum over its GPUs, or available RAM on unified memory; 0 unknown. */
export function vramHeadroomMiB(node: WireNodeInfo): number {
  let free = 0;
  let unified = false;
  for (const gpu of node.gpus) {
    if (gpu.unifiedMemory) unified = true;
    else if (gpu.memoryFreeMib !== undefined && gpu.memoryFreeMib > 0) free += gpu.memoryFreeMib;
  }
  if (free === 0 && unified && node.system) return Math.max(0, node.system.memAvailableBytes / 1_048_576);
  return free;
}

function capacity(model: WireModel): number {
  return model.maxConcurrency > 0 ? model.maxConcurrency : 1;
}
