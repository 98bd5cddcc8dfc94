// LM Studio adapter (BACKENDS.md §5). Reads the richest list the server has: /api/v0/models
// (state, max_context_length), else /api/v1/models (0.4+, loaded instances), else plain /v1/models.
// LM Studio has no version route and does not reveal its parallelism: both come from elsewhere.
import {
  type BackendAdapter,
  guardProbe,
  modelInfo,
  type ProbeContext,
  type ProbeResult,
} from './adapter.js';
import { getJson, type HttpOptions, requestText } from './http.js';
import { tryParseJson } from './parse/json.js';
import { type LmStudioModel, parseLmStudioV0, parseLmStudioV1 } from './parse/lmstudio.js';
import { parseModelList } from './parse/openai.js';

/** Probe an LM Studio server at baseUrl (no /v1). */
export async function probe(baseUrl: string, ctx: ProbeContext): Promise<ProbeResult> {
  return guardProbe(async () => {
    const http: HttpOptions = { timeoutMs: ctx.timeoutMs, signal: ctx.signal, apiKey: ctx.apiKey };
    const listed =
      (await nativeList(baseUrl, '/api/v0/models', parseLmStudioV0, http)) ??
      (await nativeList(baseUrl, '/api/v1/models', parseLmStudioV1, http)) ??
      (await openAiList(baseUrl, http));
    const models = listed.map((m) => modelInfo(ctx, m));
    return { healthy: true, version: null, error: null, models };
  });
}

/** The LM Studio adapter. */
export const lmStudioAdapter: BackendAdapter = { kind: 'lmstudio', probe };

// null when the route is not served: any status, and 200 with an error body, read the same.
async function nativeList(
  baseUrl: string,
  path: string,
  parse: (body: unknown) => LmStudioModel[] | null,
  http: HttpOptions,
): Promise<LmStudioModel[] | null> {
  const res = await requestText(`${baseUrl}${path}`, http);
  return res.status === 200 ? parse(tryParseJson(res.text)) : null;
}

// The OpenAI list has ids only: whether a model is loaded depends on JIT loading, so say not loaded.
async function openAiList(baseUrl: string, http: HttpOptions): Promise<LmStudioModel[]> {
  const cards = parseModelList(await getJson(`${baseUrl}/v1/models`, http), `${baseUrl}/v1/models`);
  return cards.map((c) => ({ id: String(c.id), loaded: false, contextLength: null }));
}
