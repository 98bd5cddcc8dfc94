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
  /** It restarted and the new process's NodeInfo has not arrived yet: `info` is the old one's. */
  infoStale: boolean;
  /**
   * A call to it failed (task channel broke, dial or admission failed): it gets no work until a
   * heartbeat sent after this moment is answered, or it comes back as a new process. Null: none.
   */
  unreachableSinceMono: number | null;
  live: LivenessState;
  /** Advertised endpoints (from mDNS, RegisterNode or static config). */
  endpoints: string[];
  /** The endpoint that answered, used for heartbeats. */
  address: string | null;
  lastOutboundOkMono: number | null;
  outboundFailures: number;
  lastInboundMono: number | null;
  /** When we first met it or its new process (monotonic), to give one-way checks time to settle. */
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
  if (record.unreachableSinceMono !== null)
    return 'a call to it failed just now (connection refused or broken): checking that it is still there';
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

/**
 * True when a peer may be chosen as a worker: alive, compatible, active, its current process's
 * NodeInfo known, reachable both ways, and no call to it failed since it last answered.
 */
export function isUsableWorker(record: PeerRecord, nowMono: number, deadAfterMs: number): boolean {
  const { outbound, inbound } = reachability(record, nowMono, deadAfterMs);
  return (
    record.live.liveness === 'alive' &&
    record.compatible &&
    record.activity === 'ACTIVITY_ACTIVE' &&
    record.info !== null &&
    !record.infoStale &&
    !record.info.starting &&
    record.unreachableSinceMono === null &&
    outbound &&
    inbound
  );
}

/**
 * Alive but not usable yet, and expected to be in a moment: a call to it just failed and it is
 * being checked again, it restarted and its new NodeInfo is on its way, it is still looking at
 * its model servers (starting), or it was met (or came back as a new process) less than
 * deadAfter ago and one direction is not confirmed yet.
 */
export function isSettling(record: PeerRecord, nowMono: number, deadAfterMs: number): boolean {
  if (record.live.liveness !== 'alive' || !record.compatible) return false;
  if (record.unreachableSinceMono !== null || record.infoStale || record.info?.starting) return true;
  const { outbound, inbound } = reachability(record, nowMono, deadAfterMs);
  return !(outbound && inbound) && nowMono - record.metMono <= deadAfterMs;
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
    // A call that failed since its last answer says more about reaching it than that answer.
    outboundOk: outbound && record.unreachableSinceMono === null,
    inboundOk: inbound,
    problem: peerProblem(record, nowMono, deadAfterMs, ourMajor),
    compatible: record.compatible,
    settling: isSettling(record, nowMono, deadAfterMs),
  };
}
