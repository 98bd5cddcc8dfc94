// This node as its peers see it: identity, incarnation, activity, and the facts and
// backends it offers. `generation` moves whenever something a peer caches changes.
import type { BackendStatus } from '../backends/types.js';
import type { NodeFacts } from '../node/types.js';
import { backendToWire, gpuToWire, systemToWire } from '../rpc/convert.js';
import { PROTOCOL_VERSION } from '../rpc/proto.js';
import type { WireActivity, WireNodeInfo } from '../rpc/wire.js';

export interface SelfNodeInit {
  id: string;
  name: string;
  softwareVersion: string;
  /** Advertised gRPC endpoints (host:port). */
  endpoints: () => string[];
  facts: () => NodeFacts | null;
  backends: () => BackendStatus[];
  /** Requests this node runs right now, in total and per model id. */
  inflight?: () => { total: number; byModel: (backendId: string, modelId: string) => number };
  protocol?: { major: number; minor: number };
  /** True until the first look at this node's model servers is done (default: never). */
  starting?: () => boolean;
}

/** The local node's identity and state, the source of what RegisterNode and Heartbeat send. */
export class SelfNode {
  readonly id: string;
  readonly name: string;
  /** Process start (ms epoch): a restart is a new incarnation that voids the old one. */
  readonly incarnation: number;
  readonly protocol: { major: number; minor: number };
  private activityValue: WireActivity = 'ACTIVITY_ACTIVE';
  private reason = '';
  private generationValue = 1;
  private readonly init: SelfNodeInit;
  private readonly listeners = new Set<() => void>();

  constructor(init: SelfNodeInit) {
    this.init = init;
    this.id = init.id;
    this.name = init.name;
    this.incarnation = Date.now();
    this.protocol = init.protocol ?? { ...PROTOCOL_VERSION };
  }

  get activity(): WireActivity {
    return this.activityValue;
  }

  get activityReason(): string {
    return this.reason;
  }

  get generation(): number {
    return this.generationValue;
  }

  /** Something peers cache (facts, backends, endpoints, activity) changed. */
  bump(): void {
    this.generationValue++;
    for (const listener of this.listeners) listener();
  }

  /** Called after every change (each bump); returns the function that removes the listener. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Change activity (paused, draining, leaving); peers learn it with the next heartbeat. */
  setActivity(activity: WireActivity, reason = ''): void {
    if (activity === this.activityValue && reason === this.reason) return;
    this.activityValue = activity;
    this.reason = reason;
    this.bump();
  }

  /** Requests running on this node now. */
  inflight(): number {
    return this.init.inflight?.().total ?? 0;
  }

  /** Requests running per `backendId|modelId`, only the non-zero ones (sent with every heartbeat). */
  modelInflight(): Record<string, number> {
    const counts = this.init.inflight?.();
    const out: Record<string, number> = {};
    if (!counts || counts.total === 0) return out;
    for (const backend of this.init.backends()) {
      for (const model of backend.models) {
        const n = counts.byModel(backend.id, model.id);
        if (n > 0) out[`${backend.id}|${model.id}`] = n;
      }
    }
    return out;
  }

  /** The full NodeInfo sent with RegisterNode. */
  info(): WireNodeInfo {
    const facts = this.init.facts();
    const counts = this.init.inflight?.();
    return {
      id: this.id,
      name: this.name,
      endpoints: this.init.endpoints(),
      protocol: { ...this.protocol },
      incarnation: this.incarnation,
      activity: this.activityValue,
      gpus: facts ? facts.gpus.map(gpuToWire) : [],
      backends: this.init
        .backends()
        .map((backend) => backendToWire(backend, (modelId) => counts?.byModel(backend.id, modelId) ?? 0)),
      system: facts ? systemToWire(facts.system) : null,
      softwareVersion: this.init.softwareVersion,
      inflight: counts?.total ?? 0,
      generation: this.generationValue,
      activityReason: this.reason,
      starting: this.init.starting?.() ?? false,
    };
  }
}
