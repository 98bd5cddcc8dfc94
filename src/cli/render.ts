// Human output of swarmctl: plain tables and key: value blocks built from the --json shapes.
// No colours, no I/O: every function returns the text to print (without a final newline).
import { swarmLabel } from '../security/names.js';
import { formatDuration } from '../util/duration.js';
import { plainTable } from '../util/table.js';
import type {
  DoctorJson,
  GpuJson,
  ModelJson,
  ModelsJson,
  NodeJson,
  NodesJson,
  RekeyJson,
  ServedJson,
  StatusJson,
  VisibleNodeJson,
} from './json.js';

/** Most model names shown in one table cell before "+N more". */
export const MAX_MODELS_SHOWN = 3;

/** Longest model name shown in a table cell before it is cut with "…". */
export const MAX_MODEL_NAME = 32;

/** Most endpoints listed per group of nodes seen on the LAN before "+N more". */
export const MAX_ENDPOINTS_SHOWN = 3;

/** What an unpaired node is told to do. */
export const JOIN_HINT =
  'To join a swarm: on a member run `swarmctl token`, then here `swarmctl join <token>`; ' +
  'to start a new swarm: `swarmctl init`';

/** The STATE cell: membership state, or what an alive node is doing, plus compatibility and reachability. */
export function stateLabel(node: NodeJson): string {
  if (!node.compatible) return `incompatible (v${node.protocol})`;
  let label: string = node.state;
  if (node.state === 'alive' && node.activity !== 'active') {
    label = node.activityReason ? `${node.activity} (${node.activityReason})` : node.activity;
  }
  if (isOneWay(node)) label += ', one-way';
  return label;
}

/** True when only one direction between this daemon and the peer works. */
export function isOneWay(node: NodeJson): boolean {
  if (node.self || (node.state !== 'alive' && node.state !== 'suspect')) return false;
  return node.reachability.outbound !== node.reachability.inbound;
}

/** A GPU as "RTX 4090 1.2/24.0G" (used/total GiB; the name without vendor prefixes). */
export function gpuLabel(gpu: GpuJson): string {
  const name = gpu.name
    .replace(/^(NVIDIA\s+|AMD\s+|Intel\(R\)\s+|Intel\s+)/i, '')
    .replace(/^GeForce\s+/i, '');
  const unified = gpu.unifiedMemory ? ' unified' : '';
  if (gpu.memoryTotalMiB === null) return `${name || 'GPU'}${unified}`;
  const used = gpu.memoryUsedMiB === null ? '?' : gib(gpu.memoryUsedMiB);
  return `${name || 'GPU'} ${used}/${gib(gpu.memoryTotalMiB)}G${unified}`;
}

/** Age of the last heartbeat as "0.4s ago"; "-" for this node or a node never heard from. */
export function heartbeatLabel(node: NodeJson): string {
  if (node.self || node.lastHeartbeatAgeMs === null) return '-';
  const ms = node.lastHeartbeatAgeMs;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s ago`;
  return `${formatDuration(ms)} ago`;
}

/** A context length as "32k" when it is a whole number of KiB tokens, else the number; "-" when unknown. */
export function contextLabel(value: number | null): string {
  if (value === null) return '-';
  return value % 1024 === 0 ? `${value / 1024}k` : String(value);
}

/**
 * The `swarmctl nodes` output: the swarm and epoch (when paired), the table, one line per node that
 * reports a problem, then what this node sees on the LAN outside its swarm.
 */
export function renderNodes(data: NodesJson): string {
  const lines: string[] = [];
  if (data.paired) lines.push(swarmLabel({ swarmId: data.swarm ?? '?', epoch: data.epoch }), '');
  lines.push(...renderTable(data));
  lines.push('', ...(data.paired ? renderStrangers(data) : renderUnpaired(data.visible)));
  while (lines.at(-1) === '') lines.pop();
  return lines.join('\n');
}

function renderTable(data: NodesJson): string[] {
  if (data.nodes.length === 0) return ['no nodes known (the daemon has not reported itself yet)'];
  const rows = data.nodes.map((node) => [
    node.self ? `${node.name} *` : node.name,
    stateLabel(node),
    node.address ?? node.addresses[0] ?? '-',
    node.gpus.length > 0 ? node.gpus.map(gpuLabel).join(', ') : '-',
    node.backends.length > 0 ? node.backends.map((b) => (b.healthy ? b.kind : `${b.kind}!`)).join(', ') : '-',
    modelsCell(node),
    String(node.inflight),
    heartbeatLabel(node),
  ]);
  const lines = [
    plainTable(['NAME', 'STATE', 'ADDRESS', 'GPUS', 'BACKENDS', 'MODELS', 'LOAD', 'HEARTBEAT'], rows),
  ];
  const problems = data.nodes.filter((n) => n.problem !== null).map((n) => `${n.name}: ${n.problem}`);
  if (problems.length > 0) lines.push('', ...problems);
  const unhealthy = data.nodes.some((n) => n.backends.some((b) => !b.healthy));
  const legend = ['* = this node / loaded model'];
  if (unhealthy) legend.push('! = backend unhealthy');
  lines.push('', legend.join(', '));
  return lines;
}

/** An unpaired node: who it sees on the LAN, grouped by swarm, and how to join or start a swarm. */
export function renderUnpaired(visible: readonly VisibleNodeJson[]): string[] {
  if (visible.length === 0) {
    return ['This node is not in a swarm, and sees no other swarmd on the LAN.', JOIN_HINT];
  }
  const groups = new Map<string | null, VisibleNodeJson[]>();
  for (const node of visible) groups.set(node.swarm, [...(groups.get(node.swarm) ?? []), node]);
  // Swarms first, biggest first; unpaired nodes last.
  const ordered = [...groups].sort(
    ([a, as], [b, bs]) =>
      Number(a === null) - Number(b === null) || bs.length - as.length || String(a).localeCompare(String(b)),
  );
  const lines = ['This node is not in a swarm. Nodes seen on the LAN:'];
  for (const [swarm, nodes] of ordered) {
    lines.push(
      `  ${swarm === null ? 'unpaired' : swarmLabel({ swarmId: swarm })}: ${plural(nodes.length, 'node')} (${endpointList(nodes)})`,
    );
  }
  lines.push(JOIN_HINT);
  return lines;
}

/**
 * A paired node: members of this swarm on another credential epoch (one of the two missed a
 * rotation, and what to run), then a one-line count of the other nodes on the LAN.
 */
export function renderStrangers(data: NodesJson): string[] {
  const lines: string[] = [];
  const ours = data.swarm !== null && data.epoch !== null;
  const sameSwarm = (n: VisibleNodeJson) => ours && n.swarm === data.swarm && n.epoch !== null;
  const behind = data.visible.filter((n) => sameSwarm(n) && n.epoch! < data.epoch!);
  const ahead = data.visible.filter((n) => sameSwarm(n) && n.epoch! > data.epoch!);
  for (const node of behind) {
    lines.push(
      `${visibleLabel(node)} holds epoch ${node.epoch} of this swarm (now ${data.epoch}): unless it was removed, ` +
        'it missed a credential change; on it run `swarmctl join <token>` (`swarmctl token` here prints the token)',
    );
  }
  if (ahead.length > 0) {
    const newest = Math.max(...ahead.map((n) => n.epoch!));
    lines.push(
      `${ahead.map(visibleLabel).join(', ')} ${ahead.length === 1 ? 'holds' : 'hold'} epoch ${newest} of this ` +
        `swarm but this node holds ${data.epoch}: this node missed a credential change; run \`swarmctl token\` ` +
        'on an up-to-date member, then here `swarmctl join <token>`',
    );
  }
  const others = data.visible.length - behind.length - ahead.length;
  if (others > 0) {
    lines.push(
      `${plural(others, 'other node')} on the LAN ${others === 1 ? 'is' : 'are'} not in this swarm ` +
        '(swarmctl nodes --json lists them; to add one, run `swarmctl join <token>` on it)',
    );
  }
  return lines;
}

/** What `swarmctl remove` / `swarmctl rotate` did; names maps node ids to names where known. */
export function renderRekey(data: RekeyJson, names: ReadonlyMap<string, string> = new Map()): string {
  const label = (id: string) => {
    const name = names.get(id);
    return name && name !== id ? `${name} (${id})` : id;
  };
  const creds = `epoch ${data.epoch}, fingerprint ${data.fingerprint || '?'}`;
  const lines = [
    data.removed === null
      ? `Rotated the swarm credentials: ${creds}.`
      : `Removed ${label(data.removed)} from the swarm for good; new swarm credentials: ${creds}.`,
  ];
  if (data.delivered.length > 0) {
    lines.push(`Took the new credentials: ${data.delivered.map(label).join(', ')}`);
  } else {
    lines.push('No other member was online to take the new credentials.');
  }
  if (data.missed.length > 0) {
    lines.push(
      '',
      `${plural(data.missed.length, 'member')} ${data.missed.length === 1 ? 'was' : 'were'} offline and ` +
        'missed the new credentials; until they re-join, the swarm refuses them:',
    );
    for (const id of data.missed) lines.push(`  ${label(id)}: on it run \`swarmctl join <token>\``);
    lines.push('Print the new token on this box with `swarmctl token`.');
  }
  return lines.join('\n');
}

/** The `swarmctl models` table. */
export function renderModels(data: ModelsJson): string {
  if (data.models.length === 0) return 'no models in the swarm (no healthy backend reported any)';
  const rows = data.models.map((model) => [
    model.id,
    model.nodes.map((n) => `${n.name}/${backendKind(n.backend)}`).join(', '),
    loadedCell(model),
    contextLabel(model.maxContextLength),
  ]);
  return plainTable(['MODEL', 'NODES', 'LOADED', 'CONTEXT'], rows);
}

/** The `swarmctl status` key: value block for this node. */
export function renderStatus(data: StatusJson): string {
  const node = data.node;
  const activity = node.activityReason ? `${node.activity} (${node.activityReason})` : node.activity;
  const entries: [string, string[]][] = [
    ['id', [node.id || '-']],
    ['name', [node.name || '-']],
    ['state', [`${node.state}, ${activity}`]],
    ['addresses', [node.addresses.length > 0 ? node.addresses.join(', ') : '-']],
    ['protocol', [node.protocol]],
    ['version', [node.softwareVersion ?? '-']],
    ['GPUs', node.gpus.length > 0 ? node.gpus.map(gpuLabel) : ['-']],
    [
      'backends',
      node.backends.length > 0
        ? node.backends.map((b) => {
            const health = b.healthy ? 'healthy' : `unhealthy${b.error ? `: ${b.error}` : ''}`;
            return `${b.id} (${b.kind}${b.version ? ` ${b.version}` : ''}) ${health}`;
          })
        : ['-'],
    ],
    ['models', node.models.length > 0 ? node.models.map((m) => `${m.id}${m.loaded ? ' *' : ''}`) : ['-']],
    ['in flight', [String(node.inflight)]],
    ['uptime', [formatDuration(data.uptimeMs)]],
    ['data dir', [data.dataDir]],
    ['config', [data.configPath ?? '(none: defaults)']],
    ['socket', [data.controlSocket]],
    ['peer port', [String(data.peerPort)]],
    ['mDNS', [data.mdns ? 'on' : 'off']],
    ['gateway', [data.gatewayUrl ?? '-']],
  ];
  if (node.problem !== null) entries.push(['problem', [node.problem]]);
  const width = Math.max(...entries.map(([key]) => key.length)) + 2;
  const lines: string[] = [];
  for (const [key, values] of entries) {
    values.forEach((value, i) => {
      lines.push(`${(i === 0 ? `${key}:` : '').padEnd(width)}${value}`);
    });
  }
  return lines.join('\n');
}

/** The `swarmctl doctor` report: one line per check, its fix indented, then a summary. */
export function renderDoctor(data: DoctorJson): string {
  const tags = { ok: '[ok]  ', warn: '[warn]', fail: '[FAIL]' } as const;
  const lines: string[] = [];
  for (const check of data.checks) {
    lines.push(`${tags[check.status]} ${check.name}: ${check.detail}`);
    if (check.fix !== null) lines.push(`       → ${check.fix}`);
  }
  const count = (status: string) => data.checks.filter((c) => c.status === status).length;
  const warns = count('warn');
  const fails = count('fail');
  if (data.checks.length === 0) lines.push('no checks ran');
  else if (warns === 0 && fails === 0)
    lines.push(`all ${data.checks.length} check${data.checks.length === 1 ? '' : 's'} passed`);
  else {
    lines.push(
      `${count('ok')} ok, ${warns} warning${warns === 1 ? '' : 's'}, ${fails} failure${fails === 1 ? '' : 's'}`,
    );
  }
  return lines.join('\n');
}

/** What `swarmctl chat` knows at the end of a reply, for its footer. */
export interface ChatFooterFacts {
  served: ServedJson;
  /** From the reply's usage; null when the gateway did not say. */
  promptTokens: number | null;
  completionTokens: number | null;
  /** From sending the request to the last token. */
  elapsedMs: number;
}

/**
 * The one-line `swarmctl chat` footer (stderr, after the reply):
 * `served by bravo (qwen3:8b, fast) · 1 attempt · 12 tokens (5 in, 7 out) · 1.4s`.
 */
export function renderChatFooter(facts: ChatFooterFacts): string {
  const { served } = facts;
  const detail = [served.model, served.tier].filter((part): part is string => part !== null);
  const parts = [
    `served by ${served.node ?? 'an unknown node'}${detail.length > 0 ? ` (${detail.join(', ')})` : ''}`,
  ];
  if (served.attempts !== null) parts.push(plural(served.attempts, 'attempt'));
  const { promptTokens: input, completionTokens: output } = facts;
  if (input !== null && output !== null)
    parts.push(`${plural(input + output, 'token')} (${input} in, ${output} out)`);
  else if (output !== null) parts.push(`${plural(output, 'token')} out`);
  parts.push(formatDuration(Math.max(0, Math.round(facts.elapsedMs))));
  return parts.join(' · ');
}

function modelsCell(node: NodeJson): string {
  const byId = new Map<string, boolean>();
  for (const model of node.models) byId.set(model.id, (byId.get(model.id) ?? false) || model.loaded);
  if (byId.size === 0) return '-';
  const sorted = [...byId].sort(
    ([a, la], [b, lb]) => Number(lb) - Number(la) || (a < b ? -1 : a > b ? 1 : 0),
  );
  const shown = sorted
    .slice(0, MAX_MODELS_SHOWN)
    .map(([id, loaded]) => `${truncate(id, MAX_MODEL_NAME)}${loaded ? '*' : ''}`);
  if (sorted.length > MAX_MODELS_SHOWN) shown.push(`+${sorted.length - MAX_MODELS_SHOWN} more`);
  return shown.join(', ');
}

function loadedCell(model: ModelJson): string {
  const names = [...new Set(model.nodes.filter((n) => n.loaded).map((n) => n.name))];
  return names.length > 0 ? `yes on ${names.join(', ')}` : 'no';
}

function backendKind(backendId: string): string {
  const at = backendId.indexOf('@');
  return at > 0 ? backendId.slice(0, at) : backendId;
}

function visibleLabel(node: VisibleNodeJson): string {
  return node.endpoints.length > 0 ? `${node.id} (${node.endpoints[0]})` : node.id;
}

function endpointList(nodes: readonly VisibleNodeJson[]): string {
  const shown = nodes.slice(0, MAX_ENDPOINTS_SHOWN).map((n) => n.endpoints[0] ?? n.id);
  if (nodes.length > MAX_ENDPOINTS_SHOWN) shown.push(`+${nodes.length - MAX_ENDPOINTS_SHOWN} more`);
  return shown.join(', ');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

function gib(mib: number): string {
  return (mib / 1024).toFixed(1);
}
