// Domain facts → wire messages. One direction only: what a peer sends is validated
// (membership/validate.ts) and kept in wire form.
import type { BackendStatus } from '../backends/types.js';
import type { GpuInfo, SystemFacts } from '../node/types.js';
import type { WireBackend, WireGpu, WireSystemFacts } from './wire.js';

/** A GPU as sent to peers; unknown numbers are left out (proto3 optional). */
export function gpuToWire(gpu: GpuInfo): WireGpu {
  const wire: WireGpu = {
    index: gpu.index,
    vendor: gpu.vendor,
    name: gpu.name,
    uuid: gpu.uuid ?? '',
    unifiedMemory: gpu.unifiedMemory,
  };
  if (gpu.memoryTotalMiB !== null) wire.memoryTotalMib = gpu.memoryTotalMiB;
  if (gpu.memoryUsedMiB !== null) wire.memoryUsedMib = gpu.memoryUsedMiB;
  if (gpu.memoryFreeMiB !== null) wire.memoryFreeMib = gpu.memoryFreeMiB;
  if (gpu.utilizationPct !== null) wire.utilizationPct = gpu.utilizationPct;
  if (gpu.temperatureC !== null) wire.temperatureC = gpu.temperatureC;
  if (gpu.powerW !== null) wire.powerW = gpu.powerW;
  return wire;
}

/** A backend and its models as sent to peers; `inflight` counts come from the caller. */
export function backendToWire(
  backend: BackendStatus,
  inflight: (modelId: string) => number = () => 0,
): WireBackend {
  return {
    id: backend.id,
    kind: backend.kind,
    url: backend.url,
    healthy: backend.healthy,
    version: backend.version ?? '',
    error: backend.error ?? '',
    models: backend.models.map((model) => {
      const wire = {
        id: model.id,
        loaded: model.loaded,
        contextLength: model.contextLength ?? 0,
        maxConcurrency: model.maxConcurrency,
        inflight: inflight(model.id),
      };
      return model.sizeVramBytes === null ? wire : { ...wire, sizeVramBytes: model.sizeVramBytes };
    }),
  };
}

/** Host facts as sent to peers. */
export function systemToWire(system: SystemFacts): WireSystemFacts {
  return { ...system };
}
