import { describe, expect, it } from 'vitest';
import { mergeSummaries, summarize, swarmSummary, type UsageWindow } from '../../../src/usage/summary.js';
import { cloudRow, usageRow } from './fixtures.js';

const T0 = Date.UTC(2025, 0, 15, 12);
const day: UsageWindow = { since: T0 - 3_600_000, until: T0 + 3_600_000, by: null };

describe('summarize', () => {
  const rows = [
    usageRow({
      ts: T0,
      promptTokens: 100,
      completionTokens: 100,
      referenceCostUsd: 0.5,
      latencyMs: 1000,
      firstTokenMs: 100,
    }),
    usageRow({
      ts: T0,
      promptTokens: 200,
      completionTokens: 0,
      referenceCostUsd: 0.5,
      latencyMs: 500,
      firstTokenMs: null,
    }),
    cloudRow(0.25, {
      ts: T0,
      promptTokens: 50,
      completionTokens: 50,
      referenceCostUsd: 1,
      latencyMs: 1500,
      firstTokenMs: 300,
    }),
    usageRow({
      ts: T0,
      outcome: 'error',
      errorCode: 'SWARM_ERR_NO_CAPACITY',
      promptTokens: 0,
      completionTokens: 0,
      referenceCostUsd: 0,
      latencyMs: 0,
      firstTokenMs: null,
    }),
  ];

  it('adds up requests, errors, tokens, cost and local share', () => {
    const { totals } = summarize(rows, day);
    expect(totals).toMatchObject({
      requests: 4,
      errors: 1,
      localRequests: 3,
      cloudRequests: 1,
      promptTokens: 350,
      completionTokens: 150,
      localTokens: 400,
      costUsd: 0.25,
      localShareByRequests: 0.75,
      localShareByTokens: 0.8,
    });
  });

  it('reports savings as reference minus actual, and averages latency and first token', () => {
    const { totals } = summarize(rows, day);
    expect(totals.referenceCostUsd).toBeCloseTo(2, 12);
    expect(totals.savingsUsd).toBeCloseTo(1.75, 12);
    expect(totals.avgLatencyMs).toBe(750);
    expect(totals.avgFirstTokenMs).toBe(200);
  });

  it('leaves reference and savings null when no row had a reference cost', () => {
    const { totals } = summarize([usageRow({ ts: T0, referenceCostUsd: null })], day);
    expect(totals.referenceCostUsd).toBeNull();
    expect(totals.savingsUsd).toBeNull();
  });

  it('skips rows outside [since, until)', () => {
    const edge = [usageRow({ ts: day.since }), usageRow({ ts: day.until }), usageRow({ ts: day.since - 1 })];
    expect(summarize(edge, day).totals.requests).toBe(1);
  });

  it('gives null shares and averages for an empty window', () => {
    const { totals, groups } = summarize([], { ...day, by: 'model' });
    expect(totals).toMatchObject({
      requests: 0,
      localShareByRequests: null,
      avgLatencyMs: null,
      savingsUsd: null,
    });
    expect(groups).toEqual([]);
  });

  it('groups by the chosen key, busiest first, with node names and "-" for no tier', () => {
    const mixed = [
      usageRow({ ts: T0, nodeId: 'n1', nodeName: 'gamer', tier: null }),
      usageRow({ ts: T0, nodeId: 'n2', nodeName: 'homelab' }),
      usageRow({ ts: T0, nodeId: 'n2', nodeName: 'homelab' }),
    ];
    const byNode = summarize(mixed, { ...day, by: 'node' });
    expect(byNode.groups.map((g) => [g.key, g.label, g.requests])).toEqual([
      ['n2', 'homelab', 2],
      ['n1', 'gamer', 1],
    ]);
    const byTier = summarize(mixed, { ...day, by: 'tier' });
    expect(byTier.groups.map((g) => [g.key, g.label])).toEqual([
      ['fast', 'fast'],
      [null, '-'],
    ]);
    expect(summarize(mixed, { ...day, by: 'client' }).groups).toHaveLength(1);
  });
});

describe('mergeSummaries', () => {
  it('adds nodes up to exactly the summary of all their rows', () => {
    const a = [usageRow({ ts: T0, nodeId: 'n1', model: 'm1' }), cloudRow(0.5, { ts: T0, nodeId: 'n1' })];
    const b = [
      usageRow({ ts: T0, nodeId: 'n2', model: 'm1', firstTokenMs: 400 }),
      usageRow({ ts: T0, nodeId: 'n2', model: 'm2' }),
    ];
    const window: UsageWindow = { ...day, by: 'model' };
    const merged = mergeSummaries(window, [summarize(a, window), summarize(b, window)]);
    expect(merged).toEqual(summarize([...a, ...b], window));
    expect(merged.groups.find((g) => g.key === 'm1')?.requests).toBe(2);
  });

  it('gives empty totals when there is nothing to merge', () => {
    const merged = mergeSummaries(day, []);
    expect(merged.totals.requests).toBe(0);
    expect(merged.since).toBe(day.since);
  });

  it('refuses summaries grouped another way', () => {
    expect(() => mergeSummaries({ ...day, by: 'node' }, [summarize([], { ...day, by: 'model' })])).toThrow(
      /grouped by/,
    );
  });
});

describe('swarmSummary', () => {
  it('adds up the nodes that answered and lists every node asked', () => {
    const window: UsageWindow = { ...day, by: 'node' };
    const a = summarize([usageRow({ ts: T0, nodeId: 'n1' })], window);
    const b = summarize([cloudRow(1, { ts: T0, nodeId: 'n2', nodeName: 'box-b' })], window);
    const stale = summarize([usageRow({ ts: T0, nodeId: 'n4' })], { ...window, by: 'model' });
    const result = swarmSummary(window, [
      { nodeId: 'n1', nodeName: 'box-a', summary: a, error: null },
      { nodeId: 'n2', nodeName: 'box-b', summary: b, error: null },
      { nodeId: 'n3', nodeName: 'box-c', summary: null, error: 'deadline exceeded' },
      { nodeId: 'n4', nodeName: 'box-d', summary: stale, error: null },
    ]);
    expect(result.totals.requests).toBe(2);
    expect(result.totals.costUsd).toBe(1);
    expect(result.groups.map((g) => g.key).sort()).toEqual(['n1', 'n2']);
    expect(result.nodes?.map((n) => [n.nodeName, n.ok, n.error])).toEqual([
      ['box-a', true, null],
      ['box-b', true, null],
      ['box-c', false, 'deadline exceeded'],
      ['box-d', false, 'answered grouped by model, asked for node'],
    ]);
    expect(result.nodes?.[1]?.totals?.cloudRequests).toBe(1);
  });
});
