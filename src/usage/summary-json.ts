// Reading a usage summary back from its stable --json text (render.ts usageJson): how a peer's
// ledger answer (UsageSummary RPC) and the daemon's answer to swarmctl (Usage RPC) travel. Pure.
// Every field is checked; shares and averages are derived again from the sums, never believed.
import {
  deriveTotals,
  type NodeUsage,
  USAGE_GROUP_BY,
  type UsageCounts,
  type UsageGroup,
  type UsageGroupBy,
  type UsageSummary,
  type UsageTotals,
} from './summary.js';

const COUNT_FIELDS = [
  'requests',
  'errors',
  'localRequests',
  'cloudRequests',
  'promptTokens',
  'completionTokens',
  'localTokens',
  'costUsd',
  'latencyMsSum',
  'firstTokenMsSum',
  'firstTokenSamples',
] as const;

const NULLABLE_COUNT_FIELDS = ['referenceCostUsd', 'savingsUsd'] as const;

// Added after the first release: a peer of an older release leaves them out, which counts as 0.
const LATER_COUNT_FIELDS = ['cancelled'] as const;

/** A summary text that is not the usageJson shape; the message names the first bad field. */
export class UsageJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageJsonError';
  }
}

/** Parse and check a usageJson text; throws UsageJsonError naming the first field that is wrong. */
export function parseUsageJson(text: string): UsageSummary {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageJsonError(`not JSON: ${(err as Error).message}`);
  }
  const root = object(value, 'summary');
  const summary: UsageSummary = {
    since: finite(root['since'], 'since'),
    until: finite(root['until'], 'until'),
    by: groupBy(root['by']),
    totals: totals(root['totals'], 'totals'),
    groups: array(root['groups'], 'groups').map((group, i) => groupOf(group, `groups[${i}]`)),
  };
  if (root['nodes'] !== undefined) {
    summary.nodes = array(root['nodes'], 'nodes').map((node, i) => nodeOf(node, `nodes[${i}]`));
  }
  return summary;
}

function groupBy(value: unknown): UsageGroupBy | null {
  if (value === null) return null;
  if (typeof value === 'string' && (USAGE_GROUP_BY as readonly string[]).includes(value)) {
    return value as UsageGroupBy;
  }
  throw new UsageJsonError(`by: expected null or one of ${USAGE_GROUP_BY.join(', ')}, got ${show(value)}`);
}

function totals(value: unknown, where: string): UsageTotals {
  const source = object(value, where);
  const counts = {} as Record<string, number | null>;
  for (const field of COUNT_FIELDS) counts[field] = finite(source[field], `${where}.${field}`);
  for (const field of LATER_COUNT_FIELDS) {
    counts[field] = source[field] === undefined ? 0 : finite(source[field], `${where}.${field}`);
  }
  for (const field of NULLABLE_COUNT_FIELDS) {
    const raw = source[field];
    counts[field] = raw === null ? null : finite(raw, `${where}.${field}`);
  }
  return deriveTotals(counts as unknown as UsageCounts);
}

function groupOf(value: unknown, where: string): UsageGroup {
  const source = object(value, where);
  const key = source['key'];
  if (key !== null && typeof key !== 'string') {
    throw new UsageJsonError(`${where}.key: expected a string or null, got ${show(key)}`);
  }
  return { key, label: string(source['label'], `${where}.label`), ...totals(source, where) };
}

function nodeOf(value: unknown, where: string): NodeUsage {
  const source = object(value, where);
  const ok = source['ok'];
  if (typeof ok !== 'boolean') throw new UsageJsonError(`${where}.ok: expected a boolean, got ${show(ok)}`);
  const error = source['error'];
  if (error !== null && typeof error !== 'string') {
    throw new UsageJsonError(`${where}.error: expected a string or null, got ${show(error)}`);
  }
  return {
    nodeId: string(source['nodeId'], `${where}.nodeId`),
    nodeName: string(source['nodeName'], `${where}.nodeName`),
    ok,
    error,
    totals: source['totals'] === null ? null : totals(source['totals'], `${where}.totals`),
  };
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageJsonError(`${where}: expected an object, got ${show(value)}`);
  }
  return value as Record<string, unknown>;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new UsageJsonError(`${where}: expected an array, got ${show(value)}`);
  return value;
}

function finite(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new UsageJsonError(`${where}: expected a number, got ${show(value)}`);
  }
  return value;
}

function string(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new UsageJsonError(`${where}: expected a string, got ${show(value)}`);
  return value;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
