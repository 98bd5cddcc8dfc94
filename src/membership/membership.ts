// Membership: the live peer table. Dials peers found by mDNS, static config or hints
// (RegisterNode on every endpoint in parallel, first answer wins), heartbeats each
// peer about once a second, answers peers' RegisterNode/Heartbeat, and runs the
// failure detector. Liveness comes from heartbeats only, never from mDNS.
import * as grpc from '@grpc/grpc-js';
import { errorMessage } from '../errors.js';
import type { PeerClientPool } from '../rpc/peer-client.js';
import type {
  HeartbeatRequest,
  HeartbeatResponse,
  RegisterNodeRequest,
  RegisterNodeResponse,
  WireNodeInfo,
  WirePeerHint,
  WirePeerView,
  WireProtocolVersion,
} from '../rpc/wire.js';
import { monotonicMs, wallMs } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { isUsableWorker, type PeerRecord, type PeerSource, reachability, toPeerView } from './peer-record.js';
import { applySilence, initialLiveness, type Liveness, onHeard, onLeft, shouldForget } from './peer-state.js';
import type { SelfNode } from './self-node.js';
import { checkProtocol, isNodeId, validateHeartbeat, validateNodeInfo } from './validate.js';

export interface MembershipInit {
  heartbeatIntervalMs: number;
  suspectAfterMs: number;
  deadAfterMs: number;
  rpcTimeoutMs: number;
  forgetAfterMs: number;
  staticPeers: readonly string[];
}

/** A peer's liveness changed. */
export interface MembershipEvent {
  id: string;
  name: string;
  from: Liveness | 'unknown';
  to: Liveness;
  /** The peer came back as a new process (new incarnation): whatever it was doing for us is gone. */
  restarted?: boolean;
}

/**
 * Checks that a call really comes from the node it claims to be (its TLS certificate names
 * that node id); throws to refuse. Absent in plaintext tests of membership alone.
 */
export type Authorize = (call: unknown, claimedNodeId: string) => void;

interface StaticTarget {
  endpoint: string;
  nextDialMono: number;
  backoffMs: number;
  dialing: boolean;
  resolvedId: string | null;
  warned: boolean;
}

const MAX_DIAL_BACKOFF_MS = 10_000;
const DETECTOR_TICK_MS = 100;

/** A gRPC error with a status, for refusing a peer's call. */
export function statusError(code: grpc.status, message: string): grpc.ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: new grpc.Metadata() });
}

/** The swarm as this node sees it. */
export class Membership {
  private readonly peers = new Map<string, PeerRecord>();
  private readonly statics: StaticTarget[];
  private readonly listeners = new Set<(event: MembershipEvent) => void>();
  private readonly updateListeners = new Set<() => void>();
  /** Peers with a check (an extra heartbeat) in flight after a failed call. */
  private readonly probing = new Set<string>();
  private readonly warnedOnce = new Set<string>();
  private readonly logger: Logger;
  private readonly self: SelfNode;
  private readonly pool: PeerClientPool;
  private readonly init: MembershipInit;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private detectorTimer: NodeJS.Timeout | undefined;
  private lastTickMono = 0;
  private slackMs = 0;
  private selfConflict: { detail: string; untilMono: number } | null = null;
  private stopped = false;
  private readonly authorize: Authorize | undefined;

  constructor(
    components: { logger: Logger; self: SelfNode; pool: PeerClientPool; authorize?: Authorize },
    init: MembershipInit,
  ) {
    this.logger = components.logger;
    this.self = components.self;
    this.pool = components.pool;
    this.authorize = components.authorize;
    this.init = init;
    this.statics = init.staticPeers.map((endpoint) => ({
      endpoint,
      nextDialMono: 0,
      backoffMs: 500,
      dialing: false,
      resolvedId: null,
      warned: false,
    }));
  }

  /** Start heartbeating and failure detection; dial static peers at once. */
  start(): void {
    this.stopped = false;
    this.lastTickMono = monotonicMs();
    this.heartbeatTimer = setInterval(() => this.heartbeatRound(), this.init.heartbeatIntervalMs);
    this.detectorTimer = setInterval(() => this.detectorTick(), DETECTOR_TICK_MS);
    this.dialStatics();
  }

  /** Stop timers. Call leave() first for a clean goodbye. Safe to call twice. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.detectorTimer);
    this.heartbeatTimer = undefined;
    this.detectorTimer = undefined;
  }

  /** Tell every reachable peer we are leaving, so they mark us `left` at once. */
  async leave(timeoutMs = 500): Promise<void> {
    const targets = this.heartbeatTargets();
    await Promise.allSettled(
      targets.map((peer) =>
        this.pool.heartbeat(
          peer.address!,
          this.heartbeatRequest(peer, 'ACTIVITY_LEAVING'),
          timeoutMs,
          peer.id,
        ),
      ),
    );
  }

  /**
   * Heartbeat every reachable peer now, outside the interval: used when this node's activity
   * changes (paused, draining) so peers stop routing to it at once. Resolves when each answered
   * or timed out; never throws.
   */
  async heartbeatNow(timeoutMs = this.init.rpcTimeoutMs): Promise<void> {
    if (this.stopped || !this.pool.ready()) return;
    const sentMono = monotonicMs();
    await Promise.allSettled(
      this.heartbeatTargets().map((peer) =>
        this.pool
          .heartbeat(peer.address!, this.heartbeatRequest(peer), timeoutMs, peer.id)
          .then((reply) => this.acceptHeartbeatReply(peer, reply, sentMono)),
      ),
    );
  }

  /** Peers a heartbeat can reach now: compatible, with an address, alive or suspect. */
  private heartbeatTargets(): PeerRecord[] {
    return [...this.peers.values()].filter(
      (peer) =>
        peer.address !== null &&
        peer.compatible &&
        (peer.live.liveness === 'alive' || peer.live.liveness === 'suspect'),
    );
  }

  /** Listen for liveness changes. Returns an unsubscribe function. */
  onChange(listener: (event: MembershipEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Listen for changes that may make a peer usable without a liveness change: its NodeInfo
   * arrived, a direction was confirmed again, a failed call's check was answered.
   */
  onUpdate(listener: () => void): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  /**
   * A call to a peer failed (its task channel broke, a dial or an admission failed): give it no
   * work from now on, without waiting for the failure detector, and check it at once with a
   * heartbeat. Any answer to a heartbeat or RegisterNode sent after this moment, or a new
   * process, makes it usable again; silence makes it suspect and dead as usual.
   */
  reportUnreachable(id: string, why: string): void {
    const record = this.peers.get(id);
    if (!record || record.unreachableSinceMono !== null) return;
    if (record.live.liveness !== 'alive' && record.live.liveness !== 'suspect') return;
    record.unreachableSinceMono = monotonicMs();
    this.logger.info(
      { peer: id, name: record.info?.name, why },
      'peer unreachable: no work for it until it answers',
    );
    this.probe(record);
  }

  /** A peer advertised itself (mDNS) or was named by another peer (hint). */
  discovered(
    peer: { id: string; endpoints: string[]; protocol: WireProtocolVersion },
    source: PeerSource,
  ): void {
    if (peer.id === this.self.id || !isNodeId(peer.id)) return;
    const now = monotonicMs();
    let record = this.peers.get(peer.id);
    if (!record) {
      record = this.newRecord(peer.id, peer.endpoints, peer.protocol, now);
      // Seen but not heard from: suspect until it answers, dead if it never does.
      record.live = { ...record.live, liveness: 'suspect' };
      this.peers.set(peer.id, record);
    } else if (peer.endpoints.length > 0) {
      record.endpoints = mergeEndpoints(peer.endpoints, record.endpoints);
    }
    record.sources.add(source);
    // Only verified members reach here (advert proof checked): a peer that re-joined is welcome again.
    if (source === 'mdns' && record.note !== 'removed from the swarm') record.note = null;
    record.protocol = peer.protocol;
    record.compatible = peer.protocol.major === this.self.protocol.major;
    if (!record.compatible) {
      this.warnOnce(`incompatible:${peer.id}:${peer.protocol.major}.${peer.protocol.minor}`, {
        peer: peer.id,
        version: `${peer.protocol.major}.${peer.protocol.minor}`,
        msg: `peer speaks protocol ${peer.protocol.major}.${peer.protocol.minor}, this node speaks ${this.self.protocol.major}.x: ignoring it (upgrade the older node)`,
      });
      return;
    }
    if (!record.address || record.live.liveness === 'dead') {
      record.nextDialMono = 0;
      this.dial(record);
    }
  }

  /** Handle a peer's RegisterNode: validate, record, answer with our info and known peers. */
  handleRegister(request: RegisterNodeRequest, call?: unknown): RegisterNodeResponse {
    const info = this.checkIncoming(() => validateNodeInfo(request.node));
    this.checkCaller(call, info.id);
    this.checkCompatible(info.id, info.protocol!);
    this.checkNotSelf(info.id, info.incarnation, info.endpoints);
    const now = monotonicMs();
    const before = this.peers.get(info.id)?.live.incarnation;
    const record = this.absorbInfo(info, now, 'inbound');
    if (record) {
      record.lastInboundMono = now;
      if (before !== undefined && before !== 0 && record.live.incarnation !== before) this.reconnect(record);
      if (!record.address) this.dial(record);
      // Confirm our direction at once instead of at the next heartbeat round: a peer that just
      // started (or restarted) is usable one round trip after it calls us.
      else if (!reachability(record, now, this.init.deadAfterMs).outbound) this.probe(record);
    }
    return { node: this.self.info(), peers: this.hints(info.id) };
  }

  /** Handle a peer's Heartbeat: proof of life, live load, or a clean goodbye. */
  handleHeartbeat(request: HeartbeatRequest, call?: unknown): HeartbeatResponse {
    this.checkIncoming(() => validateHeartbeat(request));
    this.checkCaller(call, request.nodeId);
    if (request.protocol) this.checkCompatible(request.nodeId, request.protocol);
    this.checkNotSelf(request.nodeId, request.incarnation, []);
    const now = monotonicMs();
    const record = this.peers.get(request.nodeId);
    const reply: HeartbeatResponse = {
      nodeId: this.self.id,
      incarnation: this.self.incarnation,
      wantInfo: false,
      activity: this.self.activity,
    };
    if (!record?.info) {
      reply.wantInfo = true;
      return reply;
    }
    // A heartbeat older than one already seen from this incarnation is a replay: ignore it.
    if (request.incarnation === record.live.incarnation && request.seq <= record.lastInboundSeq) return reply;
    if (request.activity === 'ACTIVITY_LEAVING') {
      record.lastInboundSeq = request.seq;
      this.setLiveness(record, onLeft(record.live, request.incarnation, wallMs()));
      return reply;
    }
    const heard = this.hear(record, request.incarnation, now);
    if (heard === 'stale') return reply;
    if (heard === 'restarted') {
      this.reconnect(record);
      this.probe(record);
    }
    const wasInbound =
      record.lastInboundMono !== null && now - record.lastInboundMono <= this.init.deadAfterMs;
    record.lastInboundSeq = request.seq;
    record.lastInboundMono = now;
    if (!wasInbound) this.updated();
    record.activity = request.activity;
    record.activityReason = request.activityReason;
    record.inflight = request.inflight;
    record.modelInflight = request.modelInflight;
    if (request.gpus.length > 0) record.gpus = request.gpus;
    if (heard === 'restarted' || request.generation !== record.generation) reply.wantInfo = true;
    return reply;
  }

  /** Every peer as swarmctl shows it, this node first. */
  views(): WirePeerView[] {
    const now = monotonicMs();
    const selfView: WirePeerView = {
      node: this.self.info(),
      self: true,
      state: 'alive',
      stateSinceMs: this.self.incarnation,
      lastHeartbeatAgeMs: 0,
      address: '',
      outboundOk: true,
      inboundOk: true,
      problem: this.selfConflict && this.selfConflict.untilMono > now ? this.selfConflict.detail : '',
      compatible: true,
      settling: false,
    };
    const others = [...this.peers.values()]
      .map((record) => toPeerView(record, now, this.init.deadAfterMs, this.self.protocol.major))
      .sort((a, b) => (a.node?.name ?? '').localeCompare(b.node?.name ?? ''));
    return [selfView, ...others];
  }

  /** Peers that may be given work now (alive, active, compatible, reachable both ways). */
  workers(): PeerRecord[] {
    const now = monotonicMs();
    return [...this.peers.values()].filter((record) => isUsableWorker(record, now, this.init.deadAfterMs));
  }

  /** One peer's record, for diagnostics and tests. */
  peer(id: string): PeerRecord | undefined {
    return this.peers.get(id);
  }

  /** Static peers configured but never answered, for doctor. */
  unreachableStatics(): string[] {
    return this.statics.filter((target) => target.resolvedId === null).map((target) => target.endpoint);
  }

  /** Members we can hand credentials to: alive or suspect, with a known address. */
  reachableMembers(): PeerRecord[] {
    return [...this.peers.values()].filter(
      (record) =>
        record.compatible &&
        record.info !== null &&
        record.note === null &&
        record.address !== null &&
        (record.live.liveness === 'alive' || record.live.liveness === 'suspect'),
    );
  }

  /** Every peer that is a member as far as we know (not left, not removed). */
  knownMembers(): PeerRecord[] {
    return [...this.peers.values()].filter(
      (record) =>
        record.compatible && record.info !== null && record.note === null && record.live.liveness !== 'left',
    );
  }

  /** Mark a peer with a note for the user (removed, missed a rotation); it is no longer dialled. */
  notePeer(id: string, note: string): void {
    const record = this.peers.get(id);
    if (!record) return;
    record.note = note;
    if (record.address) this.pool.close(record.address);
    record.address = null;
  }

  /** Credentials changed: drop every connection and find every peer again with the new ones. */
  resetConnections(): void {
    this.pool.closeAll();
    for (const record of this.peers.values()) {
      record.address = null;
      record.nextDialMono = 0;
      record.dialBackoffMs = 500;
      record.outboundFailures = 0;
    }
    for (const target of this.statics) {
      target.nextDialMono = 0;
      target.backoffMs = 500;
    }
    this.heartbeatRound();
  }

  // ------------------------------------------------------------------ internals

  private newRecord(
    id: string,
    endpoints: string[],
    protocol: WireProtocolVersion | null,
    now: number,
  ): PeerRecord {
    return {
      id,
      info: null,
      infoStale: false,
      unreachableSinceMono: null,
      live: initialLiveness(0, now, wallMs()),
      endpoints: [...endpoints],
      address: null,
      lastOutboundOkMono: null,
      outboundFailures: 0,
      lastInboundMono: null,
      metMono: now,
      activity: 'ACTIVITY_ACTIVE',
      activityReason: '',
      inflight: 0,
      gpus: [],
      generation: 0,
      protocol,
      compatible: protocol === null || protocol.major === this.self.protocol.major,
      conflict: null,
      sources: new Set(),
      dialing: false,
      nextDialMono: 0,
      dialBackoffMs: 500,
      heartbeatInFlight: false,
      heartbeatSeq: 0,
      lastInboundSeq: 0,
      note: null,
      modelInflight: {},
    };
  }

  /** Record a full NodeInfo (from RegisterNode either way). Returns null for stale info. */
  private absorbInfo(info: WireNodeInfo, now: number, source: PeerSource): PeerRecord | null {
    let record = this.peers.get(info.id);
    if (!record) {
      record = this.newRecord(info.id, info.endpoints, info.protocol, now);
      this.peers.set(info.id, record);
      record.live = initialLiveness(info.incarnation, now, wallMs());
      this.emit(record, 'unknown', 'alive');
      this.logger.info({ peer: info.id, name: info.name, endpoints: info.endpoints }, 'peer joined');
    } else {
      const firstInfo = record.info === null;
      const heard = this.hear(record, info.incarnation, now);
      if (heard === 'stale') return null;
      if (firstInfo)
        this.logger.info({ peer: info.id, name: info.name, endpoints: info.endpoints }, 'peer joined');
    }
    record.sources.add(source);
    if (record.note !== 'removed from the swarm') record.note = null;
    // A new process still looking at its model servers may list none yet: keep its previous
    // process's backends (stale) until it is done, so requests for them wait instead of a 404.
    if (!(info.starting && record.infoStale)) {
      record.info = info;
      record.infoStale = false;
    }
    record.endpoints = mergeEndpoints(info.endpoints, record.endpoints);
    record.activity = info.activity;
    record.activityReason = info.activityReason;
    record.inflight = info.inflight;
    record.gpus = info.gpus;
    record.generation = info.generation;
    record.protocol = info.protocol;
    record.compatible = true;
    this.updated();
    return record;
  }

  /** Apply a proof of life; detects restarts and cloned ids. */
  private hear(
    record: PeerRecord,
    incarnation: number,
    now: number,
  ): 'alive' | 'revived' | 'restarted' | 'stale' | 'ignored-left' {
    const before = record.live.liveness;
    if (record.live.incarnation === 0) record.live = { ...record.live, incarnation };
    const result = onHeard(record.live, incarnation, now, wallMs());
    if (result.event === 'stale') {
      // A restart never goes back in time: two live processes claim this id.
      record.conflict = {
        detail: `two nodes claim id ${record.id} (incarnations ${incarnation} and ${record.live.incarnation}): a cloned disk image? delete node-id in the data dir of one of them and restart it`,
        untilMono: now + 30_000,
      };
      this.warnOnce(`conflict:${record.id}:${incarnation}`, { peer: record.id, msg: record.conflict.detail });
      return 'stale';
    }
    record.live = result.state;
    if (result.event === 'restarted') {
      this.logger.info({ peer: record.id, name: record.info?.name }, 'peer restarted (new incarnation)');
      // Its models are likely the same: keep them listed (marked stale, not usable) until the new
      // process's NodeInfo arrives, so a request for them waits a moment instead of a 404.
      record.infoStale = record.info !== null;
      record.unreachableSinceMono = null;
      record.metMono = now;
      // Answers of the previous process prove nothing about reaching this one, either way.
      record.lastInboundMono = null;
      record.lastOutboundOkMono = null;
      record.lastInboundSeq = 0;
    }
    if (record.live.liveness !== before || result.event === 'restarted')
      this.emit(record, before, record.live.liveness, result.event === 'restarted');
    return result.event;
  }

  private setLiveness(record: PeerRecord, next: PeerRecord['live']): void {
    const before = record.live.liveness;
    record.live = next;
    if (before !== next.liveness) {
      this.emit(record, before, next.liveness);
      this.logger.info(
        { peer: record.id, name: record.info?.name, from: before, to: next.liveness },
        `peer ${next.liveness}`,
      );
    }
  }

  private emit(record: PeerRecord, from: Liveness | 'unknown', to: Liveness, restarted = false): void {
    const event: MembershipEvent = {
      id: record.id,
      name: record.info?.name ?? record.id,
      from,
      to,
      ...(restarted && { restarted }),
    };
    for (const listener of this.listeners) listener(event);
  }

  /** RegisterNode on every endpoint in parallel; the first that answers becomes the address. */
  private dial(record: PeerRecord): void {
    if (this.stopped || record.dialing || record.endpoints.length === 0 || !record.compatible) return;
    if (record.note !== null || !this.pool.ready()) return;
    const now = monotonicMs();
    if (now < record.nextDialMono) return;
    record.dialing = true;
    const sentMono = now;
    const request: RegisterNodeRequest = { node: this.self.info() };
    const attempts = record.endpoints.map((endpoint) =>
      this.pool
        .register(endpoint, request, this.init.rpcTimeoutMs)
        .then((response) => ({ endpoint, response })),
    );
    Promise.any(attempts)
      .then(({ endpoint, response }) => {
        record.dialBackoffMs = 500;
        this.acceptRegisterReply(endpoint, response, record.id, sentMono);
      })
      .catch((err: AggregateError) => {
        if (isGone(record)) {
          record.nextDialMono = monotonicMs() + redialDelayMs(monotonicMs() - record.live.lastHeardMono);
        } else {
          record.nextDialMono = monotonicMs() + record.dialBackoffMs;
          record.dialBackoffMs = Math.min(record.dialBackoffMs * 2, MAX_DIAL_BACKOFF_MS);
        }
        this.logger.debug(
          { peer: record.id, endpoints: record.endpoints, err: errorMessage(err.errors?.[0] ?? err) },
          'dial failed',
        );
      })
      .finally(() => {
        record.dialing = false;
      });
  }

  /** A RegisterNode reply: the callee's info and its peers (dialled in turn). */
  private acceptRegisterReply(
    endpoint: string,
    response: RegisterNodeResponse,
    expectedId: string | null,
    sentMono: number,
  ): void {
    let info: WireNodeInfo;
    try {
      info = validateNodeInfo(response.node);
      checkProtocol('node.protocol', info.protocol);
    } catch (err) {
      this.warnOnce(`bad-reply:${endpoint}`, {
        endpoint,
        msg: `peer at ${endpoint} sent an invalid RegisterNode reply: ${errorMessage(err)}`,
      });
      return;
    }
    if (info.id === this.self.id) return;
    if (info.protocol!.major !== this.self.protocol.major) {
      this.discovered({ id: info.id, endpoints: info.endpoints, protocol: info.protocol! }, 'static');
      return;
    }
    if (expectedId && info.id !== expectedId) {
      this.warnOnce(`moved:${endpoint}:${info.id}`, {
        endpoint,
        msg: `expected node ${expectedId} at ${endpoint} but ${info.id} answered (addresses changed?)`,
      });
    }
    const now = monotonicMs();
    const record = this.absorbInfo(info, now, 'static');
    if (!record) return;
    record.address = endpoint;
    record.lastOutboundOkMono = now;
    record.outboundFailures = 0;
    this.answered(record, sentMono);
    // A heartbeat right away proves our direction to it (it may just have met or restarted us),
    // and carries our generation: if what we just sent is already outdated, it asks again.
    this.probe(record);
    for (const hint of response.peers) this.acceptHint(hint);
  }

  private acceptHint(hint: WirePeerHint): void {
    if (!isNodeId(hint.id) || hint.id === this.self.id || this.peers.has(hint.id)) return;
    this.discovered(
      { id: hint.id, endpoints: hint.endpoints.slice(0, 16), protocol: this.self.protocol },
      'hint',
    );
  }

  private hints(excludeId: string): WirePeerHint[] {
    return [...this.peers.values()]
      .filter((record) => record.id !== excludeId && record.compatible && record.live.liveness === 'alive')
      .map((record) => ({ id: record.id, endpoints: record.endpoints }));
  }

  private heartbeatRequest(record: PeerRecord, activity = this.self.activity): HeartbeatRequest {
    record.heartbeatSeq++;
    return {
      nodeId: this.self.id,
      incarnation: this.self.incarnation,
      seq: record.heartbeatSeq,
      activity,
      inflight: this.self.inflight(),
      generation: this.self.generation,
      gpus: [],
      activityReason: this.self.activityReason,
      protocol: { ...this.self.protocol },
      modelInflight: this.self.modelInflight(),
    };
  }

  private heartbeatRound(): void {
    if (this.stopped || !this.pool.ready()) return;
    for (const record of this.peers.values()) {
      if (!record.compatible || record.note !== null) continue;
      // A dead or departed peer may come back as a new process, maybe at a new address: dial
      // its endpoints again, less often the longer it has been gone, until it is forgotten.
      if (!record.address || isGone(record)) {
        this.dial(record);
        continue;
      }
      if (record.heartbeatInFlight) continue;
      record.heartbeatInFlight = true;
      const address = record.address;
      const sentMono = monotonicMs();
      this.pool
        .heartbeat(address, this.heartbeatRequest(record), this.init.rpcTimeoutMs, record.id)
        .then((reply) => this.acceptHeartbeatReply(record, reply, sentMono))
        .catch((err: grpc.ServiceError) => this.heartbeatFailed(record, address, err))
        .finally(() => {
          record.heartbeatInFlight = false;
        });
    }
    this.dialStatics();
  }

  private acceptHeartbeatReply(record: PeerRecord, reply: HeartbeatResponse, sentMono: number): void {
    if (reply.nodeId !== record.id) {
      // Someone else answers at that address now: find the peer again.
      record.address = null;
      this.dial(record);
      return;
    }
    const now = monotonicMs();
    const heard = this.hear(record, reply.incarnation, now);
    if (heard === 'stale') return;
    const wasOutbound = reachability(record, now, this.init.deadAfterMs).outbound;
    record.lastOutboundOkMono = now;
    record.outboundFailures = 0;
    record.activity = reply.activity;
    if (!this.answered(record, sentMono) && !wasOutbound) this.updated();
    if (reply.wantInfo || heard === 'restarted' || !record.info) {
      record.nextDialMono = 0;
      this.dial(record);
    }
  }

  /**
   * A heartbeat or RegisterNode sent at `sentMono` was answered: a failed call before that
   * moment no longer keeps the peer from work. True when that cleared such a mark.
   */
  private answered(record: PeerRecord, sentMono: number): boolean {
    if (record.unreachableSinceMono === null || sentMono < record.unreachableSinceMono) return false;
    record.unreachableSinceMono = null;
    this.logger.info({ peer: record.id, name: record.info?.name }, 'peer answers again');
    this.updated();
    return true;
  }

  /**
   * The peer called us as a new process: drop our connections to its address, so the next call
   * dials it at once instead of waiting out a reconnect backoff left from while it was down.
   */
  private reconnect(record: PeerRecord): void {
    if (record.address) this.pool.close(record.address);
  }

  /** Heartbeat one peer now, outside the round (one check at a time per peer). */
  private probe(record: PeerRecord): void {
    const address = record.address;
    if (this.stopped || !address || this.probing.has(record.id) || !this.pool.ready()) return;
    this.probing.add(record.id);
    const sentMono = monotonicMs();
    this.pool
      .heartbeat(address, this.heartbeatRequest(record), this.init.rpcTimeoutMs, record.id)
      .then((reply) => this.acceptHeartbeatReply(record, reply, sentMono))
      .catch(() => undefined) // the round and the failure detector carry on as usual
      .finally(() => this.probing.delete(record.id));
  }

  private updated(): void {
    for (const listener of this.updateListeners) listener();
  }

  private heartbeatFailed(record: PeerRecord, address: string, err: grpc.ServiceError): void {
    record.outboundFailures++;
    if (err.code === grpc.status.FAILED_PRECONDITION || err.code === grpc.status.ALREADY_EXISTS) {
      this.warnOnce(`refused:${record.id}:${err.code}`, {
        peer: record.id,
        msg: `peer refused our heartbeat: ${err.details}`,
      });
    }
    // Two misses in a row: the address may have changed; try every endpoint again.
    if (record.outboundFailures >= 2 && record.endpoints.length > 1) {
      this.pool.close(address);
      record.address = null;
      this.dial(record);
    }
  }

  private detectorTick(): void {
    const now = monotonicMs();
    const gap = now - this.lastTickMono;
    this.lastTickMono = now;
    // Our own timers firing late means we are starved (CPU hog): inbound heartbeats may be
    // waiting unprocessed, so grant peers the time we lost instead of blaming them.
    this.slackMs =
      gap > DETECTOR_TICK_MS * 3 ? Math.max(this.slackMs, gap) : Math.max(0, this.slackMs - DETECTOR_TICK_MS);
    const timings = { suspectAfterMs: this.init.suspectAfterMs, deadAfterMs: this.init.deadAfterMs };
    for (const record of [...this.peers.values()]) {
      if (!record.compatible) continue;
      this.setLiveness(record, applySilence(record.live, timings, now, wallMs(), this.slackMs));
      if (shouldForget(record.live, this.init.forgetAfterMs, now)) {
        this.peers.delete(record.id);
        if (record.address) this.pool.close(record.address);
      }
    }
  }

  private dialStatics(): void {
    if (!this.pool.ready()) return;
    const now = monotonicMs();
    for (const target of this.statics) {
      if (target.dialing || now < target.nextDialMono) continue;
      const known = target.resolvedId ? this.peers.get(target.resolvedId) : undefined;
      // Dialled again while its node is dead or left (it may come back, even as a new process),
      // never once that node was removed from the swarm.
      if (known && (known.note !== null || !isGone(known))) continue;
      target.dialing = true;
      const sentMono = now;
      this.pool
        .register(target.endpoint, { node: this.self.info() }, this.init.rpcTimeoutMs)
        .then((response) => {
          target.backoffMs = 500;
          target.resolvedId = response.node?.id ?? null;
          if (target.warned) this.logger.info({ endpoint: target.endpoint }, 'static peer reachable again');
          target.warned = false;
          this.acceptRegisterReply(target.endpoint, response, null, sentMono);
          const record = target.resolvedId ? this.peers.get(target.resolvedId) : undefined;
          record?.sources.add('static');
        })
        .catch((err: grpc.ServiceError) => {
          const gone = target.resolvedId ? this.peers.get(target.resolvedId) : undefined;
          if (gone && isGone(gone)) {
            target.nextDialMono = monotonicMs() + redialDelayMs(monotonicMs() - gone.live.lastHeardMono);
          } else {
            target.nextDialMono = monotonicMs() + target.backoffMs;
            target.backoffMs = Math.min(target.backoffMs * 2, MAX_DIAL_BACKOFF_MS * 3);
          }
          if (!target.warned) {
            target.warned = true;
            this.logger.warn(
              { endpoint: target.endpoint, err: err.details ?? errorMessage(err) },
              `static peer ${target.endpoint} does not answer; retrying in the background (check the address, that swarmd runs there, and that port is open)`,
            );
          }
        })
        .finally(() => {
          target.dialing = false;
        });
    }
  }

  /** Run a validation; turn a PeerError into INVALID_ARGUMENT, logged once per reason. */
  private checkIncoming<T>(check: () => T): T {
    try {
      return check();
    } catch (err) {
      const message = errorMessage(err);
      this.warnOnce(`invalid:${message}`, { msg: `refused a peer message: ${message}` });
      throw statusError(grpc.status.INVALID_ARGUMENT, message);
    }
  }

  /** Refuse a call whose TLS identity is not the node it claims to be. */
  private checkCaller(call: unknown, claimedId: string): void {
    if (!this.authorize) return;
    try {
      this.authorize(call, claimedId);
    } catch (err) {
      const message = errorMessage(err);
      this.warnOnce(`unauthorized:${claimedId}:${message}`, {
        peer: claimedId,
        msg: `refused a peer call: ${message}`,
      });
      throw statusError(grpc.status.PERMISSION_DENIED, message);
    }
  }

  private checkCompatible(id: string, protocol: WireProtocolVersion): void {
    if (protocol.major === this.self.protocol.major) return;
    const now = monotonicMs();
    let record = this.peers.get(id);
    if (!record) {
      record = this.newRecord(id, [], protocol, now);
      this.peers.set(id, record);
    }
    record.protocol = protocol;
    record.compatible = false;
    const message = `protocol ${protocol.major}.${protocol.minor} is not supported: this node speaks ${this.self.protocol.major}.x (upgrade the older node)`;
    this.warnOnce(`incompatible:${id}:${protocol.major}.${protocol.minor}`, {
      peer: id,
      msg: `refused peer: ${message}`,
    });
    throw statusError(grpc.status.FAILED_PRECONDITION, message);
  }

  private checkNotSelf(id: string, incarnation: number, endpoints: string[]): void {
    if (id !== this.self.id) return;
    if (incarnation === this.self.incarnation) {
      // Our own message came back (we dialled one of our own addresses): not a conflict.
      throw statusError(grpc.status.ALREADY_EXISTS, 'that is this node itself');
    }
    const detail = `another node claims this node's id ${id}${endpoints.length ? ` from ${endpoints.join(', ')}` : ''}: a cloned disk image? delete node-id in the data dir of one of them and restart it`;
    this.selfConflict = { detail, untilMono: monotonicMs() + 30_000 };
    this.warnOnce(`self-conflict:${incarnation}`, { msg: detail });
    throw statusError(grpc.status.ALREADY_EXISTS, detail);
  }

  private warnOnce(key: string, fields: Record<string, unknown> & { msg: string }): void {
    if (this.warnedOnce.has(key)) return;
    if (this.warnedOnce.size > 10_000) this.warnedOnce.clear();
    this.warnedOnce.add(key);
    const { msg, ...rest } = fields;
    this.logger.warn(rest, msg);
  }
}

/** Dead or left: heartbeats stop, dials continue with backoff (it may come back). */
function isGone(record: PeerRecord): boolean {
  return record.live.liveness === 'dead' || record.live.liveness === 'left';
}

/**
 * How long to wait before dialling a peer gone for `goneForMs` again: a quarter of that time,
 * from 0.5 s to 10 s. A quick restart is found within a second, and a box switched off for an
 * hour costs a dial every 10 s until membership.forgetAfter.
 */
export function redialDelayMs(goneForMs: number): number {
  return Math.min(MAX_DIAL_BACKOFF_MS, Math.max(500, goneForMs / 4));
}

/** Newest endpoints first, no duplicates, bounded. */
function mergeEndpoints(fresh: readonly string[], old: readonly string[]): string[] {
  return [...new Set([...fresh, ...old])].slice(0, 16);
}
