// What this node knows about one peer, and the pure views computed from it
// (the PeerView swarmctl shows, one-way reachability, whether it may take work).
import type { WireActivity, WireGpu, WireNodeInfo, WirePeerView, WireProtocolVersion } from '../rpc/wire.js';
import type { LivenessState } from './peer-state.js';

/** How we learned of a peer. */
export type PeerSource = 'mdns' | 'static' | 'hint' | 'inbound';

/** Everything tracked per peer. Times ending in Mono are monotonic ms. */
export interface PeerRecord {
  id: string;
  /** Last full NodeInfo from RegisterNode (null until the first one arrives). */
  info: WireNodeInfo | null;
  live: LivenessState;
  /** Advertised endpoints (from mDNS, RegisterNode or static config). */
  endpoints: string[];
  /** The endpoint that answered, used for heartbeats. */
  address: string | null;
  lastOutboundOkMono: number | null;
  outboundFailures: number;
  lastInboundMono: number | null;
  /** When we first met it (monotonic), to give one-way checks time to settle. */
  metMono: number;
  activity: WireActivity;
  activityReason: string;
  inflight: number;
  gpus: WireGpu[];
  generation: number;
  protocol: WireProtocolVersion | null;
  compatible: boolean;
  /** Another process claims this id from elsewhere (a cloned disk image). */
  conflict: { detail: string; untilMono: number } | null;
  sources: Set<PeerSource>;
  /** A dial (RegisterNode on every endpoint) is running. */
  dialing: boolean;
  nextDialMono: number;
  dialBackoffMs: number;
  heartbeatInFlight: boolean;
  heartbeatSeq: number;
  /** Highest heartbeat seq received in the current incarnation (older ones are replays). */
  lastInboundSeq: number;
  /** Something to tell the user about this peer (removed, missed a credential rotation). */
  note: string | null;
  /** Live requests per `backendId|modelId`, from its latest heartbeat. */
  modelInflight: Record<string, number>;
}

/** Both directions confirmed within the dead timeout. */
export function reachability(record: PeerRecord, nowMono: number, deadAfterMs: number) {
  const outbound = record.lastOutboundOkMono !== null && nowMono - record.lastOutboundOkMono <= deadAfterMs;
  const inbound = record.lastInboundMono !== null && nowMono - record.lastInboundMono <= deadAfterMs;
  return { outbound, inbound };
}

/** A one-line description of what is wrong with a peer, or '' when nothing is. */
export function peerProblem(
  record: PeerRecord,
  nowMono: number,
  deadAfterMs: number,
  ourMajor: number,
): string {
  if (!record.compatible && record.protocol) {
    return `speaks protocol ${record.protocol.major}.${record.protocol.minor}; this node speaks ${ourMajor}.x: upgrade the older one`;
  }
  if (record.conflict && record.conflict.untilMono > nowMono) return record.conflict.detail;
  if (record.note) return record.note;
  if (record.live.liveness !== 'alive' && record.live.liveness !== 'suspect') return '';
  const { outbound, inbound } = reachability(record, nowMono, deadAfterMs);
  const settled = nowMono - record.metMono > deadAfterMs;
  if (inbound && !outbound && settled) {
    return `one-way: it reaches us but we cannot dial it at ${record.endpoints.join(', ') || 'any endpoint'} (firewall on its peer port?)`;
  }
  if (outbound && !inbound && settled) {
    return 'one-way: we reach it but its heartbeats do not reach us (firewall on our peer port, or it cannot route to us?)';
  }
  return '';
}

/** True when a peer may be chosen as a worker: alive, compatible, active and reachable both ways. */
export function isUsableWorker(record: PeerRecord, nowMono: number, deadAfterMs: number): boolean {
  const { outbound, inbound } = reachability(record, nowMono, deadAfterMs);
  return (
    record.live.liveness === 'alive' &&
    record.compatible &&
    record.activity === 'ACTIVITY_ACTIVE' &&
    record.info !== null &&
    outbound &&
    inbound
  );
}

/** The PeerView that swarmctl shows for a peer. */
export function toPeerView(
  record: PeerRecord,
  nowMono: number,
  deadAfterMs: number,
  ourMajor: number,
): WirePeerView {
  const { outbound, inbound } = reachability(record, nowMono, deadAfterMs);
  const heardMono = Math.max(record.lastInboundMono ?? -Infinity, record.lastOutboundOkMono ?? -Infinity);
  const node: WireNodeInfo | null = record.info
    ? {
        ...record.info,
        activity: record.activity,
        activityReason: record.activityReason,
        inflight: record.inflight,
        gpus: record.gpus.length > 0 ? record.gpus : record.info.gpus,
        incarnation: record.live.incarnation,
        // Load changes every request: take it from the latest heartbeat, not the cached NodeInfo.
        backends: record.info.backends.map((backend) => ({
          ...backend,
          models: backend.models.map((model) => ({
            ...model,
            inflight: record.modelInflight[`${backend.id}|${model.id}`] ?? 0,
          })),
        })),
      }
    : null;
  return {
    node: node ?? {
      id: record.id,
      name: record.id,
      endpoints: record.endpoints,
      protocol: record.protocol,
      incarnation: record.live.incarnation,
      activity: record.activity,
      gpus: [],
      backends: [],
      system: null,
      softwareVersion: '',
      inflight: 0,
      generation: 0,
      activityReason: record.activityReason,
    },
    self: false,
    state: record.live.liveness,
    stateSinceMs: record.live.stateSinceWall,
    lastHeartbeatAgeMs: Number.isFinite(heardMono) ? Math.max(0, nowMono - heardMono) : -1,
    address: record.address ?? '',
    outboundOk: outbound,
    inboundOk: inbound,
    problem: peerProblem(record, nowMono, deadAfterMs, ourMajor),
    compatible: record.compatible,
  };
}
