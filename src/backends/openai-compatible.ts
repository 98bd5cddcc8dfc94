// Adapter for any server with an OpenAI /v1/models list (kind 'openai'): the fallback when a
// server is none of the known kinds. It has no notion of loading, so every listed model is
// taken as ready to serve; context length is read when the card carries one.
import {
  type BackendAdapter,
  guardProbe,
  modelInfo,
  type ProbeContext,
  type ProbeResult,
} from './adapter.js';
import { getJson } from './http.js';
import { cardContextLength, parseModelList } from './parse/openai.js';

/** Probe an OpenAI-compatible server at baseUrl (no /v1). */
export async function probe(baseUrl: string, ctx: ProbeContext): Promise<ProbeResult> {
  return guardProbe(async () => {
    const url = `${baseUrl}/v1/models`;
    const body = await getJson(url, { timeoutMs: ctx.timeoutMs, signal: ctx.signal, apiKey: ctx.apiKey });
    const models = parseModelList(body, url).map((card) =>
      modelInfo(ctx, { id: String(card.id), loaded: true, contextLength: cardContextLength(card) }),
    );
    return { healthy: true, version: null, error: null, models };
  });
}

/** The generic OpenAI-compatible adapter. */
export const openAiAdapter: BackendAdapter = { kind: 'openai', probe };
