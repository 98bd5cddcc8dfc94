// Usage rows for tests: a local request on node "box-a" unless overridden.
import type { UsageRow } from '../../../src/usage/row.js';

let next = 0;

/** A complete ledger row; pass only what the test is about. */
export function usageRow(overrides: Partial<UsageRow> = {}): UsageRow {
  next += 1;
  return {
    ts: Date.UTC(2025, 0, 15, 12, 0, 0),
    requestId: `req-${next}`,
    client: 'local',
    nodeId: 'node-a',
    nodeName: 'box-a',
    backend: 'ollama-11434',
    model: 'qwen2.5-coder:7b',
    tier: 'fast',
    cloud: false,
    privacy: 'lan',
    promptTokens: 100,
    completionTokens: 50,
    latencyMs: 800,
    firstTokenMs: 120,
    attempts: 1,
    costUsd: 0,
    referenceCostUsd: 0.001,
    outcome: 'ok',
    errorCode: null,
    ...overrides,
  };
}

/** A row served by a cloud provider that cost `costUsd`. */
export function cloudRow(costUsd: number, overrides: Partial<UsageRow> = {}): UsageRow {
  return usageRow({
    backend: 'openai',
    model: 'gpt-4o-mini',
    tier: 'cloud',
    cloud: true,
    privacy: 'cloud',
    costUsd,
    referenceCostUsd: costUsd * 2,
    ...overrides,
  });
}
