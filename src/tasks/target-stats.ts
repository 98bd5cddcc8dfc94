// Measured speed per (node, backend, model), smoothed, for the scheduler's scoring:
// latency to the first token (or the reply) and completion tokens per second.

import type { Target } from '../inference/types.js';
import { statsKey, type TargetStats } from '../scheduling/score.js';

// Weight of the newest sample: recent enough to follow load, smooth enough to ignore one outlier.
const ALPHA = 0.2;
const MAX_TARGETS = 4096;

/** Exponentially weighted latency and throughput per target. */
export class TargetStatsTracker {
  private readonly stats = new Map<string, TargetStats>();

  /** Record one successful attempt. */
  observe(
    target: Target,
    sample: { firstTokenMs: number | null; latencyMs: number; completionTokens: number | null },
  ): void {
    const key = statsKey(target.nodeId, target.backendId, target.model);
    const latency = sample.firstTokenMs ?? sample.latencyMs;
    const genMs = sample.latencyMs - (sample.firstTokenMs ?? 0);
    const rate = sample.completionTokens && genMs > 0 ? (sample.completionTokens * 1000) / genMs : undefined;
    const previous = this.stats.get(key);
    if (!previous && this.stats.size >= MAX_TARGETS) this.stats.clear();
    this.stats.set(key, {
      p50Ms: smooth(previous?.p50Ms, latency),
      tokensPerSec: rate === undefined ? previous?.tokensPerSec : smooth(previous?.tokensPerSec, rate),
    });
  }

  /** The map the planner reads. */
  view(): ReadonlyMap<string, TargetStats> {
    return this.stats;
  }
}

function smooth(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous + ALPHA * (sample - previous);
}
