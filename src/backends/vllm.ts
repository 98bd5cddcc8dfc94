// vLLM adapter (BACKENDS.md §3). vLLM serves exactly the models it was started with, so every
// listed model is loaded. /metrics shows load (running/waiting), not capacity, so concurrency
// comes from config or the default.
import { BackendError } from '../errors.js';
import {
  type BackendAdapter,
  guardProbe,
  modelInfo,
  type ProbeContext,
  type ProbeResult,
  unhealthy,
} from './adapter.js';
import { expectOk, getJson, type HttpOptions, parseJson, requestText } from './http.js';
import { parseVllmModels, parseVllmVersion } from './parse/vllm.js';

/** Probe a vLLM server at baseUrl (no /v1). */
export async function probe(baseUrl: string, ctx: ProbeContext): Promise<ProbeResult> {
  return guardProbe(async () => {
    const http: HttpOptions = { timeoutMs: ctx.timeoutMs, signal: ctx.signal, apiKey: ctx.apiKey };
    const [health, version, list] = await Promise.all([
      requestText(`${baseUrl}/health`, http),
      readVersion(baseUrl, http),
      requestText(`${baseUrl}/v1/models`, http),
    ]);
    // 503 with an empty body is vLLM's EngineDeadError: it answers HTTP but cannot generate.
    if (health.status !== 200) {
      return unhealthy(
        `${baseUrl}/health answered HTTP ${health.status}: the vLLM engine is not running`,
        version,
      );
    }
    const models = parseVllmModels(parseJson(expectOk(list)), list.url).map((card) =>
      modelInfo(ctx, { id: card.id, loaded: true, contextLength: card.contextLength }),
    );
    return { healthy: true, version, error: null, models };
  });
}

/** The vLLM adapter. */
export const vllmAdapter: BackendAdapter = { kind: 'vllm', probe };

// The version is nice to show but not needed to serve: a failure here reads as unknown.
async function readVersion(baseUrl: string, http: HttpOptions): Promise<string | null> {
  try {
    return parseVllmVersion(await getJson(`${baseUrl}/version`, http));
  } catch (err) {
    if (err instanceof BackendError) return null;
    throw err;
  }
}
