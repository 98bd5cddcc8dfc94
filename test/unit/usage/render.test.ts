import { describe, expect, it } from 'vitest';
import { renderUsage, usageJson, usageRowJsonl } from '../../../src/usage/render.js';
import { summarize, swarmSummary, type UsageWindow } from '../../../src/usage/summary.js';
import { cloudRow, usageRow } from './fixtures.js';

const T0 = Date.UTC(2025, 0, 15, 12);
const window: UsageWindow = { since: T0 - 86_400_000, until: T0 + 1, by: 'model' };

const TOTAL_FIELDS = [
  'requests',
  'errors',
  'cancelled',
  'localRequests',
  'cloudRequests',
  'promptTokens',
  'completionTokens',
  'localTokens',
  'costUsd',
  'referenceCostUsd',
  'savingsUsd',
  'latencyMsSum',
  'firstTokenMsSum',
  'firstTokenSamples',
  'localShareByRequests',
  'localShareByTokens',
  'avgLatencyMs',
  'avgFirstTokenMs',
];

const rows = [
  usageRow({ ts: T0, model: 'qwen2.5-coder:7b', promptTokens: 1200, completionTokens: 800 }),
  cloudRow(0.0123, { ts: T0, model: 'gpt-4o-mini', referenceCostUsd: 0.05 }),
];

describe('usageJson', () => {
  it('has the documented shape: window, by, totals and groups with the same fields', () => {
    const json = usageJson(summarize(rows, window));
    expect(Object.keys(json)).toEqual(['since', 'until', 'by', 'totals', 'groups']);
    expect(json.since).toBe(window.since);
    expect(json.by).toBe('model');
    expect(Object.keys(json.totals)).toEqual(TOTAL_FIELDS);
    expect(json.groups).toHaveLength(2);
    for (const group of json.groups) expect(Object.keys(group)).toEqual(['key', 'label', ...TOTAL_FIELDS]);
  });

  it('keeps money at full precision and survives a JSON round trip', () => {
    const json = usageJson(summarize(rows, window));
    expect(json.totals.costUsd).toBe(0.0123);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('adds nodes only for a swarm-wide summary', () => {
    const swarm = usageJson(
      swarmSummary(window, [
        { nodeId: 'n1', nodeName: 'box-a', summary: summarize(rows, window), error: null },
        { nodeId: 'n2', nodeName: 'box-b', summary: null, error: 'unreachable' },
      ]),
    );
    expect(Object.keys(swarm)).toEqual(['since', 'until', 'by', 'totals', 'groups', 'nodes']);
    expect(swarm.nodes?.map((n) => Object.keys(n))[0]).toEqual([
      'nodeId',
      'nodeName',
      'ok',
      'error',
      'totals',
    ]);
    expect(swarm.nodes?.[1]).toEqual({
      nodeId: 'n2',
      nodeName: 'box-b',
      ok: false,
      error: 'unreachable',
      totals: null,
    });
  });
});

describe('usageRowJsonl', () => {
  it('writes one JSON object per line with every row field', () => {
    const row = rows[1]!;
    const line = usageRowJsonl(row);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(row);
    expect(Object.keys(JSON.parse(line))[0]).toBe('ts');
  });
});

describe('renderUsage', () => {
  it('prints totals, local share, cost, savings and a table per group', () => {
    const text = renderUsage(summarize(rows, window));
    expect(text).toMatch(/^requests\s+2 \(0 failed\)$/m);
    expect(text).toMatch(/^tokens\s+1,300 in, 850 out$/m);
    expect(text).toMatch(/^local share\s+50% of requests, 93% of tokens$/m);
    expect(text).toMatch(/^cloud cost\s+\$0\.01 \(1 request\)$/m);
    expect(text).toMatch(/^savings\s+\$0\.04$/m);
    expect(text).toMatch(/^MODEL\s+REQUESTS\s+FAILED\s+CANCELLED/m);
    expect(text).toMatch(/^qwen2\.5-coder:7b\s+1\s+0\s+0\s+1,200\s+800\s+100%\s+\$0\.00/m);
    expect(text.includes(String.fromCharCode(27))).toBe(false);
  });

  it('says when no reference model is configured and omits the table when not grouped', () => {
    const text = renderUsage(
      summarize([usageRow({ ts: T0, referenceCostUsd: null })], { ...window, by: null }),
    );
    expect(text).toMatch(/^reference cost\s+- \(no reference model configured\)$/m);
    expect(text).not.toMatch(/REQUESTS/);
  });

  it('lists every node of a swarm-wide view, with why one is left out', () => {
    const text = renderUsage(
      swarmSummary(window, [
        { nodeId: 'n1', nodeName: 'box-a', summary: summarize(rows, window), error: null },
        { nodeId: 'n2', nodeName: 'box-b', summary: null, error: 'unreachable' },
      ]),
    );
    expect(text).toMatch(/^NODE\s+REQUESTS\s+FAILED\s+LOCAL/m);
    expect(text).toMatch(/^box-a\s+2\s+0\s+50%\s+\$0\.01\s+\$0\.04\s+counted$/m);
    expect(text).toMatch(/^box-b\s+-\s+-\s+-\s+-\s+-\s+left out: unreachable$/m);
  });

  it('counts failed and cancelled requests, in the totals, per group and per error code', () => {
    const failed = [
      ...rows,
      usageRow({ ts: T0, outcome: 'error', errorCode: 'SWARM_ERR_QUEUE_FULL' }),
      usageRow({ ts: T0, outcome: 'error', errorCode: 'SWARM_ERR_QUEUE_FULL' }),
      usageRow({ ts: T0, outcome: 'cancelled', errorCode: 'SWARM_ERR_REQUEST_CANCELLED' }),
    ];
    const text = renderUsage(summarize(failed, window));
    expect(text).toMatch(/^requests\s+5 \(2 failed, 1 cancelled\)$/m);
    expect(text).toMatch(/^qwen2\.5-coder:7b\s+4\s+2\s+1\s/m);
    const byError = usageJson(summarize(failed, { ...window, by: 'error' }));
    expect(byError.groups.map((g) => [g.label, g.requests, g.errors, g.cancelled])).toEqual([
      ['-', 2, 0, 0],
      ['SWARM_ERR_QUEUE_FULL', 2, 2, 0],
      ['SWARM_ERR_REQUEST_CANCELLED', 1, 0, 1],
    ]);
  });
});
