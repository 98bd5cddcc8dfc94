// The `swarmctl --json` output shapes, built from the control service's wire messages.
//
// PUBLIC CONTRACT: scripts parse these. Keep every field's name, type and meaning stable;
// add fields rather than change or remove them, and document changes in the README.
// Conventions: absent or empty values are null (never "" or 0 as "unknown"), times are
// ms epoch, ages and durations are whole ms (integers), enums are lower-case words. This file does no I/O.

import type { SystemFacts } from '../node/types.js';
import type {
  ActivityReportMessage,
  DoctorResponse,
  ListModelsResponse,
  ListNodesResponse,
  RekeyReport,
  StatusResponse,
  WireActivity,
  WireBackend,
  WireGpu,
  WireNodeInfo,
  WirePeerView,
  WireSystemFacts,
  WireVisibleNode,
} from '../rpc/wire.js';
import type { Credentials } from '../security/credentials.js';

/** Membership state of a node as this daemon sees it. */
export type NodeState = 'alive' | 'suspect' | 'dead' | 'left';

/** What a node says it is doing. */
export type NodeActivity = 'active' | 'paused' | 'draining' | 'leaving';

/** One GPU of a node; null where the driver does not say. */
export interface GpuJson {
  index: number;
  vendor: string;
  name: string;
  uuid: string | null;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  memoryFreeMiB: number | null;
  utilizationPct: number | null;
  temperatureC: number | null;
  powerW: number | null;
  unifiedMemory: boolean;
}

/** One model as a backend reports it. */
export interface BackendModelJson {
  id: string;
  loaded: boolean;
  contextLength: number | null;
  maxConcurrency: number;
  inflight: number;
}

/** One model server of a node. */
export interface BackendJson {
  id: string;
  kind: string;
  url: string;
  healthy: boolean;
  version: string | null;
  error: string | null;
  models: BackendModelJson[];
}

/** A model of a node, flattened over its backends (one entry per backend and model). */
export interface NodeModelJson {
  id: string;
  backend: string;
  loaded: boolean;
  contextLength: number | null;
}

/** Facts about a node's machine: the same fields the daemon gathers (node/types.ts). */
export type SystemJson = SystemFacts;

/** One node of the swarm (a row of the peer table, or this node). */
export interface NodeJson {
  id: string;
  name: string;
  self: boolean;
  state: NodeState;
  activity: NodeActivity;
  activityReason: string | null;
  /** ms epoch of the last state change. */
  stateSince: number;
  /** Whole ms (rounded: the daemon measures it on a sub-ms clock); null when never heard from; 0 for this node. */
  lastHeartbeatAgeMs: number | null;
  /** The endpoint in use for dialling. */
  address: string | null;
  /** The endpoints the node advertises. */
  addresses: string[];
  /** Protocol version "major.minor". */
  protocol: string;
  compatible: boolean;
  reachability: { outbound: boolean; inbound: boolean };
  problem: string | null;
  incarnation: number;
  gpus: GpuJson[];
  backends: BackendJson[];
  models: NodeModelJson[];
  inflight: number;
  system: SystemJson | null;
  softwareVersion: string | null;
}

/** A node seen on the LAN that is not in this node's swarm: another swarm, another epoch, or unpaired. */
export interface VisibleNodeJson {
  id: string;
  /** The endpoints it advertises. */
  endpoints: string[];
  /** The swarm it says it is in; null when it is unpaired. */
  swarm: string | null;
  /** Its credential epoch of that swarm; null when unpaired. */
  epoch: number | null;
  /** ms epoch of its last advert. */
  lastSeen: number;
}

/** `swarmctl nodes --json`. */
export interface NodesJson {
  self: string;
  nodes: NodeJson[];
  /** This node holds swarm credentials; when false it serves no peer and `nodes` holds only itself. */
  paired: boolean;
  /** The swarm this node is in; null when unpaired. */
  swarm: string | null;
  /** This node's credential epoch (1 at init, +1 per rotate/remove); null when unpaired. */
  epoch: number | null;
  /** Nodes on the LAN outside this swarm (or in it on another epoch), as their adverts say. */
  visible: VisibleNodeJson[];
}

/** One node holding a model. */
export interface ModelHolderJson {
  id: string;
  name: string;
  backend: string;
  loaded: boolean;
  contextLength: number | null;
}

/** One model of the swarm catalogue. */
export interface ModelJson {
  id: string;
  nodes: ModelHolderJson[];
  /** How many distinct nodes have it loaded. */
  loadedOn: number;
  maxContextLength: number | null;
}

/** `swarmctl models --json`. */
export interface ModelsJson {
  models: ModelJson[];
}

/** `swarmctl status --json`. */
export interface StatusJson {
  node: NodeJson;
  /** Whole ms since the daemon started. */
  uptimeMs: number;
  dataDir: string;
  configPath: string | null;
  controlSocket: string;
  peerPort: number;
  mdns: boolean;
  /** The OpenAI-compatible endpoint as a client on this box reaches it; null before it listens. */
  gatewayUrl: string | null;
}

/** Outcome of one doctor check. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One doctor check. */
export interface DoctorCheckJson {
  name: string;
  status: CheckStatus;
  detail: string;
  fix: string | null;
}

/** `swarmctl doctor --json`. */
export interface DoctorJson {
  /** True when no check failed (warnings allowed). */
  ok: boolean;
  checks: DoctorCheckJson[];
}

/** `swarmctl remove --json` and `swarmctl rotate --json`: what the credential change reached. */
export interface RekeyJson {
  /** The new credential epoch. */
  epoch: number;
  /** Short fingerprint of the new swarm CA (what `swarmctl join` on a member prints). */
  fingerprint: string;
  /** Node ids that took the new credentials. */
  delivered: string[];
  /** Node ids of members that were offline: each must run `swarmctl join <token>` again. */
  missed: string[];
  /** The node id removed; null for rotate. */
  removed: string | null;
}

/** What unloading did on one backend of this node (`swarmctl pause --unload --json`). */
export interface UnloadJson {
  backend: string;
  kind: string;
  /** unloaded (every loaded model asked to go; models may be empty), unsupported, or failed. */
  outcome: 'unloaded' | 'unsupported' | 'failed';
  /** Models (LM Studio: instances) unloaded. */
  models: string[];
  /** Why unsupported, or the error; null otherwise. */
  detail: string | null;
}

/** `swarmctl pause|resume|drain --json`: this node's activity after the command. */
export interface ActivityJson {
  activity: NodeActivity;
  /** e.g. "manual", "gaming: steam"; null when active. */
  reason: string | null;
  /** Requests still running on this node's backends. */
  inflight: number;
  /** Nothing of ours runs any more (always false right after a pause without --wait that had work). */
  drained: boolean;
  /** Requests handed back to other nodes when the grace ran out. */
  handedBack: number;
  /** One entry per backend with --unload, else []. */
  unload: UnloadJson[];
}

/** Pause/Resume/Drain reply → `pause|resume|drain --json`. */
export function activityReportJson(reply: ActivityReportMessage): ActivityJson {
  const outcomes = new Set(['unloaded', 'unsupported', 'failed']);
  return {
    activity: activityJson(reply.activity),
    reason: text(reply.reason),
    inflight: reply.inflight ?? 0,
    drained: Boolean(reply.drained),
    handedBack: reply.handedBack ?? 0,
    unload: (reply.unload ?? []).map((entry) => ({
      backend: entry.backendId,
      kind: entry.kind,
      outcome: (outcomes.has(entry.outcome) ? entry.outcome : 'failed') as UnloadJson['outcome'],
      models: [...(entry.models ?? [])],
      detail: text(entry.detail),
    })),
  };
}

/** `swarmctl join --json`: the swarm this box is in now. */
export interface JoinJson {
  /** Swarm id (stays the same across rotations). */
  swarm: string;
  /** Short fingerprint of the current swarm CA (changes on rotate/remove). */
  fingerprint: string;
  epoch: number;
}

/** `swarmctl init --json`: the new swarm and its join token. */
export interface InitJson extends JoinJson {
  /** The join token (secret: it grants membership). */
  token: string;
}

/** `swarmctl token --json`. */
export interface TokenJson {
  token: string;
}

/** Who served a `swarmctl chat` reply, from the gateway's x-swarm-* headers; null where one is missing. */
export interface ServedJson {
  /** Name of the node that ran it (x-swarm-node). */
  node: string | null;
  /** The concrete model that answered (x-swarm-model). */
  model: string | null;
  /** The tier it was routed through (x-swarm-tier); null when a model was named directly. */
  tier: string | null;
  /** Targets tried, fallbacks included (x-swarm-attempts). */
  attempts: number | null;
}

/** `swarmctl chat --json`: the gateway's chat.completion object as it came, plus `swarm`. */
export type ChatJson<Completion extends object = Record<string, unknown>> = Completion & {
  swarm: ServedJson;
};

/** Printed on stdout with --json when a command fails. */
export interface ErrorJson {
  error: { code: string | null; message: string };
}

const ACTIVITIES: Record<string, NodeActivity> = {
  ACTIVITY_ACTIVE: 'active',
  ACTIVITY_PAUSED: 'paused',
  ACTIVITY_DRAINING: 'draining',
  ACTIVITY_LEAVING: 'leaving',
};

const STATES: readonly NodeState[] = ['alive', 'suspect', 'dead', 'left'];
const CHECK_STATUSES: readonly CheckStatus[] = ['ok', 'warn', 'fail'];

const EMPTY_NODE: WireNodeInfo = {
  id: '',
  name: '',
  endpoints: [],
  protocol: null,
  incarnation: 0,
  activity: 'ACTIVITY_UNSPECIFIED',
  gpus: [],
  backends: [],
  system: null,
  softwareVersion: '',
  inflight: 0,
  generation: 0,
  activityReason: '',
};

/** Wire activity enum → its lower-case word (unset or unknown reads as active). */
export function activityJson(activity: WireActivity | string | number | undefined): NodeActivity {
  return ACTIVITIES[String(activity)] ?? 'active';
}

/** One row of the peer table → NodeJson. */
export function nodeJson(view: WirePeerView): NodeJson {
  const info = view.node ?? EMPTY_NODE;
  const backends = (info.backends ?? []).map(backendJson);
  const state = String(view.state ?? '').toLowerCase();
  const age = optionalNumber(view.lastHeartbeatAgeMs);
  return {
    id: info.id,
    name: info.name,
    self: Boolean(view.self),
    state: (STATES as readonly string[]).includes(state) ? (state as NodeState) : 'dead',
    activity: activityJson(info.activity),
    activityReason: text(info.activityReason),
    stateSince: view.stateSinceMs ?? 0,
    lastHeartbeatAgeMs: view.self ? 0 : age === null || age < 0 ? null : Math.round(age),
    address: text(view.address),
    addresses: [...(info.endpoints ?? [])],
    protocol: `${info.protocol?.major ?? 0}.${info.protocol?.minor ?? 0}`,
    compatible: Boolean(view.compatible),
    reachability: { outbound: Boolean(view.outboundOk), inbound: Boolean(view.inboundOk) },
    problem: text(view.problem),
    incarnation: info.incarnation ?? 0,
    gpus: (info.gpus ?? []).map(gpuJson),
    backends,
    models: flattenModels(backends),
    inflight: info.inflight ?? 0,
    system: info.system ? systemJson(info.system) : null,
    softwareVersion: text(info.softwareVersion),
  };
}

/** ListNodes reply → `nodes --json`. */
export function nodesJson(reply: ListNodesResponse): NodesJson {
  const paired = Boolean(reply.paired);
  return {
    self: reply.selfId,
    nodes: (reply.nodes ?? []).map(nodeJson),
    paired,
    swarm: paired ? text(reply.swarm) : null,
    epoch: paired ? positive(reply.epoch) : null,
    visible: (reply.visible ?? []).map(visibleJson),
  };
}

/** One node seen on the LAN outside this swarm → VisibleNodeJson. */
export function visibleJson(node: WireVisibleNode): VisibleNodeJson {
  const swarm = text(node.swarm);
  return {
    id: node.id,
    endpoints: [...(node.endpoints ?? [])],
    swarm,
    epoch: swarm === null ? null : positive(node.epoch),
    lastSeen: optionalNumber(node.lastSeenMs) ?? 0,
  };
}

/** RemoveNode/Rotate reply → `remove --json` / `rotate --json`. */
export function rekeyJson(reply: RekeyReport): RekeyJson {
  return {
    epoch: reply.epoch ?? 0,
    fingerprint: reply.fingerprint ?? '',
    delivered: [...(reply.delivered ?? [])],
    missed: [...(reply.missed ?? [])],
    removed: text(reply.removed),
  };
}

/** Credentials just joined → `join --json`. */
export function joinJson(creds: Pick<Credentials, 'swarmId' | 'fingerprint' | 'epoch'>): JoinJson {
  return { swarm: creds.swarmId, fingerprint: creds.fingerprint, epoch: creds.epoch };
}

/** A new swarm and its token → `init --json`. */
export function initJson(
  token: string,
  creds: Pick<Credentials, 'swarmId' | 'fingerprint' | 'epoch'>,
): InitJson {
  return { token, ...joinJson(creds) };
}

/** ListModels reply → `models --json`, models sorted by id. */
export function modelsJson(reply: ListModelsResponse): ModelsJson {
  const models = (reply.models ?? []).map((entry): ModelJson => {
    const nodes = (entry.holders ?? []).map(
      (holder): ModelHolderJson => ({
        id: holder.nodeId,
        name: holder.nodeName,
        backend: holder.backend,
        loaded: Boolean(holder.loaded),
        contextLength: contextLength(holder.contextLength),
      }),
    );
    const loadedOn = new Set(nodes.filter((n) => n.loaded).map((n) => n.id)).size;
    const contexts = nodes.map((n) => n.contextLength).filter((c): c is number => c !== null);
    return {
      id: entry.model,
      nodes,
      loadedOn,
      maxContextLength: contexts.length > 0 ? Math.max(...contexts) : null,
    };
  });
  models.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { models };
}

/** Status reply → `status --json`. */
export function statusJson(reply: StatusResponse): StatusJson {
  return {
    node: nodeJson(reply.self ?? emptyView()),
    uptimeMs: Math.round(reply.uptimeMs ?? 0),
    dataDir: reply.dataDir,
    configPath: text(reply.configPath),
    controlSocket: reply.controlSocket,
    peerPort: reply.peerPort ?? 0,
    mdns: Boolean(reply.mdnsEnabled),
    gatewayUrl: text(reply.gatewayUrl),
  };
}

/** Doctor reply → `doctor --json`; an unknown status word reads as a warning. */
export function doctorJson(reply: DoctorResponse): DoctorJson {
  const checks = (reply.checks ?? []).map((check): DoctorCheckJson => {
    const status = String(check.status ?? '').toLowerCase();
    return {
      name: check.name,
      status: (CHECK_STATUSES as readonly string[]).includes(status) ? (status as CheckStatus) : 'warn',
      detail: check.detail,
      fix: text(check.fix),
    };
  });
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

/** The x-swarm-* headers of a gateway reply → ServedJson. */
export function servedJson(headers: { get(name: string): string | null }): ServedJson {
  const attempts = Number.parseInt(headers.get('x-swarm-attempts') ?? '', 10);
  return {
    node: text(headers.get('x-swarm-node')),
    model: text(headers.get('x-swarm-model')),
    tier: text(headers.get('x-swarm-tier')),
    attempts: Number.isFinite(attempts) && attempts >= 0 ? attempts : null,
  };
}

/** A non-streaming completion and who served it → `chat --json` (the completion's fields first). */
export function chatJson<Completion extends object>(
  completion: Completion,
  served: ServedJson,
): ChatJson<Completion> {
  return { ...completion, swarm: { ...served } };
}

/** The --json error body. */
export function errorJson(code: string | null, message: string): ErrorJson {
  return { error: { code, message } };
}

function gpuJson(gpu: WireGpu): GpuJson {
  return {
    index: gpu.index ?? 0,
    vendor: gpu.vendor,
    name: gpu.name,
    uuid: text(gpu.uuid),
    memoryTotalMiB: optionalNumber(gpu.memoryTotalMib),
    memoryUsedMiB: optionalNumber(gpu.memoryUsedMib),
    memoryFreeMiB: optionalNumber(gpu.memoryFreeMib),
    utilizationPct: optionalNumber(gpu.utilizationPct),
    temperatureC: optionalNumber(gpu.temperatureC),
    powerW: optionalNumber(gpu.powerW),
    unifiedMemory: Boolean(gpu.unifiedMemory),
  };
}

function backendJson(backend: WireBackend): BackendJson {
  return {
    id: backend.id,
    kind: backend.kind,
    url: backend.url,
    healthy: Boolean(backend.healthy),
    version: text(backend.version),
    error: text(backend.error),
    models: (backend.models ?? []).map((model) => ({
      id: model.id,
      loaded: Boolean(model.loaded),
      contextLength: contextLength(model.contextLength),
      maxConcurrency: model.maxConcurrency ?? 0,
      inflight: model.inflight ?? 0,
    })),
  };
}

function flattenModels(backends: BackendJson[]): NodeModelJson[] {
  const byKey = new Map<string, NodeModelJson>();
  for (const backend of backends) {
    for (const model of backend.models) {
      const key = `${backend.id}\u0000${model.id}`;
      const seen = byKey.get(key);
      if (seen) {
        seen.loaded ||= model.loaded;
        seen.contextLength ??= model.contextLength;
      } else {
        byKey.set(key, {
          id: model.id,
          backend: backend.id,
          loaded: model.loaded,
          contextLength: model.contextLength,
        });
      }
    }
  }
  return [...byKey.values()];
}

function systemJson(system: WireSystemFacts): SystemJson {
  return {
    hostname: system.hostname,
    platform: system.platform,
    distro: system.distro,
    release: system.release,
    arch: system.arch,
    cpuModel: system.cpuModel,
    cpuCores: system.cpuCores ?? 0,
    cpuLoadPct: system.cpuLoadPct ?? 0,
    memTotalBytes: system.memTotalBytes ?? 0,
    memAvailableBytes: system.memAvailableBytes ?? 0,
  };
}

function emptyView(): WirePeerView {
  return {
    node: null,
    self: true,
    state: 'alive',
    stateSinceMs: 0,
    lastHeartbeatAgeMs: 0,
    address: '',
    outboundOk: true,
    inboundOk: true,
    problem: '',
    compatible: true,
    settling: false,
  };
}

function text(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}

function optionalNumber(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function positive(value: number | null | undefined): number | null {
  return typeof value === 'number' && value > 0 ? value : null;
}

function contextLength(value: number | null | undefined): number | null {
  return typeof value === 'number' && value > 0 ? value : null;
}
