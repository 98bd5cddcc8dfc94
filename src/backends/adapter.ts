// The contract every server adapter meets. Today an adapter only says what a server offers
// (probe); invoking models will be added to BackendAdapter as another method, so callers
// already go through this interface rather than calling adapter modules directly.
import { BackendError } from '../errors.js';
import type { BackendKind, ModelInfo } from './types.js';

/** Per-model concurrency overrides from config, by model id. */
export type ModelOverrides = Record<string, { maxConcurrency: number }>;

/** What a probe needs besides the base URL. */
export interface ProbeContext {
  /** Deadline of each HTTP request the probe makes. */
  timeoutMs: number;
  /** Aborts the whole probe (daemon shutdown); aborting rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Sent as `Authorization: Bearer` when the server wants a key. */
  apiKey?: string;
  /** Per-model concurrency when neither config nor the server says. */
  defaultMaxConcurrency: number;
  /** Server-wide concurrency from config; beats what the server reveals. */
  maxConcurrency?: number;
  /** Per-model concurrency from config; beats everything else. */
  modelOverrides: ModelOverrides;
}

/** What one probe learned. A server that is down or unreadable gives healthy false, never a throw. */
export interface ProbeResult {
  healthy: boolean;
  version: string | null;
  /** Why the server is not usable now; null when healthy. */
  error: string | null;
  /** Empty when unhealthy: nothing a down server lists can be served. */
  models: ModelInfo[];
}

/** Probes one kind of server. */
export type ProbeFn = (baseUrl: string, ctx: ProbeContext) => Promise<ProbeResult>;

/** One server kind's adapter. */
export interface BackendAdapter {
  readonly kind: BackendKind;
  probe: ProbeFn;
}

/** Concurrency of one model: config per model, then config per server, then the server, then default. */
export function resolveMaxConcurrency(modelId: string, fromServer: number | null, ctx: ProbeContext): number {
  return (
    ctx.modelOverrides[modelId]?.maxConcurrency ??
    ctx.maxConcurrency ??
    fromServer ??
    ctx.defaultMaxConcurrency
  );
}

/** A ModelInfo with concurrency resolved; the rest comes from the server. */
export function modelInfo(
  ctx: ProbeContext,
  model: { id: string; loaded: boolean; contextLength: number | null; sizeVramBytes?: number | null },
  serverConcurrency: number | null = null,
): ModelInfo {
  return {
    id: model.id,
    loaded: model.loaded,
    contextLength: model.contextLength,
    maxConcurrency: resolveMaxConcurrency(model.id, serverConcurrency, ctx),
    sizeVramBytes: model.sizeVramBytes ?? null,
  };
}

/** The result of a probe that found the server unusable. */
export function unhealthy(error: string, version: string | null = null): ProbeResult {
  return { healthy: false, version, error, models: [] };
}

/** Run a probe body, turning BackendErrors (down, unreadable) into an unhealthy result. */
export async function guardProbe(body: () => Promise<ProbeResult>): Promise<ProbeResult> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof BackendError) return unhealthy(err.message);
    throw err;
  }
}
