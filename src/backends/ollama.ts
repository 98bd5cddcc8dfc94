// Ollama adapter (BACKENDS.md §1): installed models from /api/tags, resident ones from /api/ps,
// trained context length from /api/show. Concurrency (OLLAMA_NUM_PARALLEL) is not visible remotely.
import { BackendError } from '../errors.js';
import {
  type BackendAdapter,
  guardProbe,
  modelInfo,
  type ProbeContext,
  type ProbeResult,
} from './adapter.js';
import { getJson, type HttpOptions, postJson } from './http.js';
import {
  contextLengthFromShow,
  type OllamaTag,
  parseOllamaPs,
  parseOllamaTags,
  parseOllamaVersion,
} from './parse/ollama.js';

// /api/show answers are fixed per model digest (content hash), so one answer serves every later
// probe of every server holding that model. Bounded so a box that churns models cannot grow it forever.
const SHOW_CACHE_LIMIT = 4096;
const showCache = new Map<string, number | null>();
// Enough parallel /api/show calls to be quick on a first probe without flooding the server.
const SHOW_PARALLEL = 4;

/** Probe an Ollama server at baseUrl (no /v1). */
export async function probe(baseUrl: string, ctx: ProbeContext): Promise<ProbeResult> {
  return guardProbe(async () => {
    const http: HttpOptions = { timeoutMs: ctx.timeoutMs, signal: ctx.signal, apiKey: ctx.apiKey };
    const [versionBody, tagsBody, psBody] = await Promise.all([
      getJson(`${baseUrl}/api/version`, http),
      getJson(`${baseUrl}/api/tags`, http),
      getJson(`${baseUrl}/api/ps`, http),
    ]);
    const version = parseOllamaVersion(versionBody, `${baseUrl}/api/version`);
    const tags = parseOllamaTags(tagsBody, `${baseUrl}/api/tags`);
    const loaded = parseOllamaPs(psBody, `${baseUrl}/api/ps`);
    // Loaded models report the num_ctx they run with (≥v0.9.7); the rest need the trained maximum.
    const needShow = tags.filter((t) => loaded.get(t.name)?.contextLength == null);
    const trained = await trainedContextLengths(baseUrl, needShow, http);
    const models = tags.map((t) => {
      const running = loaded.get(t.name);
      return modelInfo(ctx, {
        id: t.name,
        loaded: running !== undefined,
        contextLength: running?.contextLength ?? trained.get(t.name) ?? null,
        sizeVramBytes: running?.sizeVramBytes ?? null,
      });
    });
    return { healthy: true, version, error: null, models };
  });
}

/** The Ollama adapter. */
export const ollamaAdapter: BackendAdapter = { kind: 'ollama', probe };

async function trainedContextLengths(
  baseUrl: string,
  tags: OllamaTag[],
  http: HttpOptions,
): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  const queue = [...tags];
  const worker = async () => {
    for (let tag = queue.shift(); tag !== undefined; tag = queue.shift()) {
      out.set(tag.name, await trainedContextLength(baseUrl, tag, http));
    }
  };
  await Promise.all(Array.from({ length: Math.min(SHOW_PARALLEL, queue.length) }, worker));
  return out;
}

async function trainedContextLength(
  baseUrl: string,
  tag: OllamaTag,
  http: HttpOptions,
): Promise<number | null> {
  // Without a digest the name is the best key; scoped to the server since names are not global.
  const key = tag.digest ?? `${baseUrl}#${tag.name}`;
  if (showCache.has(key)) return showCache.get(key) ?? null;
  try {
    const length = contextLengthFromShow(await postJson(`${baseUrl}/api/show`, { model: tag.name }, http));
    if (showCache.size >= SHOW_CACHE_LIMIT) showCache.delete(showCache.keys().next().value!);
    showCache.set(key, length);
    return length;
  } catch (err) {
    // One model's details failing (deleted mid-probe, slow disk) must not hide the whole server;
    // not cached, so the next probe asks again.
    if (err instanceof BackendError) return null;
    throw err;
  }
}
