// Small builders of peer views for scheduling tests.
import type { WireBackend, WireGpu, WireModel, WireNodeInfo, WirePeerView } from '../../../src/rpc/wire.js';

/** A model as a backend reports it; idle, cold, capacity 4, context 8192 unless told. */
export function model(id: string, over: Partial<WireModel> = {}): WireModel {
  return { id, loaded: false, contextLength: 8192, maxConcurrency: 4, inflight: 0, ...over };
}

/** A healthy Ollama backend with the given models. */
export function backend(models: WireModel[], over: Partial<WireBackend> = {}): WireBackend {
  return {
    id: 'ollama@127.0.0.1:11434',
    kind: 'ollama',
    url: 'http://127.0.0.1:11434',
    healthy: true,
    version: '0.12.0',
    error: '',
    models,
    ...over,
  };
}

/** One GPU with `freeMib` free. */
export function gpu(freeMib: number): WireGpu {
  return {
    index: 0,
    vendor: 'nvidia',
    name: 'RTX 3090',
    uuid: 'GPU-1',
    memoryFreeMib: freeMib,
    unifiedMemory: false,
  };
}

/** An alive, active, two-way reachable peer (or self) view. */
export function view(
  name: string,
  backends: WireBackend[],
  over: { self?: boolean; node?: Partial<WireNodeInfo>; view?: Partial<WirePeerView> } = {},
): WirePeerView {
  const node: WireNodeInfo = {
    id: `id-${name}`,
    name,
    endpoints: [`${name}:8766`],
    protocol: { major: 1, minor: 0 },
    incarnation: 1,
    activity: 'ACTIVITY_ACTIVE',
    gpus: [],
    backends,
    system: null,
    softwareVersion: '0.1.0',
    inflight: 0,
    generation: 1,
    activityReason: '',
    ...over.node,
  };
  return {
    node,
    self: over.self ?? false,
    state: 'alive',
    stateSinceMs: 0,
    lastHeartbeatAgeMs: 100,
    address: `${name}:8766`,
    outboundOk: true,
    inboundOk: true,
    problem: '',
    compatible: true,
    settling: false,
    ...over.view,
  };
}
