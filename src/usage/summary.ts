// Usage totals and groups: what `swarmctl usage` shows. Pure. Every summary is built from
// UsageCounts, plain sums that add up exactly across groups and nodes, so a swarm-wide view is
// the sum of the nodes' summaries; shares and averages are derived from the sums afterwards.
import type { UsageRow } from './row.js';

/** What rows can be grouped by (`error`: the row's error code, null for requests served). */
export type UsageGroupBy = 'model' | 'node' | 'tier' | 'client' | 'backend' | 'error';

/** Every grouping key, in the order help text lists them. */
export const USAGE_GROUP_BY: readonly UsageGroupBy[] = [
  'model',
  'node',
  'tier',
  'client',
  'backend',
  'error',
];

/** Sums over a set of rows; each adds up across sets. Money in USD at full precision. */
export interface UsageCounts {
  requests: number;
  /** Requests that failed (outcome error). */
  errors: number;
  /** Requests their client cancelled before the end (outcome cancelled); neither served nor failed. */
  cancelled: number;
  /** Requests not served by a cloud provider (this node or a LAN peer). */
  localRequests: number;
  cloudRequests: number;
  promptTokens: number;
  completionTokens: number;
  /** Prompt + completion tokens of local requests. */
  localTokens: number;
  /** Actual spend (cloud only; local costs 0). */
  costUsd: number;
  /** Sum of the reference costs; null when no row had one (no reference configured). */
  referenceCostUsd: number | null;
  /** Sum of (reference − actual) over rows with a reference cost; null when none had one. */
  savingsUsd: number | null;
  /** Sum of latencies, for the average. */
  latencyMsSum: number;
  /** Sum of times to first token over rows that had one, and how many did. */
  firstTokenMsSum: number;
  firstTokenSamples: number;
}

/** UsageCounts plus what is derived from them. Shares are 0..1; null where nothing was counted. */
export interface UsageTotals extends UsageCounts {
  localShareByRequests: number | null;
  localShareByTokens: number | null;
  avgLatencyMs: number | null;
  avgFirstTokenMs: number | null;
}

/** The totals of one group. `key` is the raw value (node id for `node`; null for rows without a tier). */
export interface UsageGroup extends UsageTotals {
  key: string | null;
  /** What people see: the node name for `node`, "-" for a null key, else the key. */
  label: string;
}

/** How one node answered a swarm-wide query. */
export interface NodeUsage {
  nodeId: string;
  nodeName: string;
  /** True when the node's summary is included in the totals. */
  ok: boolean;
  /** Why it is not included; null when ok. */
  error: string | null;
  totals: UsageTotals | null;
}

/** A time window and grouping: the question a summary answers. Times are ms epoch, until exclusive. */
export interface UsageWindow {
  since: number;
  until: number;
  by: UsageGroupBy | null;
}

/** The answer to `swarmctl usage`; see render.ts for it as the stable JSON shape. */
export interface UsageSummary extends UsageWindow {
  totals: UsageTotals;
  /** Ordered by requests, most first, then label; empty when `by` is null. */
  groups: UsageGroup[];
  /** Swarm-wide summaries only: every node asked, with what it answered. */
  nodes?: NodeUsage[];
}

/** A group's sums before derivation, as the ledger's SQL or summarize() computes them. */
export interface CountedGroup {
  key: string | null;
  label: string;
  counts: UsageCounts;
}

/** Counts of nothing. */
export function emptyCounts(): UsageCounts {
  return {
    requests: 0,
    errors: 0,
    cancelled: 0,
    localRequests: 0,
    cloudRequests: 0,
    promptTokens: 0,
    completionTokens: 0,
    localTokens: 0,
    costUsd: 0,
    referenceCostUsd: null,
    savingsUsd: null,
    latencyMsSum: 0,
    firstTokenMsSum: 0,
    firstTokenSamples: 0,
  };
}

/** The counts of a single row. */
export function countsOfRow(row: UsageRow): UsageCounts {
  const tokens = row.promptTokens + row.completionTokens;
  const referenced = row.referenceCostUsd !== null;
  return {
    requests: 1,
    errors: row.outcome === 'error' ? 1 : 0,
    cancelled: row.outcome === 'cancelled' ? 1 : 0,
    localRequests: row.cloud ? 0 : 1,
    cloudRequests: row.cloud ? 1 : 0,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    localTokens: row.cloud ? 0 : tokens,
    costUsd: row.costUsd,
    referenceCostUsd: row.referenceCostUsd,
    savingsUsd: referenced ? row.referenceCostUsd! - row.costUsd : null,
    latencyMsSum: row.latencyMs,
    firstTokenMsSum: row.firstTokenMs ?? 0,
    firstTokenSamples: row.firstTokenMs === null ? 0 : 1,
  };
}

/** a + b, field by field (null + x = x). */
export function addCounts(a: UsageCounts, b: UsageCounts): UsageCounts {
  return {
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    cancelled: a.cancelled + b.cancelled,
    localRequests: a.localRequests + b.localRequests,
    cloudRequests: a.cloudRequests + b.cloudRequests,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    localTokens: a.localTokens + b.localTokens,
    costUsd: a.costUsd + b.costUsd,
    referenceCostUsd: addNullable(a.referenceCostUsd, b.referenceCostUsd),
    savingsUsd: addNullable(a.savingsUsd, b.savingsUsd),
    latencyMsSum: a.latencyMsSum + b.latencyMsSum,
    firstTokenMsSum: a.firstTokenMsSum + b.firstTokenMsSum,
    firstTokenSamples: a.firstTokenSamples + b.firstTokenSamples,
  };
}

/** The counts plus shares and averages. */
export function deriveTotals(counts: UsageCounts): UsageTotals {
  const tokens = counts.promptTokens + counts.completionTokens;
  return {
    ...pickCounts(counts),
    localShareByRequests: ratio(counts.localRequests, counts.requests),
    localShareByTokens: ratio(counts.localTokens, tokens),
    avgLatencyMs: ratio(counts.latencyMsSum, counts.requests),
    avgFirstTokenMs: ratio(counts.firstTokenMsSum, counts.firstTokenSamples),
  };
}

/** A summary from counted groups (one group with any key when `by` is null). */
export function buildSummary(window: UsageWindow, groups: readonly CountedGroup[]): UsageSummary {
  const total = groups.reduce((sum, group) => addCounts(sum, group.counts), emptyCounts());
  const shown =
    window.by === null
      ? []
      : groups
          .map((group) => ({ key: group.key, label: group.label, ...deriveTotals(group.counts) }))
          .sort((a, b) => b.requests - a.requests || a.label.localeCompare(b.label));
  return {
    since: window.since,
    until: window.until,
    by: window.by,
    totals: deriveTotals(total),
    groups: shown,
  };
}

/** The grouping key of a row: the node id for `node`, the tier (maybe null) for `tier`, the error code (null when served) for `error`. */
export function groupKey(row: UsageRow, by: UsageGroupBy): string | null {
  switch (by) {
    case 'model':
      return row.model;
    case 'node':
      return row.nodeId;
    case 'tier':
      return row.tier;
    case 'client':
      return row.client;
    case 'backend':
      return row.backend;
    case 'error':
      return row.errorCode;
  }
}

/** The label people see for a group key. */
export function groupLabel(key: string | null, by: UsageGroupBy, nodeName: string): string {
  if (key === null) return '-';
  return by === 'node' ? nodeName : key;
}

/** Summarize rows in memory (the ledger does the same in SQL); rows outside the window are skipped. */
export function summarize(rows: Iterable<UsageRow>, window: UsageWindow): UsageSummary {
  const groups = new Map<string | null, CountedGroup>();
  for (const row of rows) {
    if (row.ts < window.since || row.ts >= window.until) continue;
    const key = window.by === null ? null : groupKey(row, window.by);
    const label = window.by === null ? '' : groupLabel(key, window.by, row.nodeName);
    const group = groups.get(key);
    if (group) {
      group.counts = addCounts(group.counts, countsOfRow(row));
      group.label = label;
    } else groups.set(key, { key, label, counts: countsOfRow(row) });
  }
  return buildSummary(window, [...groups.values()]);
}

/**
 * Add up summaries of the same grouping (several nodes' ledgers) into one over `window`.
 * Groups with the same key are added; a group's label is the first one seen. Every summary must
 * be grouped by `window.by` (throws otherwise: the caller asked each node the same question).
 */
export function mergeSummaries(window: UsageWindow, summaries: readonly UsageSummary[]): UsageSummary {
  const groups = new Map<string | null, CountedGroup>();
  let total = emptyCounts();
  for (const summary of summaries) {
    if (summary.by !== window.by) {
      throw new Error(`cannot merge a summary grouped by ${summary.by} into one grouped by ${window.by}`);
    }
    total = addCounts(total, summary.totals);
    for (const group of summary.groups) {
      const known = groups.get(group.key);
      if (known) known.counts = addCounts(known.counts, group);
      else groups.set(group.key, { key: group.key, label: group.label, counts: pickCounts(group) });
    }
  }
  const merged = buildSummary(window, window.by === null ? [] : [...groups.values()]);
  return { ...merged, totals: deriveTotals(total) };
}

/** One node's part in a swarm-wide summary: its summary, or why there is none. */
export interface NodeAnswer {
  nodeId: string;
  nodeName: string;
  summary: UsageSummary | null;
  error: string | null;
}

/**
 * The swarm-wide summary for `swarmctl usage --swarm`: the nodes that answered (to the same
 * grouping) added up, every node asked listed in `nodes` with its totals or why it is left out.
 */
export function swarmSummary(window: UsageWindow, answers: readonly NodeAnswer[]): UsageSummary {
  const answered: UsageSummary[] = [];
  const nodes: NodeUsage[] = answers.map((answer) => {
    const { nodeId, nodeName, summary } = answer;
    if (summary !== null && summary.by === window.by) {
      answered.push(summary);
      return { nodeId, nodeName, ok: true, error: null, totals: summary.totals };
    }
    const error =
      summary === null
        ? (answer.error ?? 'no answer')
        : `answered grouped by ${summary.by ?? 'nothing'}, asked for ${window.by ?? 'nothing'}`;
    return { nodeId, nodeName, ok: false, error, totals: null };
  });
  return { ...mergeSummaries(window, answered), nodes };
}

/** Just the UsageCounts fields of a larger object (totals, a group, a database row). */
export function pickCounts(c: UsageCounts): UsageCounts {
  return {
    requests: c.requests,
    errors: c.errors,
    cancelled: c.cancelled,
    localRequests: c.localRequests,
    cloudRequests: c.cloudRequests,
    promptTokens: c.promptTokens,
    completionTokens: c.completionTokens,
    localTokens: c.localTokens,
    costUsd: c.costUsd,
    referenceCostUsd: c.referenceCostUsd,
    savingsUsd: c.savingsUsd,
    latencyMsSum: c.latencyMsSum,
    firstTokenMsSum: c.firstTokenMsSum,
    firstTokenSamples: c.firstTokenSamples,
  };
}

function addNullable(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return a + b;
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}
