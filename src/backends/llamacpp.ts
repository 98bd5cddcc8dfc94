// llama.cpp llama-server adapter (BACKENDS.md §4). While the model loads every route answers 503;
// that is reported as unhealthy with LLAMACPP_LOADING so people see it is coming up, not broken.
import { BackendError } from '../errors.js';
import {
  type BackendAdapter,
  guardProbe,
  modelInfo,
  type ProbeContext,
  type ProbeResult,
  unhealthy,
} from './adapter.js';
import { getJson, type HttpOptions, requestText } from './http.js';
import { tryParseJson } from './parse/json.js';
import {
  type LlamaCppProps,
  parseLlamaCppHealth,
  parseLlamaCppModels,
  parseLlamaCppProps,
} from './parse/llamacpp.js';

/** The `error` of a llama-server that is still loading its model. */
export const LLAMACPP_LOADING = 'loading model';

/** Probe a llama-server at baseUrl (no /v1). */
export async function probe(baseUrl: string, ctx: ProbeContext): Promise<ProbeResult> {
  return guardProbe(async () => {
    const http: HttpOptions = { timeoutMs: ctx.timeoutMs, signal: ctx.signal, apiKey: ctx.apiKey };
    const health = await requestText(`${baseUrl}/health`, http);
    const state = parseLlamaCppHealth(health.status, tryParseJson(health.text));
    if (state === 'loading') return unhealthy(LLAMACPP_LOADING);
    if (state === 'failed') {
      return unhealthy(
        `${baseUrl}/health answered HTTP ${health.status} ${JSON.stringify(health.text.slice(0, 80))}, ` +
          'not llama-server\'s {"status":"ok"}',
      );
    }
    const [props, modelsBody] = await Promise.all([
      readProps(`${baseUrl}/props`, http),
      getJson(`${baseUrl}/v1/models`, http),
    ]);
    const cards = parseLlamaCppModels(modelsBody, `${baseUrl}/v1/models`);
    const models = await Promise.all(
      cards.map(async (card) => {
        // Router mode: many models, each with its own status; /props (without ?model=) is the
        // router's. A loaded model is a llama-server of its own: its /props, asked through the
        // router without loading anything, gives its slots (-np) and per-slot context.
        if (card.routerLoaded !== null) {
          const own = card.routerLoaded
            ? await readProps(`${baseUrl}/props?model=${encodeURIComponent(card.id)}&autoload=false`, http)
            : null;
          return modelInfo(
            ctx,
            {
              id: card.id,
              loaded: card.routerLoaded,
              contextLength: card.contextLength ?? own?.nCtx ?? null,
            },
            own?.totalSlots ?? null,
          );
        }
        return modelInfo(
          ctx,
          { id: card.id, loaded: true, contextLength: props?.nCtx ?? card.contextLength },
          props?.totalSlots ?? null,
        );
      }),
    );
    return { healthy: true, version: props?.build ?? null, error: null, models };
  });
}

/** The llama.cpp adapter. */
export const llamaCppAdapter: BackendAdapter = { kind: 'llamacpp', probe };

// /props adds context and slots; without it (odd builds, a router model that just unloaded) the
// models still serve.
async function readProps(url: string, http: HttpOptions): Promise<LlamaCppProps | null> {
  try {
    return parseLlamaCppProps(await getJson(url, http));
  } catch (err) {
    if (err instanceof BackendError) return null;
    throw err;
  }
}
