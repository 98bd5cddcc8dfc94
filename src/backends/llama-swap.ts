// llama-swap adapter (BACKENDS.md §2). A model counts as loaded only when /running says `ready`;
// llama-swap starts models on demand, so unloaded ones are still servable (after a swap).
// Concurrency is the upstream server's business and not visible here, so it comes from config/default.
import { BackendError, ErrorCodes } from '../errors.js';
import {
  type BackendAdapter,
  guardProbe,
  modelInfo,
  type ProbeContext,
  type ProbeResult,
} from './adapter.js';
import { getJson, getText, type HttpOptions } from './http.js';
import { parseSwapModels, parseSwapRunning, readyModels } from './parse/llama-swap.js';

/** Probe a llama-swap at baseUrl (no /v1). */
export async function probe(baseUrl: string, ctx: ProbeContext): Promise<ProbeResult> {
  return guardProbe(async () => {
    const http: HttpOptions = { timeoutMs: ctx.timeoutMs, signal: ctx.signal, apiKey: ctx.apiKey };
    const [health, modelsBody, ready] = await Promise.all([
      // /health says only that llama-swap itself answers (200 "OK"); a non-2xx throws.
      getText(`${baseUrl}/health`, http),
      getJson(`${baseUrl}/v1/models`, http),
      runningReady(baseUrl, http),
    ]);
    // Anything else (llama-server's JSON) means another server took the port: let detection redo it.
    if (health.trim() !== 'OK') {
      throw new BackendError(
        ErrorCodes.BACKEND_BAD_RESPONSE,
        `${baseUrl}/health answered ${JSON.stringify(health.slice(0, 80))}, not llama-swap's "OK"; ` +
          'is another server on this port?',
      );
    }
    const models = parseSwapModels(modelsBody, `${baseUrl}/v1/models`).map((m) =>
      modelInfo(ctx, {
        id: m.id,
        loaded: ready ? ready.has(m.id) : m.listedLoaded === true,
        contextLength: m.contextLength,
      }),
    );
    // llama-swap has no version route.
    return { healthy: true, version: null, error: null, models };
  });
}

/** The llama-swap adapter. */
export const llamaSwapAdapter: BackendAdapter = { kind: 'llama-swap', probe };

// null when /running cannot be read: then /v1/models' status (≥v236) is the fallback.
async function runningReady(baseUrl: string, http: HttpOptions): Promise<Set<string> | null> {
  try {
    return readyModels(parseSwapRunning(await getJson(`${baseUrl}/running`, http), `${baseUrl}/running`));
  } catch (err) {
    if (err instanceof BackendError) return null;
    throw err;
  }
}
