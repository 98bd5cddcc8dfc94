import { describe, expect, it } from 'vitest';
import type { Target } from '../../../src/inference/types.js';
import { statsKey } from '../../../src/scheduling/score.js';
import { TargetStatsTracker } from '../../../src/tasks/target-stats.js';

const target: Target = {
  nodeId: 'aaaaaaaaaaaaaaaa',
  nodeName: 'a',
  backendId: 'ollama@127.0.0.1:11434',
  backendUrl: 'http://127.0.0.1:11434',
  backendKind: 'ollama',
  model: 'm',
  tier: null,
  local: true,
  cloud: false,
};
const key = statsKey(target.nodeId, target.backendId, target.model);

describe('TargetStatsTracker', () => {
  it('takes the first sample as is, then smooths toward newer ones', () => {
    const tracker = new TargetStatsTracker();
    tracker.observe(target, { firstTokenMs: 100, latencyMs: 1100, completionTokens: 50 });
    expect(tracker.view().get(key)).toEqual({ p50Ms: 100, tokensPerSec: 50 });
    tracker.observe(target, { firstTokenMs: 200, latencyMs: 1200, completionTokens: 100 });
    const stats = tracker.view().get(key)!;
    expect(stats.p50Ms).toBeCloseTo(120);
    expect(stats.tokensPerSec).toBeCloseTo(60);
  });

  it('uses the whole latency when there was no first token (non-streaming) and keeps the rate when unknown', () => {
    const tracker = new TargetStatsTracker();
    tracker.observe(target, { firstTokenMs: null, latencyMs: 300, completionTokens: 30 });
    expect(tracker.view().get(key)!.p50Ms).toBe(300);
    tracker.observe(target, { firstTokenMs: null, latencyMs: 300, completionTokens: null });
    expect(tracker.view().get(key)!.tokensPerSec).toBe(100);
  });
});
