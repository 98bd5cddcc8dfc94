// A usage summary read back from its --json text: what peers and the daemon send.
import { describe, expect, it } from 'vitest';
import { usageJson } from '../../../src/usage/render.js';
import { summarize, swarmSummary } from '../../../src/usage/summary.js';
import { parseUsageJson, UsageJsonError } from '../../../src/usage/summary-json.js';
import { cloudRow, usageRow } from './fixtures.js';

const rows = [usageRow(), usageRow({ model: 'other:1b', tier: null }), cloudRow(0.002)];
const window = { since: rows[0]!.ts - 1, until: rows[0]!.ts + 1 };

describe('parseUsageJson', () => {
  it('reads back exactly what usageJson wrote, grouped or not', () => {
    for (const by of [null, 'model', 'tier', 'node', 'error'] as const) {
      const summary = summarize(rows, { ...window, by });
      expect(parseUsageJson(JSON.stringify(usageJson(summary)))).toEqual(usageJson(summary));
    }
  });

  it('reads the nodes of a swarm-wide summary', () => {
    const summary = swarmSummary({ ...window, by: 'model' }, [
      { nodeId: 'a', nodeName: 'alpha', summary: summarize(rows, { ...window, by: 'model' }), error: null },
      { nodeId: 'b', nodeName: 'bravo', summary: null, error: 'Deadline exceeded' },
    ]);
    const parsed = parseUsageJson(JSON.stringify(usageJson(summary)));
    expect(parsed.nodes).toEqual(usageJson(summary).nodes);
  });

  it('reads an answer from an older node without the later counts (cancelled) as 0 of them', () => {
    const json = usageJson(summarize(rows, { ...window, by: 'model' })) as unknown as {
      totals: Record<string, unknown>;
      groups: Record<string, unknown>[];
    };
    delete json.totals.cancelled;
    for (const group of json.groups) delete group.cancelled;
    const parsed = parseUsageJson(JSON.stringify(json));
    expect(parsed.totals.cancelled).toBe(0);
    expect(parsed.groups.map((g) => g.cancelled)).toEqual([0, 0, 0]);
    expect(parsed.totals.requests).toBe(3);
  });

  it('derives shares and averages from the sums, whatever was sent', () => {
    const json = usageJson(summarize(rows, { ...window, by: null }));
    const lying = { ...json, totals: { ...json.totals, localShareByRequests: 1, avgLatencyMs: 0 } };
    const parsed = parseUsageJson(JSON.stringify(lying));
    expect(parsed.totals.localShareByRequests).toBeCloseTo(2 / 3);
    expect(parsed.totals.avgLatencyMs).toBe(800);
  });

  it('names the first field that is wrong', () => {
    const good = usageJson(summarize(rows, { ...window, by: 'model' }));
    const cases: [unknown, RegExp][] = [
      ['nope', /^not JSON/],
      [[], /^summary: expected an object/],
      [{ ...good, until: 'later' }, /^until: expected a number, got "later"/],
      [{ ...good, by: 'colour' }, /^by: expected null or one of model/],
      [{ ...good, totals: { ...good.totals, requests: null } }, /^totals\.requests: expected a number/],
      [{ ...good, totals: { ...good.totals, savingsUsd: 'lots' } }, /^totals\.savingsUsd/],
      [{ ...good, totals: { ...good.totals, cancelled: 'two' } }, /^totals\.cancelled: expected a number/],
      [{ ...good, groups: {} }, /^groups: expected an array/],
      [{ ...good, groups: [{ ...good.groups[0], key: 7 }] }, /^groups\[0\]\.key/],
      [{ ...good, nodes: [{ nodeId: 'a', nodeName: 'a', ok: 'yes' }] }, /^nodes\[0\]\.ok/],
    ];
    for (const [value, message] of cases) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      expect(() => parseUsageJson(text)).toThrow(UsageJsonError);
      expect(() => parseUsageJson(text)).toThrow(message);
    }
  });
});
