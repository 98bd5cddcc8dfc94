// Pure readers for Ollama's native API bodies (BACKENDS.md §1): /api/version, /api/tags,
// /api/ps and /api/show. Old servers omit fields newer ones send; both read the same.
import {
  badShape,
  isListOrNull,
  isObject,
  numberOf,
  objectOf,
  objectsOf,
  positiveIntOf,
  stringOf,
} from './json.js';

/** An installed model from /api/tags. */
export interface OllamaTag {
  name: string;
  /** Content hash of the model; the cache key for /api/show answers. */
  digest: string | null;
}

/** A model resident in memory, from /api/ps. */
export interface OllamaLoaded {
  name: string;
  sizeVramBytes: number | null;
  /** num_ctx the runner was loaded with; null before v0.9.7, which did not send it. */
  contextLength: number | null;
}

/** The version string of /api/version. */
export function parseOllamaVersion(body: unknown, source: string): string {
  const version = stringOf(objectOf(body).version);
  if (version === null) throw badShape(source, '{"version": "..."}', body);
  return version;
}

/** Installed models; `"models": null` (nothing installed) reads as none. */
export function parseOllamaTags(body: unknown, source: string): OllamaTag[] {
  if (!isObject(body) || !isListOrNull(body.models ?? null)) throw badShape(source, 'a model list', body);
  const tags: OllamaTag[] = [];
  for (const m of objectsOf(body.models)) {
    const name = stringOf(m.name) ?? stringOf(m.model);
    if (name !== null) tags.push({ name, digest: stringOf(m.digest) });
  }
  return tags;
}

/** Loaded models by name. */
export function parseOllamaPs(body: unknown, source: string): Map<string, OllamaLoaded> {
  if (!isObject(body) || !isListOrNull(body.models ?? null)) throw badShape(source, 'a model list', body);
  const loaded = new Map<string, OllamaLoaded>();
  for (const m of objectsOf(body.models)) {
    const name = stringOf(m.name) ?? stringOf(m.model);
    if (name === null) continue;
    const vram = numberOf(m.size_vram);
    loaded.set(name, {
      name,
      sizeVramBytes: vram !== null && vram >= 0 ? vram : null,
      contextLength: positiveIntOf(m.context_length),
    });
  }
  return loaded;
}

/** Trained context length from /api/show: model_info["<general.architecture>.context_length"]. */
export function contextLengthFromShow(body: unknown): number | null {
  // model_info may be null for remote (cloud) models: then the length is simply unknown.
  const info = objectOf(objectOf(body).model_info);
  const arch = stringOf(info['general.architecture']);
  if (arch !== null) {
    const direct = positiveIntOf(info[`${arch}.context_length`]);
    if (direct !== null) return direct;
  }
  // Some architectures name the key differently from general.architecture; one *.context_length is unambiguous.
  const candidates = Object.keys(info).filter((k) => k.endsWith('.context_length'));
  return candidates.length === 1 ? positiveIntOf(info[candidates[0]!]) : null;
}
