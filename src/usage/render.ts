// What `swarmctl usage` prints: the human table, the stable --json shape and the --jsonl rows.
// Pure: every function returns text or plain data; no colours, no I/O.
//
// PUBLIC CONTRACT (--json), UsageJson; scripts parse it, so add fields, never rename or remove:
//   {
//     since: number, until: number,          // ms epoch, the window [since, until)
//     by: 'model'|'node'|'tier'|'client'|'backend' | null,
//     totals: Totals,
//     groups: [{ key: string | null, label: string, ...Totals }],  // [] when by is null;
//                                            // key: node id for by=node, null for "no tier"
//     nodes?: [{ nodeId, nodeName, ok: boolean, error: string | null, totals: Totals | null }]
//                                            // only with --swarm: every node asked
//   }
//   Totals = { requests, errors, cancelled, localRequests, cloudRequests, promptTokens, completionTokens,
//     localTokens, costUsd, referenceCostUsd: number | null, savingsUsd: number | null,
//     latencyMsSum, firstTokenMsSum, firstTokenSamples,      // sums: these add up across nodes
//     localShareByRequests, localShareByTokens,              // 0..1, null when nothing counted
//     avgLatencyMs, avgFirstTokenMs }                        // ms, null when nothing counted
//   Money is USD at full precision (round for display); reference and savings are null when no
//   reference cloud model is configured. requests counts every request that reached the
//   dispatcher once (row.ts); errors are those that failed, cancelled those their client
//   cancelled (added later: absent from older nodes' answers, read as 0). by 'error' groups by
//   error code (key null: served).
// --jsonl: one UsageRow per line (usageRowJsonl), oldest recorded first.
import { formatDuration } from '../util/duration.js';
import { plainTable } from '../util/table.js';
import { formatUsd } from './prices.js';
import type { UsageRow } from './row.js';
import type { NodeUsage, UsageGroup, UsageSummary, UsageTotals } from './summary.js';

/** The --json output of `swarmctl usage` (see the contract above). */
export type UsageJson = UsageSummary;

/** The stable --json object of a summary, fields in contract order. */
export function usageJson(summary: UsageSummary): UsageJson {
  const json: UsageJson = {
    since: summary.since,
    until: summary.until,
    by: summary.by,
    totals: totalsJson(summary.totals),
    groups: summary.groups.map(groupJson),
  };
  if (summary.nodes !== undefined) json.nodes = summary.nodes.map(nodeJson);
  return json;
}

/** One --jsonl line for a row (fields in UsageRow order), ending in a newline. */
export function usageRowJsonl(row: UsageRow): string {
  const ordered: UsageRow = {
    ts: row.ts,
    requestId: row.requestId,
    client: row.client,
    nodeId: row.nodeId,
    nodeName: row.nodeName,
    backend: row.backend,
    model: row.model,
    tier: row.tier,
    cloud: row.cloud,
    privacy: row.privacy,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    latencyMs: row.latencyMs,
    firstTokenMs: row.firstTokenMs,
    attempts: row.attempts,
    costUsd: row.costUsd,
    referenceCostUsd: row.referenceCostUsd,
    outcome: row.outcome,
    errorCode: row.errorCode,
  };
  return `${JSON.stringify(ordered)}\n`;
}

/**
 * The human `swarmctl usage` output: the window, a totals block (requests, tokens, local share,
 * cloud cost, reference cost, savings, latency), the group table when grouped, and with --swarm
 * one line per node asked.
 */
export function renderUsage(summary: UsageSummary): string {
  const t = summary.totals;
  const lines = [`usage ${localTime(summary.since)} to ${localTime(summary.until)} (local time)`, ''];
  lines.push(
    plainTable(
      [],
      [
        ['requests', `${count(t.requests)} (${failedText(t)})`],
        ['tokens', `${count(t.promptTokens)} in, ${count(t.completionTokens)} out`],
        [
          'local share',
          `${percent(t.localShareByRequests)} of requests, ${percent(t.localShareByTokens)} of tokens`,
        ],
        ['cloud cost', `${formatUsd(t.costUsd)} (${plural(t.cloudRequests, 'request')})`],
        [
          'reference cost',
          t.referenceCostUsd === null ? '- (no reference model configured)' : formatUsd(t.referenceCostUsd),
        ],
        ['savings', t.savingsUsd === null ? '-' : formatUsd(t.savingsUsd)],
        ['latency', `${ms(t.avgLatencyMs)} average, first token ${ms(t.avgFirstTokenMs)}`],
      ],
    ),
  );
  if (summary.by !== null) {
    lines.push('');
    if (summary.groups.length === 0) lines.push(`no requests to group by ${summary.by}`);
    else lines.push(groupTable(summary.by, summary.groups));
  }
  if (summary.nodes !== undefined) lines.push('', nodeTable(summary.nodes));
  return lines.join('\n');
}

function groupTable(by: string, groups: readonly UsageGroup[]): string {
  return plainTable(
    [
      by.toUpperCase(),
      'REQUESTS',
      'FAILED',
      'CANCELLED',
      'TOKENS IN',
      'TOKENS OUT',
      'LOCAL',
      'COST',
      'REFERENCE',
      'SAVINGS',
      'LATENCY',
      'TTFT',
    ],
    groups.map((g) => [
      g.label,
      count(g.requests),
      count(g.errors),
      count(g.cancelled),
      count(g.promptTokens),
      count(g.completionTokens),
      percent(g.localShareByRequests),
      formatUsd(g.costUsd),
      g.referenceCostUsd === null ? '-' : formatUsd(g.referenceCostUsd),
      g.savingsUsd === null ? '-' : formatUsd(g.savingsUsd),
      ms(g.avgLatencyMs),
      ms(g.avgFirstTokenMs),
    ]),
  );
}

function nodeTable(nodes: readonly NodeUsage[]): string {
  return plainTable(
    ['NODE', 'REQUESTS', 'FAILED', 'LOCAL', 'COST', 'SAVINGS', 'STATUS'],
    nodes.map((n) => [
      n.nodeName,
      n.totals === null ? '-' : count(n.totals.requests),
      n.totals === null ? '-' : count(n.totals.errors),
      n.totals === null ? '-' : percent(n.totals.localShareByRequests),
      n.totals === null ? '-' : formatUsd(n.totals.costUsd),
      n.totals?.savingsUsd == null ? '-' : formatUsd(n.totals.savingsUsd),
      n.ok ? 'counted' : `left out: ${n.error ?? 'no answer'}`,
    ]),
  );
}

function totalsJson(t: UsageTotals): UsageTotals {
  return {
    requests: t.requests,
    errors: t.errors,
    cancelled: t.cancelled,
    localRequests: t.localRequests,
    cloudRequests: t.cloudRequests,
    promptTokens: t.promptTokens,
    completionTokens: t.completionTokens,
    localTokens: t.localTokens,
    costUsd: t.costUsd,
    referenceCostUsd: t.referenceCostUsd,
    savingsUsd: t.savingsUsd,
    latencyMsSum: t.latencyMsSum,
    firstTokenMsSum: t.firstTokenMsSum,
    firstTokenSamples: t.firstTokenSamples,
    localShareByRequests: t.localShareByRequests,
    localShareByTokens: t.localShareByTokens,
    avgLatencyMs: t.avgLatencyMs,
    avgFirstTokenMs: t.avgFirstTokenMs,
  };
}

function groupJson(g: UsageGroup): UsageGroup {
  return { key: g.key, label: g.label, ...totalsJson(g) };
}

function nodeJson(n: NodeUsage): NodeUsage {
  return {
    nodeId: n.nodeId,
    nodeName: n.nodeName,
    ok: n.ok,
    error: n.error,
    totals: n.totals === null ? null : totalsJson(n.totals),
  };
}

/** "2 failed", and ", 1 cancelled" when any were. */
function failedText(t: UsageTotals): string {
  const failed = `${count(t.errors)} failed`;
  return t.cancelled > 0 ? `${failed}, ${count(t.cancelled)} cancelled` : failed;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function plural(n: number, noun: string): string {
  return `${count(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** A share as a whole percent, rounded down so 99.6% local never reads as 100%. */
function percent(share: number | null): string {
  return share === null ? '-' : `${Math.floor(share * 100)}%`;
}

function ms(value: number | null): string {
  return value === null ? '-' : formatDuration(Math.round(value));
}

function localTime(msEpoch: number): string {
  const d = new Date(msEpoch);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
